//go:build !js

package protocol

// The receipt's MAC is computed by the gateway and checked by native
// clients; the page checks it with WebCrypto (web/verifier.js), so the
// browser build leaves this file out and does not link crypto/hmac, which
// brings SHA-3 and the FIPS 140 module with it.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
)

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
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
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
