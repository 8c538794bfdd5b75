package sigstore

import (
	"bytes"
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidTSTInfo       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
)

// timeStampToken is the part of an RFC 3161 token the verifier checks.
type timeStampToken struct {
	genTime       time.Time
	imprintHash   Hash
	imprint       []byte
	tstInfo       []byte // eContent: what messageDigest covers
	signedAttrs   []byte // re-tagged as SET OF: what the signature covers
	digestHash    Hash   // SignerInfo digestAlgorithm
	messageDigest []byte
	sigHash       Hash // from signatureAlgorithm when it names one
	signature     []byte
}

func readHashAlg(s *cryptobyte.String) (Hash, bool) {
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return 0, false
	}
	if !alg.Empty() && (!alg.SkipASN1(cbasn1.NULL) || !alg.Empty()) {
		return 0, false
	}
	switch {
	case oid.Equal(oidSHA256):
		return SHA256, true
	case oid.Equal(oidSHA384):
		return SHA384, true
	case oid.Equal(oidSHA512):
		return SHA512, true
	}
	return 0, false
}

// readGeneralizedTime accepts fractional seconds, which TSAs use and
// cryptobyte's reader does not.
func readGeneralizedTime(s *cryptobyte.String) (time.Time, bool) {
	var raw cryptobyte.String
	if !s.ReadASN1(&raw, cbasn1.GeneralizedTime) {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102150405.999999999Z", string(raw))
	if err != nil || len(raw) < 15 || raw[len(raw)-1] != 'Z' {
		return time.Time{}, false
	}
	return t, true
}

// parseTimeStamp reads a TimeStampResp (RFC 3161 §2.4.2) or a bare
// TimeStampToken: CMS SignedData with one SignerInfo over a TSTInfo.
func parseTimeStamp(der []byte) (*timeStampToken, error) {
	bad := func(what string) error { return fmt.Errorf("malformed timestamp: %s", what) }
	in := cryptobyte.String(der)
	var outer cryptobyte.String
	if !in.ReadASN1(&outer, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, bad("not a DER SEQUENCE")
	}
	contentInfo := outer
	if outer.PeekASN1Tag(cbasn1.SEQUENCE) { // TimeStampResp: status first
		var status cryptobyte.String
		var code int64
		if !outer.ReadASN1(&status, cbasn1.SEQUENCE) || !status.ReadASN1Int64WithTag(&code, cbasn1.INTEGER) {
			return nil, bad("status")
		}
		if code != 0 && code != 1 {
			return nil, fmt.Errorf("timestamp request was not granted (status %d)", code)
		}
		if !outer.ReadASN1(&contentInfo, cbasn1.SEQUENCE) || !outer.Empty() {
			return nil, bad("no token in the response")
		}
	}
	var ctype asn1.ObjectIdentifier
	var explicit, sd cryptobyte.String
	if !contentInfo.ReadASN1ObjectIdentifier(&ctype) || !ctype.Equal(oidSignedData) ||
		!contentInfo.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !contentInfo.Empty() ||
		!explicit.ReadASN1(&sd, cbasn1.SEQUENCE) || !explicit.Empty() {
		return nil, bad("not CMS SignedData")
	}
	var version int64
	var encap, eExplicit, eContent cryptobyte.String
	var eType asn1.ObjectIdentifier
	if !sd.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !sd.SkipASN1(cbasn1.SET) ||
		!sd.ReadASN1(&encap, cbasn1.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&eType) || !eType.Equal(oidTSTInfo) ||
		!encap.ReadASN1(&eExplicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !encap.Empty() ||
		!eExplicit.ReadASN1(&eContent, cbasn1.OCTET_STRING) || !eExplicit.Empty() {
		return nil, bad("encapsulated content is not a TSTInfo")
	}
	// Certificates and CRLs the token carries are not trusted; skip them.
	if !sd.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!sd.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, bad("certificates")
	}
	var signerInfos, si cryptobyte.String
	if !sd.ReadASN1(&signerInfos, cbasn1.SET) || !sd.Empty() || !signerInfos.ReadASN1(&si, cbasn1.SEQUENCE) || !signerInfos.Empty() {
		return nil, bad("needs exactly one SignerInfo")
	}
	t := &timeStampToken{tstInfo: eContent}
	var ok bool
	var sid cryptobyte.String
	var sidTag cbasn1.Tag
	if !si.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !si.ReadAnyASN1(&sid, &sidTag) {
		return nil, bad("SignerInfo")
	}
	if t.digestHash, ok = readHashAlg(&si); !ok {
		return nil, bad("digest algorithm")
	}
	var attrs cryptobyte.String
	if !si.ReadASN1Element(&attrs, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, bad("signed attributes missing")
	}
	// The signature covers the attributes encoded as a SET OF (RFC 5652 §5.4).
	t.signedAttrs = append([]byte{0x31}, attrs[1:]...)
	var attrSet cryptobyte.String
	if !attrs.ReadASN1(&attrSet, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, bad("signed attributes")
	}
	var contentTypeOK bool
	for !attrSet.Empty() {
		var attr, values cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !attrSet.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return nil, bad("signed attribute")
		}
		switch {
		case oid.Equal(oidContentType):
			var ct asn1.ObjectIdentifier
			if !values.ReadASN1ObjectIdentifier(&ct) || !values.Empty() || !ct.Equal(oidTSTInfo) {
				return nil, bad("content-type attribute")
			}
			contentTypeOK = true
		case oid.Equal(oidMessageDigest):
			var md cryptobyte.String
			if t.messageDigest != nil || !values.ReadASN1(&md, cbasn1.OCTET_STRING) || !values.Empty() {
				return nil, bad("message-digest attribute")
			}
			t.messageDigest = md
		}
	}
	if !contentTypeOK || t.messageDigest == nil {
		return nil, bad("content-type or message-digest attribute missing")
	}
	var sigAlg cryptobyte.String
	var sigOID asn1.ObjectIdentifier
	var sig cryptobyte.String
	if !si.ReadASN1(&sigAlg, cbasn1.SEQUENCE) || !sigAlg.ReadASN1ObjectIdentifier(&sigOID) ||
		!si.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return nil, bad("signature")
	}
	switch {
	case sigOID.Equal(oidECDSASHA256):
		t.sigHash = SHA256
	case sigOID.Equal(oidECDSASHA384):
		t.sigHash = SHA384
	case sigOID.Equal(oidECDSASHA512):
		t.sigHash = SHA512
	}
	t.signature = sig

	// TSTInfo (RFC 3161 §2.4.2).
	tst := cryptobyte.String(eContent)
	var info, imprint cryptobyte.String
	if !tst.ReadASN1(&info, cbasn1.SEQUENCE) || !tst.Empty() || !info.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		version != 1 || !info.SkipASN1(cbasn1.OBJECT_IDENTIFIER) || !info.ReadASN1(&imprint, cbasn1.SEQUENCE) {
		return nil, bad("TSTInfo")
	}
	if t.imprintHash, ok = readHashAlg(&imprint); !ok {
		return nil, bad("message imprint algorithm")
	}
	var hashed cryptobyte.String
	if !imprint.ReadASN1(&hashed, cbasn1.OCTET_STRING) || !imprint.Empty() || len(hashed) != t.imprintHash.Size() {
		return nil, bad("message imprint")
	}
	t.imprint = hashed
	if !info.SkipASN1(cbasn1.INTEGER) {
		return nil, bad("serial number")
	}
	if t.genTime, ok = readGeneralizedTime(&info); !ok {
		return nil, bad("genTime")
	}
	return t, nil
}

