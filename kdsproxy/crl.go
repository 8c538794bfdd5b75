package kdsproxy

import (
	"errors"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// errMalformedCRL is returned by crlNextUpdate for anything that is not a
// DER CertificateList with a nextUpdate.
var errMalformedCRL = errors.New("kdsproxy: malformed CRL")

// crlNextUpdate reads nextUpdate from a DER X.509 CRL (RFC 5280 5.1) and
// nothing else: the proxy only needs to know how long the CRL may be
// cached. Its signature is the verifier's business, not the proxy's.
//
//	CertificateList ::= SEQUENCE { tbsCertList TBSCertList, ... }
//	TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature
//	    AlgorithmIdentifier, issuer Name, thisUpdate Time,
//	    nextUpdate Time OPTIONAL, ... }
func crlNextUpdate(der []byte) (time.Time, error) {
	input := cryptobyte.String(der)
	var list, tbs cryptobyte.String
	if !input.ReadASN1(&list, cbasn1.SEQUENCE) || !input.Empty() ||
		!list.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return time.Time{}, errMalformedCRL
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) && !tbs.SkipASN1(cbasn1.INTEGER) {
		return time.Time{}, errMalformedCRL
	}
	if !tbs.SkipASN1(cbasn1.SEQUENCE) || // signature
		!tbs.SkipASN1(cbasn1.SEQUENCE) { // issuer
		return time.Time{}, errMalformedCRL
	}
	if _, err := readTime(&tbs); err != nil { // thisUpdate
		return time.Time{}, err
	}
	if !tbs.PeekASN1Tag(cbasn1.UTCTime) && !tbs.PeekASN1Tag(cbasn1.GeneralizedTime) {
		return time.Time{}, errMalformedCRL // no nextUpdate
	}
	return readTime(&tbs)
}

func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return time.Time{}, errMalformedCRL
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return time.Time{}, errMalformedCRL
		}
	default:
		return time.Time{}, errMalformedCRL
	}
	return t, nil
}
