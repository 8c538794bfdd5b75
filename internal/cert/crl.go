package cert

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
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
			return nil, fmt.Errorf("%w: PEM block %q is not an X509 CRL", ErrMalformed, block.Type)
		}
		data = block.Bytes
	}
	c := &CRL{Raw: data}
	input := cryptobyte.String(data)
	var seq, tbs, outerAlg cryptobyte.String
	if !input.ReadASN1(&seq, cbasn1.SEQUENCE) || !input.Empty() ||
		!seq.ReadASN1Element(&tbs, cbasn1.SEQUENCE) || !seq.ReadASN1Element(&outerAlg, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: not a CRL", ErrMalformed)
	}
	c.RawTBS = tbs
	sig, err := readBitString(&seq)
	if err != nil || !seq.Empty() {
		return nil, fmt.Errorf("%w: bad CRL signature", ErrMalformed)
	}
	c.Signature = sig
	if err := checkRSAPSSSHA384(outerAlg); err != nil {
		return nil, err
	}
	if !tbs.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: bad tbsCertList", ErrMalformed)
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) {
		var v int64
		if !tbs.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v != 1 {
			return nil, fmt.Errorf("%w: unsupported CRL version", ErrMalformed)
		}
	}
	var innerAlg cryptobyte.String
	if !tbs.ReadASN1Element(&innerAlg, cbasn1.SEQUENCE) || !bytes.Equal(innerAlg, outerAlg) {
		return nil, fmt.Errorf("%w: CRL signature algorithms inside and outside differ", ErrMalformed)
	}
	if c.RawIssuer, _, err = readName(&tbs); err != nil {
		return nil, err
	}
	if c.ThisUpdate, err = readTime(&tbs); err != nil {
		return nil, err
	}
	if tbs.PeekASN1Tag(cbasn1.UTCTime) || tbs.PeekASN1Tag(cbasn1.GeneralizedTime) {
		if c.NextUpdate, err = readTime(&tbs); err != nil {
			return nil, err
		}
	}
	if tbs.PeekASN1Tag(cbasn1.SEQUENCE) {
		var revoked cryptobyte.String
		if !tbs.ReadASN1(&revoked, cbasn1.SEQUENCE) {
			return nil, fmt.Errorf("%w: bad revokedCertificates", ErrMalformed)
		}
		for !revoked.Empty() {
			var entry, serial cryptobyte.String
			if !revoked.ReadASN1(&entry, cbasn1.SEQUENCE) || !entry.ReadASN1(&serial, cbasn1.INTEGER) {
				return nil, fmt.Errorf("%w: bad revoked entry", ErrMalformed)
			}
			if _, err := readTime(&entry); err != nil {
				return nil, err
			}
			if !entry.SkipOptionalASN1(cbasn1.SEQUENCE) || !entry.Empty() {
				return nil, fmt.Errorf("%w: bad revoked entry", ErrMalformed)
			}
			c.Revoked = append(c.Revoked, serial)
		}
	}
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || !tbs.Empty() {
		return nil, fmt.Errorf("%w: trailing data in tbsCertList", ErrMalformed)
	}
	return c, nil
}
