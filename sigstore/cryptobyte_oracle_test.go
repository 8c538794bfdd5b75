//go:build !js

package sigstore

// The parsers of this package as they were when they read with cryptobyte,
// kept as the oracle for the same parsers reading with internal/der
// (oracle_der_test.go): every input must give the same answer from both.
// Only the names differ, and BytesOrPanic, whose panic is reported as
// an error here.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/cvmtrust/cvmtrust/internal/cert"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var errOracleTooLarge = errors.New("cryptobyte: length overflow")

func must(b []byte, err error) []byte {
	if err != nil {
		panic(errOracleTooLarge)
	}
	return b
}

func parseSANCB(v []byte) ([]string, error) {
	in := cryptobyte.String(v)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("bad subjectAltName")
	}
	var out []string
	for !seq.Empty() {
		var val cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1(&val, &tag) {
			return nil, errors.New("bad subjectAltName entry")
		}
		switch tag {
		case cbasn1.Tag(1).ContextSpecific(), cbasn1.Tag(6).ContextSpecific(): // rfc822Name, URI
			if !utf8.Valid(val) {
				return nil, errors.New("subjectAltName is not UTF-8")
			}
			out = append(out, string(val))
		case cbasn1.Tag(0).ContextSpecific().Constructed(): // otherName
			var oid asn1.ObjectIdentifier
			var explicit, str cryptobyte.String
			if val.ReadASN1ObjectIdentifier(&oid) && val.ReadASN1(&explicit, cbasn1.Tag(0).ContextSpecific().Constructed()) &&
				explicit.ReadASN1(&str, cbasn1.UTF8String) && utf8.Valid(str) {
				out = append(out, string(str))
			}
		}
	}
	return out, nil
}

func isCACB(c *cert.Certificate) bool {
	v, ok := c.Extensions[oidBasicConstraints]
	if !ok {
		return false
	}
	in := cryptobyte.String(v)
	var seq, ca cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadOptionalASN1(&ca, nil, cbasn1.BOOLEAN) {
		return false
	}
	return len(ca) == 1 && ca[0] == 0xff
}

func hasEKUCB(c *cert.Certificate, want asn1.ObjectIdentifier) bool {
	v, ok := c.Extensions[oidExtKeyUsage]
	if !ok {
		return false
	}
	in := cryptobyte.String(v)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return false
	}
	for !seq.Empty() {
		var oid asn1.ObjectIdentifier
		if !seq.ReadASN1ObjectIdentifier(&oid) {
			return false
		}
		if oid.Equal(want) {
			return true
		}
	}
	return false
}

func verifySCTsCB(ctx context.Context, sv SignatureVerifier, leaf, issuer *cert.Certificate, logs []*transparencyLog) (int, error) {
	ext, ok := leaf.Extensions[oidSCTList]
	if !ok {
		return 0, errors.New("the certificate has no embedded SCT")
	}
	in := cryptobyte.String(ext)
	var list, scts cryptobyte.String
	if !in.ReadASN1(&list, cbasn1.OCTET_STRING) || !in.Empty() || !list.ReadUint16LengthPrefixed(&scts) || !list.Empty() {
		return 0, errors.New("malformed SCT list")
	}
	tbs, err := tbsWithoutCB(leaf.RawTBS, oidSCTList)
	if err != nil {
		return 0, err
	}
	issuerKeyHash := sha256.Sum256(issuer.SPKI)
	verified := 0
	lastErr := errors.New("no SCT from a trusted CT log")
	for !scts.Empty() {
		var sct cryptobyte.String
		var version uint8
		var logID []byte
		var ts uint64
		var exts, sig cryptobyte.String
		var hashAlg, sigAlg uint8
		if !scts.ReadUint16LengthPrefixed(&sct) || !sct.ReadUint8(&version) || !sct.ReadBytes(&logID, 32) ||
			!sct.ReadUint64(&ts) || !sct.ReadUint16LengthPrefixed(&exts) || !sct.ReadUint8(&hashAlg) ||
			!sct.ReadUint8(&sigAlg) || !sct.ReadUint16LengthPrefixed(&sig) || !sct.Empty() {
			return verified, errors.New("malformed SCT")
		}
		if version != 0 {
			continue
		}
		var log *transparencyLog
		for _, l := range logs {
			if bytes.Equal(l.id, logID) {
				log = l
				break
			}
		}
		if log == nil {
			continue
		}
		when := time.UnixMilli(int64(ts))
		if !log.valid.contains(when) {
			lastErr = fmt.Errorf("SCT time %s outside the CT log's window %s", when.UTC().Format(time.RFC3339), log.valid)
			continue
		}
		var b cryptobyte.Builder
		b.AddUint8(0) // v1
		b.AddUint8(0) // certificate_timestamp
		b.AddUint64(ts)
		b.AddUint16(1) // precert_entry
		b.AddBytes(issuerKeyHash[:])
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(tbs) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(exts) })
		signed := must(b.Bytes())
		scheme, hash := log.scheme, log.hash
		if err := verifyWith(ctx, sv, log.keyType, log.spki, scheme, hash, signed, sig); err != nil {
			lastErr = fmt.Errorf("SCT signature: %w", err)
			continue
		}
		verified++
	}
	if verified == 0 {
		return 0, lastErr
	}
	return verified, nil
}

