package protocol

import "errors"

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
