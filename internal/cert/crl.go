package cert

import (
	"bytes"
	"encoding/pem"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/der"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
)

// CRL is a parsed certificate revocation list, as AMD KDS serves at
// /vcek/v1/{product}/crl, signed by the product's ARK.
type CRL struct {
	Raw        []byte
	RawTBS     []byte
	RawIssuer  []byte
	ThisUpdate time.Time
	NextUpdate time.Time // zero when absent
	Signature  []byte
	// Revoked holds the serial numbers of revoked certificates, as encoded.
	Revoked [][]byte
}

// IsRevoked reports whether the serial number is on the list.
func (c *CRL) IsRevoked(serial []byte) bool {
	for _, r := range c.Revoked {
		if bytes.Equal(r, serial) {
			return true
		}
	}
	return false
}

// ParseCRL parses a CRL in DER or PEM ("X509 CRL").
func ParseCRL(data []byte) (*CRL, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "X509 CRL" {
			return nil, errfmt.Errorf("%w: PEM block %q is not an X509 CRL", ErrMalformed, block.Type)
		}
		data = block.Bytes
	}
	c := &CRL{Raw: data}
	input := der.String(data)
	var seq, tbs, outerAlg der.String
	if !input.ReadASN1(&seq, der.SEQUENCE) || !input.Empty() ||
		!seq.ReadASN1Element(&tbs, der.SEQUENCE) || !seq.ReadASN1Element(&outerAlg, der.SEQUENCE) {
		return nil, errfmt.Errorf("%w: not a CRL", ErrMalformed)
	}
	c.RawTBS = tbs
	sig, err := readBitString(&seq)
	if err != nil || !seq.Empty() {
		return nil, errfmt.Errorf("%w: bad CRL signature", ErrMalformed)
	}
	c.Signature = sig
	if err := checkRSAPSSSHA384(outerAlg); err != nil {
		return nil, err
	}
	if !tbs.ReadASN1(&tbs, der.SEQUENCE) {
		return nil, errfmt.Errorf("%w: bad tbsCertList", ErrMalformed)
	}
	if tbs.PeekASN1Tag(der.INTEGER) {
		var v int64
		if !tbs.ReadASN1Int64WithTag(&v, der.INTEGER) || v != 1 {
			return nil, errfmt.Errorf("%w: unsupported CRL version", ErrMalformed)
		}
	}
	var innerAlg der.String
	if !tbs.ReadASN1Element(&innerAlg, der.SEQUENCE) || !bytes.Equal(innerAlg, outerAlg) {
		return nil, errfmt.Errorf("%w: CRL signature algorithms inside and outside differ", ErrMalformed)
	}
	if c.RawIssuer, _, err = readName(&tbs); err != nil {
		return nil, err
	}
	if c.ThisUpdate, err = readTime(&tbs); err != nil {
		return nil, err
	}
	if tbs.PeekASN1Tag(der.UTCTime) || tbs.PeekASN1Tag(der.GeneralizedTime) {
		if c.NextUpdate, err = readTime(&tbs); err != nil {
			return nil, err
		}
	}
	if tbs.PeekASN1Tag(der.SEQUENCE) {
		var revoked der.String
		if !tbs.ReadASN1(&revoked, der.SEQUENCE) {
			return nil, errfmt.Errorf("%w: bad revokedCertificates", ErrMalformed)
		}
		for !revoked.Empty() {
			var entry, serial der.String
			if !revoked.ReadASN1(&entry, der.SEQUENCE) || !entry.ReadASN1(&serial, der.INTEGER) {
				return nil, errfmt.Errorf("%w: bad revoked entry", ErrMalformed)
			}
			if _, err := readTime(&entry); err != nil {
				return nil, err
			}
			if !entry.SkipOptionalASN1(der.SEQUENCE) || !entry.Empty() {
				return nil, errfmt.Errorf("%w: bad revoked entry", ErrMalformed)
			}
			c.Revoked = append(c.Revoked, serial)
		}
	}
	if !tbs.SkipOptionalASN1(der.Tag(0).Constructed().ContextSpecific()) || !tbs.Empty() {
		return nil, errfmt.Errorf("%w: trailing data in tbsCertList", ErrMalformed)
	}
	return c, nil
}