func tbsWithoutCB(rawTBS []byte, drop string) ([]byte, error) {
	in := cryptobyte.String(rawTBS)
	var tbs cryptobyte.String
	if !in.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("bad tbsCertificate")
	}
	var b cryptobyte.Builder
	var failed bool
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for !tbs.Empty() {
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !tbs.ReadAnyASN1Element(&el, &tag) {
				failed = true
				return
			}
			if tag != cbasn1.Tag(3).ContextSpecific().Constructed() {
				b.AddBytes(el)
				continue
			}
			var wrapper, exts cryptobyte.String
			if !el.ReadASN1(&wrapper, tag) || !wrapper.ReadASN1(&exts, cbasn1.SEQUENCE) {
				failed = true
				return
			}
			b.AddASN1(tag, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for !exts.Empty() {
						var ext, body cryptobyte.String
						var oid asn1.ObjectIdentifier
						if !exts.ReadASN1Element(&ext, cbasn1.SEQUENCE) {
							failed = true
							return
						}
						body = ext
						if !body.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&oid) {
							failed = true
							return
						}
						if oid.String() != drop {
							b.AddBytes(ext)
						}
					}
				})
			})
		}
	})
	out, err := b.Bytes()
	if err != nil || failed {
		return nil, errors.New("cannot rebuild the precertificate")
	}
	return out, nil
}

func readHashAlgCB(s *cryptobyte.String) (Hash, bool) {
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return 0, false
	}
	if !alg.Empty() && (!alg.SkipASN1(cbasn1.NULL) || !alg.Empty()) {
		return 0, false
	}
	switch {
	case oid.Equal(asn1.ObjectIdentifier(oidSHA256)):
		return SHA256, true
	case oid.Equal(asn1.ObjectIdentifier(oidSHA384)):
		return SHA384, true
	case oid.Equal(asn1.ObjectIdentifier(oidSHA512)):
		return SHA512, true
	}
	return 0, false
}

func readGeneralizedTimeCB(s *cryptobyte.String) (time.Time, bool) {
	var raw cryptobyte.String
	if !s.ReadASN1(&raw, cbasn1.GeneralizedTime) {
		return time.Time{}, false
	}
	// DER form, the way encoding/asn1 checks it: the time must print back
	// as the same bytes ('.', no trailing zeros).
	const layout = "20060102150405.999999999Z"
	t, err := time.Parse(layout, string(raw))
	if err != nil || len(raw) < 15 || raw[len(raw)-1] != 'Z' || t.Format(layout) != string(raw) {
		return time.Time{}, false
	}
	return t, true
}

func parseTimeStampCB(der []byte) (*timeStampToken, error) {
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
	if !contentInfo.ReadASN1ObjectIdentifier(&ctype) || !ctype.Equal(asn1.ObjectIdentifier(oidSignedData)) ||
		!contentInfo.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !contentInfo.Empty() ||
		!explicit.ReadASN1(&sd, cbasn1.SEQUENCE) || !explicit.Empty() {
		return nil, bad("not CMS SignedData")
	}
	var version int64
	var encap, eExplicit, eContent cryptobyte.String
	var eType asn1.ObjectIdentifier
	if !sd.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !sd.SkipASN1(cbasn1.SET) ||
		!sd.ReadASN1(&encap, cbasn1.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&eType) || !eType.Equal(asn1.ObjectIdentifier(oidTSTInfo)) ||
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
	if t.digestHash, ok = readHashAlgCB(&si); !ok {
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
		case oid.Equal(asn1.ObjectIdentifier(oidContentType)):
			var ct asn1.ObjectIdentifier
			if !values.ReadASN1ObjectIdentifier(&ct) || !values.Empty() || !ct.Equal(asn1.ObjectIdentifier(oidTSTInfo)) {
				return nil, bad("content-type attribute")
			}
			contentTypeOK = true
		case oid.Equal(asn1.ObjectIdentifier(oidMessageDigest)):
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
	case sigOID.Equal(asn1.ObjectIdentifier(oidECDSASHA256)):
		t.sigHash = SHA256
	case sigOID.Equal(asn1.ObjectIdentifier(oidECDSASHA384)):
		t.sigHash = SHA384
	case sigOID.Equal(asn1.ObjectIdentifier(oidECDSASHA512)):
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
	if t.imprintHash, ok = readHashAlgCB(&imprint); !ok {
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
	if t.genTime, ok = readGeneralizedTimeCB(&info); !ok {
		return nil, bad("genTime")
	}
	return t, nil
}

func derToP1363CB(sig []byte, size int) ([]byte, error) {
	s := cryptobyte.String(sig)
	var inner, r, sv cryptobyte.String
	if !s.ReadASN1(&inner, cbasn1.SEQUENCE) || !s.Empty() ||
		!inner.ReadASN1(&r, cbasn1.INTEGER) || !inner.ReadASN1(&sv, cbasn1.INTEGER) || !inner.Empty() {
		return nil, errors.New("ECDSA signature is not a DER SEQUENCE of two INTEGERs")
	}
	out := make([]byte, 2*size)
	for i, n := range []cryptobyte.String{r, sv} {
		if len(n) == 0 || n[0]&0x80 != 0 || (len(n) > 1 && n[0] == 0 && n[1]&0x80 == 0) {
			return nil, errors.New("ECDSA signature integer is negative or not minimally encoded")
		}
		if n[0] == 0 && len(n) > 1 {
			n = n[1:]
		}
		if len(n) > size {
			return nil, errors.New("ECDSA signature integer out of range")
		}
		copy(out[(i+1)*size-len(n):], n)
	}
	return out, nil
}