// verifyTimeStamp checks an RFC 3161 token over sig against the trusted
// timestamp authorities and returns the time it vouches for. The signer is
// the authority's own certificate from the trusted root, never one the
// token carries; its chain and window must include the time.
func (v *Verifier) verifyTimeStamp(ctx context.Context, der, sig []byte) (time.Time, *authority, error) {
	sv, tsas := v.sigs, v.root.tsas
	t, err := parseTimeStamp(der)
	if err != nil {
		return time.Time{}, nil, err
	}
	if !bytes.Equal(t.imprint, hashBytes(t.imprintHash, sig)) {
		return time.Time{}, nil, errors.New("the timestamp is not over this bundle's signature")
	}
	if !bytes.Equal(t.messageDigest, hashBytes(t.digestHash, t.tstInfo)) {
		return time.Time{}, nil, errors.New("the signed attributes do not cover the TSTInfo")
	}
	lastErr := errors.New("no trusted timestamp authority signed the timestamp")
	for _, a := range tsas {
		signer := a.chain[0]
		hash := t.sigHash
		if hash == 0 {
			hash = t.digestHash
		}
		scheme, _ := defaultAlgorithm(signer.KeyType)
		if err := verifyWith(ctx, sv, signer.KeyType, signer.SPKI, scheme, hash, t.signedAttrs, t.signature); err != nil {
			continue
		}
		if !a.valid.contains(t.genTime) {
			lastErr = fmt.Errorf("timestamp %s outside the authority's window %s", t.genTime.UTC().Format(time.RFC3339), a.valid)
			continue
		}
		if err := v.authorityChain(ctx, a); err != nil {
			lastErr = fmt.Errorf("timestamp authority chain: %w", err)
			continue
		}
		if !hasEKU(signer, oidTimeStamping) {
			lastErr = errors.New("the authority's certificate is not for time stamping")
			continue
		}
		allValid := true
		for _, c := range a.chain {
			allValid = allValid && validAt(c, t.genTime)
		}
		if !allValid {
			lastErr = fmt.Errorf("timestamp %s outside the authority's certificate validity", t.genTime.UTC().Format(time.RFC3339))
			continue
		}
		return t.genTime, a, nil
	}
	return time.Time{}, nil, lastErr
}
