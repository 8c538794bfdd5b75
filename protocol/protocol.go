// Package protocol defines evidence protocols v1 and v2: the JSON the gateway
// serves at GET /attestation, the REPORT_DATA binding of a browser nonce and
// the gateway's HPKE public key (and, in v2, the key of the TLS certificate
// the gateway serves), and the sealed enrollment upload of POST /enroll.
//
// It is shared by the gateway (inside the CVM), the verifier and the browser
// build, so it depends on nothing but the standard library and internal/sha2
// and builds for js/wasm; the receipt's HMAC (receipt_mac.go) is native
// only, since the page checks receipts with WebCrypto. The HPKE suite and sealing are in package
// protocol/seal, so that a verifier does not link HPKE.
//
// # Binding
//
//	v1: REPORT_DATA = SHA-512("cvmtrust-evidence-v1" || 0x00 || nonce || hpke.public_key)
//	v2: REPORT_DATA = SHA-512("cvmtrust-evidence-v2" || 0x00 || nonce || tls.spki_sha256 || hpke.public_key)
//
// nonce is 32 bytes, tls.spki_sha256 is SHA-256 of the DER
// SubjectPublicKeyInfo of the certificate the gateway serves (32 bytes), and
// hpke.public_key is the rest. Every field but the last has a fixed length,
// so the input parses one way only, and the versioned label keeps v1 and v2
// inputs apart. A gateway serves v2 only when it made its TLS key itself
// and never lets it out (ACME mode); the evidence then carries
// "tls": {"spki_sha256": "<base64>"}. Enrollment and receipts are the same
// in both versions (EnrollRequest.Version stays 1).
//
// # Sealing
//
//	body = HPKE.Seal(pk, info = "cvmtrust-enroll-v1" || SHA-384(report), plaintext)
//
// # Receipt
//
//	k   = HPKE Export(exporter_context = "cvmtrust-receipt-v1", L = 32) of the upload's context
//	mac = HMAC-SHA256(k, "cvmtrust-receipt-v1" || len‖version || len‖receipt_id || len‖status || len‖report_sha384 || len‖received_at)
//
// with len a 4-byte big-endian length, version in decimal ASCII and
// report_sha384 the 48 raw bytes (ReceiptMAC). Every upload has its own
// encapsulation and so its own k: a receipt of another upload, or one made by
// anyone without the attested private key, does not check.
//
// The report hash in the info means a ciphertext can only be opened by a
// gateway that accepts it as sealed to that very report.
package protocol

import (
	"errors"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
)

// Version is evidence protocol v1, and the version of EnrollRequest and
// Receipt under both evidence versions.
const Version = 1

// VersionTLS is evidence protocol v2: v1 with the gateway's TLS key bound.
const VersionTLS = 2

// NonceSize is the size in bytes of the browser's nonce.
const NonceSize = 32

// ReportSize is the size of an SEV-SNP ATTESTATION_REPORT.
const ReportSize = 1184

const (
	evidenceLabel   = "cvmtrust-evidence-v1"
	evidenceLabelV2 = "cvmtrust-evidence-v2"
	enrollLabel     = "cvmtrust-enroll-v1"
)

// Evidence is the JSON document served at GET /attestation.
type Evidence struct {
	Version int     `json:"version"`
	Report  []byte  `json:"report"`
	Certs   Certs   `json:"certs"`
	HPKE    HPKEKey `json:"hpke"`
	// TLS is set in evidence v2 only.
	TLS     *TLSKey  `json:"tls,omitempty"`
	Release *Release `json:"release,omitempty"`
}

// TLSKey names the key of the TLS certificate the gateway serves.
type TLSKey struct {
	// SPKISHA256 is SHA-256 of the certificate's DER SubjectPublicKeyInfo.
	SPKISHA256 []byte `json:"spki_sha256"`
}

// Certs carries the endorsement key certificate and its chain. Both are
// optional: without them the verifier fetches them from a KDS proxy.
type Certs struct {
	VCEK  []byte `json:"vcek,omitempty"`  // DER
	VLEK  []byte `json:"vlek,omitempty"`  // DER
	Chain string `json:"chain,omitempty"` // PEM: ASK or ASVK, then ARK
}

// HPKEKey names the gateway's HPKE suite and carries its public key.
type HPKEKey struct {
	KEM       string `json:"kem"`
	KDF       string `json:"kdf"`
	AEAD      string `json:"aead"`
	PublicKey []byte `json:"public_key"`
}

