//go:build !js

package protocol_test

import (
	"errors"
	"fmt"

	"github.com/cvmtrust/cvmtrust/protocol"
)

// A client checks the gateway's receipt with the key its own HPKE context
// exported for this upload (seal.SealWithReceiptKey returns it).
func ExampleVerifyReceipt() {
	key := make([]byte, protocol.ReceiptKeySize) // from seal.SealWithReceiptKey
	rc := protocol.Receipt{
		Version:      1,
		ReceiptID:    "00112233445566778899aabbccddeeff",
		Status:       protocol.StatusEnrolled,
		ReportSHA384: make([]byte, 48),
		ReceivedAt:   "2026-11-29T06:00:00Z",
	}
	rc.MAC = protocol.ReceiptMAC(key, rc) // what the gateway computes

	fmt.Println(protocol.VerifyReceipt(key, rc))
	rc.Status = protocol.StatusAlreadyEnrolled // changed on the way
	fmt.Println(errors.Is(protocol.VerifyReceipt(key, rc), protocol.ErrReceiptMAC))
	// Output:
	// <nil>
	// true
}
