// Package seal is the HPKE side of evidence protocol v1: the cipher suites
// a gateway may announce and the sealing of an upload to the key a verified
// report binds. It is apart from package protocol so that verifying evidence
// does not link HPKE.
package seal

import (
	"crypto/ecdh"
	"crypto/hpke"
	"errors"
	"fmt"

	"github.com/cvmtrust/cvmtrust/protocol"
)

// Errors returned by this package, matchable with errors.Is.
var (
	ErrUnknownKEM  = errors.New("seal: unsupported HPKE KEM")
	ErrUnknownKDF  = errors.New("seal: unsupported HPKE KDF")
	ErrUnknownAEAD = errors.New("seal: unsupported HPKE AEAD")
	// ErrShortCiphertext: the upload is not even an encapsulation and an
	// AEAD tag long.
	ErrShortCiphertext = errors.New("seal: ciphertext too short")
)

// Suite is a resolved HPKE cipher suite.
type Suite struct {
	KEM  hpke.KEM
	KDF  hpke.KDF
	AEAD hpke.AEAD
	// EncSize is the length of the KEM's encapsulation, the prefix of every
	// ciphertext.
	EncSize int
}

// ResolveSuite maps the names in an HPKEKey to a Suite. Only the suites this
// project deploys are accepted.
func ResolveSuite(k protocol.HPKEKey) (Suite, error) {
	var s Suite
	switch k.KEM {
	case protocol.KEMMLKEM768X25519:
		s.KEM = hpke.MLKEM768X25519()
		s.EncSize = 1088 + 32 // ML-KEM-768 ciphertext, X25519 share
	case protocol.KEMX25519:
		s.KEM = hpke.DHKEM(ecdh.X25519())
		s.EncSize = 32
	default:
		return Suite{}, fmt.Errorf("%w: %q", ErrUnknownKEM, k.KEM)
	}
	switch k.KDF {
	case protocol.KDFHKDFSHA256:
		s.KDF = hpke.HKDFSHA256()
	default:
		return Suite{}, fmt.Errorf("%w: %q", ErrUnknownKDF, k.KDF)
	}
	switch k.AEAD {
	case protocol.AEADAES256GCM:
		s.AEAD = hpke.AES256GCM()
	default:
		return Suite{}, fmt.Errorf("%w: %q", ErrUnknownAEAD, k.AEAD)
	}
	return s, nil
}

// Seal encrypts plaintext to the HPKE key in k, bound to report. The caller
// must have verified the evidence that carries report and k first.
func Seal(k protocol.HPKEKey, report, plaintext []byte) ([]byte, error) {
	ct, _, err := SealWithReceiptKey(k, report, plaintext)
	return ct, err
}

// SealWithReceiptKey is Seal that also returns the upload's receipt key,
// HPKE Export(protocol.ReceiptLabel, protocol.ReceiptKeySize) of the sending
// context, with which protocol.VerifyReceipt checks the gateway's answer.
func SealWithReceiptKey(k protocol.HPKEKey, report, plaintext []byte) (ciphertext, receiptKey []byte, err error) {
	if len(report) != protocol.ReportSize {
		return nil, nil, protocol.ErrReportSize
	}
	s, err := ResolveSuite(k)
	if err != nil {
		return nil, nil, err
	}
	pk, err := s.KEM.NewPublicKey(k.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: bad HPKE public key: %w", err)
	}
	enc, sender, err := hpke.NewSender(pk, s.KDF, s.AEAD, protocol.EnrollInfo(report))
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	ct, err := sender.Seal(nil, plaintext)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	receiptKey, err = sender.Export(protocol.ReceiptLabel, protocol.ReceiptKeySize)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	return append(enc, ct...), receiptKey, nil
}

// Open is the gateway's side: it opens enc || ct, as Seal made it, with the
// private key and info, and returns the plaintext and the upload's receipt
// key.
func Open(s Suite, key hpke.PrivateKey, info, ciphertext []byte) (plaintext, receiptKey []byte, err error) {
	if len(ciphertext) <= s.EncSize {
		return nil, nil, ErrShortCiphertext
	}
	r, err := hpke.NewRecipient(ciphertext[:s.EncSize], key, s.KDF, s.AEAD, info)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	plaintext, err = r.Open(nil, ciphertext[s.EncSize:])
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	receiptKey, err = r.Export(protocol.ReceiptLabel, protocol.ReceiptKeySize)
	if err != nil {
		clear(plaintext)
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	return plaintext, receiptKey, nil
}
