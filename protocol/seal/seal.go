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
)

// Suite is a resolved HPKE cipher suite.
type Suite struct {
	KEM  hpke.KEM
	KDF  hpke.KDF
	AEAD hpke.AEAD
}

// ResolveSuite maps the names in an HPKEKey to a Suite. Only the suites this
// project deploys are accepted.
func ResolveSuite(k protocol.HPKEKey) (Suite, error) {
	var s Suite
	switch k.KEM {
	case protocol.KEMMLKEM768X25519:
		s.KEM = hpke.MLKEM768X25519()
	case protocol.KEMX25519:
		s.KEM = hpke.DHKEM(ecdh.X25519())
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
	if len(report) != protocol.ReportSize {
		return nil, protocol.ErrReportSize
	}
	s, err := ResolveSuite(k)
	if err != nil {
		return nil, err
	}
	pk, err := s.KEM.NewPublicKey(k.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("seal: bad HPKE public key: %w", err)
	}
	return hpke.Seal(pk, s.KDF, s.AEAD, protocol.EnrollInfo(report), plaintext)
}