// Release names the release the gateway claims to run. It is a claim, not
// evidence: the verifier checks the report's MEASUREMENT against what the
// caller expects, never against this.
type Release struct {
	Name        string `json:"name"`
	ManifestURL string `json:"manifest_url,omitempty"`
}

// EnrollRequest is the JSON body of POST /enroll. ReportSHA384 tells the
// gateway which of the reports it served the ciphertext is sealed to; the
// gateway recomputes the HPKE info from its own copy of that report.
type EnrollRequest struct {
	Version      int    `json:"version"`
	ReportSHA384 []byte `json:"report_sha384"`
	KEM          string `json:"kem"`
	Ciphertext   []byte `json:"ciphertext"` // HPKE enc || ciphertext, as Seal returns it
}

// Capture is the plaintext inside an EnrollRequest's ciphertext.
type Capture struct {
	ContentType string `json:"content_type"` // "image/jpeg"
	Image       []byte `json:"image"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
}

// Receipt is the gateway's answer to a successful POST /enroll.
type Receipt struct {
	Version      int    `json:"version"`
	ReceiptID    string `json:"receipt_id"`
	Status       string `json:"status"` // StatusEnrolled or StatusAlreadyEnrolled
	ReportSHA384 []byte `json:"report_sha384"`
	ReceivedAt   string `json:"received_at"` // RFC 3339
	// MAC authenticates the other fields under the upload's receipt key
	// (ReceiptMAC). Only the holder of the attested private key can compute
	// it, and it is bound to this one upload.
	MAC []byte `json:"mac"`
}

// Receipt statuses: uniqueness is the service's point, so the receipt says
// whether this person was new.
const (
	StatusEnrolled        = "enrolled"
	StatusAlreadyEnrolled = "already_enrolled"
)

// ErrorBody is the JSON of every 4xx/5xx answer from the gateway.
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// Suite names. The default KEM is the post-quantum hybrid: a face image must
// stay secret for decades, so harvest-now-decrypt-later matters.
const (
	KEMMLKEM768X25519 = "MLKEM768-X25519"
	KEMX25519         = "DHKEM-X25519-HKDF-SHA256"
	KDFHKDFSHA256     = "HKDF-SHA256"
	AEADAES256GCM     = "AES-256-GCM"
)

// Errors returned by this package, matchable with errors.Is.
var (
	ErrNonceSize  = errors.New("protocol: nonce must be 32 bytes")
	ErrReportSize = errors.New("protocol: report must be 1184 bytes")
	ErrTLSKeySize = errors.New("protocol: the TLS key hash must be 32 bytes (SHA-256)")
)

// TLSKeySize is the size of TLSKey.SPKISHA256.
const TLSKeySize = 32

// ReportData returns the v1 binding of a nonce and an HPKE public key, the
// value the gateway asks the firmware to place in REPORT_DATA.
func ReportData(nonce, hpkePublicKey []byte) ([64]byte, error) {
	if len(nonce) != NonceSize {
		return [64]byte{}, errfmt.Errorf("%w: got %d", ErrNonceSize, len(nonce))
	}
	return reportData(evidenceLabel, nonce, hpkePublicKey), nil
}

// ReportDataV2 returns the v2 binding of a nonce, the SHA-256 of the
// gateway's TLS SubjectPublicKeyInfo and its HPKE public key.
func ReportDataV2(nonce, tlsSPKISHA256, hpkePublicKey []byte) ([64]byte, error) {
	if len(nonce) != NonceSize {
		return [64]byte{}, errfmt.Errorf("%w: got %d", ErrNonceSize, len(nonce))
	}
	if len(tlsSPKISHA256) != TLSKeySize {
		return [64]byte{}, errfmt.Errorf("%w: got %d", ErrTLSKeySize, len(tlsSPKISHA256))
	}
	return reportData(evidenceLabelV2, nonce, tlsSPKISHA256, hpkePublicKey), nil
}

func reportData(label string, fields ...[]byte) [64]byte {
	h := sha2.New512()
	h.Write([]byte(label))
	h.Write([]byte{0})
	for _, f := range fields {
		h.Write(f)
	}
	var out [64]byte
	h.Sum(out[:0])
	return out
}

// EnrollInfo returns the HPKE info for an upload sealed to the key bound in
// report: "cvmtrust-enroll-v1" || SHA-384(report).
func EnrollInfo(report []byte) []byte {
	return EnrollInfoForHash(sha2.Sum384(report))
}

// EnrollInfoForHash is EnrollInfo from the report's SHA-384, which is all a
// gateway needs to keep of a report it served.
func EnrollInfoForHash(reportSHA384 [48]byte) []byte {
	return append([]byte(enrollLabel), reportSHA384[:]...)
}
