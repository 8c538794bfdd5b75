package protocol

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strconv"

	"github.com/cvmtrust/cvmtrust/internal/endian"
)

// ReceiptLabel is the HPKE exporter context of the receipt key and the
// prefix of the MACed message.
const ReceiptLabel = "cvmtrust-receipt-v1"

// ReceiptKeySize is the length of the receipt key exported from the upload's
// HPKE context.
const ReceiptKeySize = 32

// ErrReceiptMAC means a receipt does not carry a valid MAC under the upload's
// receipt key: it was not made by the gateway the upload was sealed to, or it
// belongs to another upload, or a field was changed.
var ErrReceiptMAC = errors.New("protocol: the receipt's MAC does not check with this upload's receipt key")

// receiptMessage is the MACed message: the label, then each field as a
// 4-byte big-endian length and its bytes.
func receiptMessage(r Receipt) []byte {
	fields := [][]byte{
		[]byte(strconv.Itoa(r.Version)),
		[]byte(r.ReceiptID),
		[]byte(r.Status),
		r.ReportSHA384,
		[]byte(r.ReceivedAt),
	}
	msg := []byte(ReceiptLabel)
	for _, f := range fields {
		msg = endian.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	return msg
}

// ReceiptMAC returns HMAC-SHA256(key, message of r); r.MAC is ignored.
func ReceiptMAC(key []byte, r Receipt) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(receiptMessage(r))
	return m.Sum(nil)
}

// VerifyReceipt checks r.MAC against key, the receipt key exported from the
// HPKE context of the upload r answers. It returns ErrReceiptMAC unless the
// MAC checks.
func VerifyReceipt(key []byte, r Receipt) error {
	if len(key) != ReceiptKeySize || !hmac.Equal(r.MAC, ReceiptMAC(key, r)) {
		return ErrReceiptMAC
	}
	return nil
}
