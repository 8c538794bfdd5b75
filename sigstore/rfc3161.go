package sigstore

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/der"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
)

var (
	oidSignedData    = der.OID{1, 2, 840, 113549, 1, 7, 2}
	oidTSTInfo       = der.OID{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidContentType   = der.OID{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = der.OID{1, 2, 840, 113549, 1, 9, 4}
	oidSHA256        = der.OID{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = der.OID{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = der.OID{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidECDSASHA256   = der.OID{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384   = der.OID{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512   = der.OID{1, 2, 840, 10045, 4, 3, 4}
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

func readHashAlg(s *der.String) (Hash, bool) {
	var alg der.String
	var oid der.OID
	if !s.ReadASN1(&alg, der.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return 0, false
	}
	if !alg.Empty() && (!alg.SkipASN1(der.NULL) || !alg.Empty()) {
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

// parseTimeStamp reads a TimeStampResp (RFC 3161 §2.4.2) or a bare
// TimeStampToken: CMS SignedData with one SignerInfo over a TSTInfo.
func parseTimeStamp(raw []byte) (*timeStampToken, error) {
	bad := func(what string) error { return errfmt.Errorf("malformed timestamp: %s", what) }
	in := der.String(raw)
	var outer der.String
	if !in.ReadASN1(&outer, der.SEQUENCE) || !in.Empty() {
		return nil, bad("not a DER SEQUENCE")
	}
	contentInfo := outer
	if outer.PeekASN1Tag(der.SEQUENCE) { // TimeStampResp: status first
		var status der.String
		var code int64
		if !outer.ReadASN1(&status, der.SEQUENCE) || !status.ReadASN1Int64WithTag(&code, der.INTEGER) {
			return nil, bad("status")
		}
		if code != 0 && code != 1 {
			return nil, errfmt.Errorf("timestamp request was not granted (status %d)", code)
		}
		if !outer.ReadASN1(&contentInfo, der.SEQUENCE) || !outer.Empty() {
			return nil, bad("no token in the response")
		}
	}
	var ctype der.OID
	var explicit, sd der.String
	if !contentInfo.ReadASN1ObjectIdentifier(&ctype) || !ctype.Equal(oidSignedData) ||
		!contentInfo.ReadASN1(&explicit, der.Tag(0).Constructed().ContextSpecific()) || !contentInfo.Empty() ||
		!explicit.ReadASN1(&sd, der.SEQUENCE) || !explicit.Empty() {
		return nil, bad("not CMS SignedData")
	}
	var version int64
	var encap, eExplicit, eContent der.String
	var eType der.OID
	if !sd.ReadASN1Int64WithTag(&version, der.INTEGER) || !sd.SkipASN1(der.SET) ||
		!sd.ReadASN1(&encap, der.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&eType) || !eType.Equal(oidTSTInfo) ||
		!encap.ReadASN1(&eExplicit, der.Tag(0).Constructed().ContextSpecific()) || !encap.Empty() ||
		!eExplicit.ReadASN1(&eContent, der.OCTET_STRING) || !eExplicit.Empty() {
		return nil, bad("encapsulated content is not a TSTInfo")
	}
	// Certificates and CRLs the token carries are not trusted; skip them.
	if !sd.SkipOptionalASN1(der.Tag(0).Constructed().ContextSpecific()) ||
		!sd.SkipOptionalASN1(der.Tag(1).Constructed().ContextSpecific()) {
		return nil, bad("certificates")
	}
	var signerInfos, si der.String
	if !sd.ReadASN1(&signerInfos, der.SET) || !sd.Empty() || !signerInfos.ReadASN1(&si, der.SEQUENCE) || !signerInfos.Empty() {
		return nil, bad("needs exactly one SignerInfo")
	}
	t := &timeStampToken{tstInfo: eContent}
	var ok bool
	var sid der.String
	var sidTag der.Tag
	if !si.ReadASN1Int64WithTag(&version, der.INTEGER) || !si.ReadAnyASN1(&sid, &sidTag) {
		return nil, bad("SignerInfo")
	}
	if t.digestHash, ok = readHashAlg(&si); !ok {
		return nil, bad("digest algorithm")
	}
	var attrs der.String
	if !si.ReadASN1Element(&attrs, der.Tag(0).Constructed().ContextSpecific()) {
		return nil, bad("signed attributes missing")
	}
	// The signature covers the attributes encoded as a SET OF (RFC 5652 §5.4).
	t.signedAttrs = append([]byte{0x31}, attrs[1:]...)
	var attrSet der.String
	if !attrs.ReadASN1(&attrSet, der.Tag(0).Constructed().ContextSpecific()) {
		return nil, bad("signed attributes")
	}
	var contentTypeOK bool
	for !attrSet.Empty() {
		var attr, values der.String
		var oid der.OID
		if !attrSet.ReadASN1(&attr, der.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&values, der.SET) || !attr.Empty() {
			return nil, bad("signed attribute")
		}
		switch {
		case oid.Equal(oidContentType):
			var ct der.OID
			if !values.ReadASN1ObjectIdentifier(&ct) || !values.Empty() || !ct.Equal(oidTSTInfo) {
				return nil, bad("content-type attribute")
			}
			contentTypeOK = true
		case oid.Equal(oidMessageDigest):
			var md der.String
			if t.messageDigest != nil || !values.ReadASN1(&md, der.OCTET_STRING) || !values.Empty() {
				return nil, bad("message-digest attribute")
			}
			t.messageDigest = md
		}
	}
	if !contentTypeOK || t.messageDigest == nil {
		return nil, bad("content-type or message-digest attribute missing")
	}
	var sigAlg der.String
	var sigOID der.OID
	var sig der.String
	if !si.ReadASN1(&sigAlg, der.SEQUENCE) || !sigAlg.ReadASN1ObjectIdentifier(&sigOID) ||
		!si.ReadASN1(&sig, der.OCTET_STRING) {
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
	tst := der.String(eContent)
	var info, imprint der.String
	if !tst.ReadASN1(&info, der.SEQUENCE) || !tst.Empty() || !info.ReadASN1Int64WithTag(&version, der.INTEGER) ||
		version != 1 || !info.SkipASN1(der.OBJECT_IDENTIFIER) || !info.ReadASN1(&imprint, der.SEQUENCE) {
		return nil, bad("TSTInfo")
	}
	if t.imprintHash, ok = readHashAlg(&imprint); !ok {
		return nil, bad("message imprint algorithm")
	}
	var hashed der.String
	if !imprint.ReadASN1(&hashed, der.OCTET_STRING) || !imprint.Empty() || len(hashed) != t.imprintHash.Size() {
		return nil, bad("message imprint")
	}
	t.imprint = hashed
	if !info.SkipASN1(der.INTEGER) {
		return nil, bad("serial number")
	}
	if ok = info.ReadASN1GeneralizedTimeFraction(&t.genTime); !ok {
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
	// An authority whose key does not verify the signature is not the
	// signer; the last such failure is said when no authority signed, so
	// that a key the browser would not import reads as that.
	var lastErr, sigErr error
	for _, a := range tsas {
		signer := a.chain[0]
		hash := t.sigHash
		if hash == 0 {
			hash = t.digestHash
		}
		scheme, _ := defaultAlgorithm(signer.KeyType)
		if err := verifyWith(ctx, sv, signer.KeyType, signer.SPKI, scheme, hash, t.signedAttrs, t.signature); err != nil {
			sigErr = err
			continue
		}
		if !a.valid.contains(t.genTime) {
			lastErr = errfmt.Errorf("timestamp %s outside the authority's window %s", t.genTime.UTC().Format(time.RFC3339), a.valid)
			continue
		}
		if err := v.authorityChain(ctx, a); err != nil {
			lastErr = errfmt.Errorf("timestamp authority chain: %w", err)
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
			lastErr = errfmt.Errorf("timestamp %s outside the authority's certificate validity", t.genTime.UTC().Format(time.RFC3339))
			continue
		}
		return t.genTime, a, nil
	}
	switch {
	case lastErr != nil:
		return time.Time{}, nil, lastErr
	case sigErr != nil:
		return time.Time{}, nil, errfmt.Errorf("no trusted timestamp authority signed the timestamp: %w", sigErr)
	}
	return time.Time{}, nil, errors.New("no trusted timestamp authority signed the timestamp")
}
