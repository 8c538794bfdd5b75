package sigstore

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cvmtrust/cvmtrust/internal/cert"
	"github.com/cvmtrust/cvmtrust/internal/der"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
)

// Certificate extensions Fulcio writes, below 1.3.6.1.4.1.57264.1
// (github.com/sigstore/fulcio docs/oid-info.md). The first six hold the
// value's bytes directly; from .8 on they hold a DER UTF8String.
const fulcioOID = "1.3.6.1.4.1.57264.1."

var (
	oidIssuerV1      = fulcioOID + "1"
	oidGHTrigger     = fulcioOID + "2"
	oidGHSHA         = fulcioOID + "3"
	oidGHWorkflow    = fulcioOID + "4"
	oidGHRepository  = fulcioOID + "5"
	oidGHRef         = fulcioOID + "6"
	oidIssuerV2      = fulcioOID + "8"
	oidBuildSigner   = fulcioOID + "9"
	oidBuildSignerD  = fulcioOID + "10"
	oidRunnerEnv     = fulcioOID + "11"
	oidSourceRepoURI = fulcioOID + "12"
	oidSourceDigest  = fulcioOID + "13"
	oidSourceRef     = fulcioOID + "14"
	oidSourceRepoID  = fulcioOID + "15"
	oidSourceOwner   = fulcioOID + "16"
	oidSourceOwnerID = fulcioOID + "17"
	oidBuildConfig   = fulcioOID + "18"
	oidBuildConfigD  = fulcioOID + "19"
	oidBuildTrigger  = fulcioOID + "20"
	oidRunInvocation = fulcioOID + "21"
	oidVisibility    = fulcioOID + "22"

	oidSAN              = "2.5.29.17"
	oidBasicConstraints = "2.5.29.19"
	oidKeyUsage         = "2.5.29.15"
	oidExtKeyUsage      = "2.5.29.37"
	oidSCTList          = "1.3.6.1.4.1.11129.2.4.2"
	oidCodeSigning      = der.OID{1, 3, 6, 1, 5, 5, 7, 3, 3}
	oidTimeStamping     = der.OID{1, 3, 6, 1, 5, 5, 7, 3, 8}
)

// criticalKnown are the critical extensions this verifier understands; a
// certificate with any other critical extension is refused, as RFC 5280
// requires.
var criticalKnown = map[string]bool{
	oidSAN: true, oidBasicConstraints: true, oidKeyUsage: true, oidExtKeyUsage: true,
	"2.5.29.30": false, // name constraints: not supported, so refused
}

func checkCritical(c *cert.Certificate) error {
	for _, oid := range c.Critical {
		if !criticalKnown[oid] {
			return errfmt.Errorf("unhandled critical extension %s", oid)
		}
	}
	return nil
}

// identity reads the signer's identity from a Fulcio leaf.
func identity(c *cert.Certificate) (Signer, []string, error) {
	var s Signer
	var sans []string
	if v, ok := c.Extensions[oidSAN]; ok {
		var err error
		if sans, err = parseSAN(v); err != nil {
			return s, nil, err
		}
	}
	if len(sans) > 0 {
		s.SubjectAlternativeName = sans[0]
	}
	utf8Ext := func(oid string) (string, error) {
		v, ok := c.Extensions[oid]
		if !ok {
			return "", nil
		}
		in := der.String(v)
		var str der.String
		if !in.ReadASN1(&str, der.UTF8String) || !in.Empty() || !utf8.Valid(str) {
			return "", errfmt.Errorf("extension %s is not a UTF8String", oid)
		}
		return string(str), nil
	}
	rawExt := func(oid string) (string, error) {
		v, ok := c.Extensions[oid]
		if ok && !utf8.Valid(v) {
			return "", errfmt.Errorf("extension %s is not UTF-8", oid)
		}
		return string(v), nil
	}
	var err error
	get := func(f func(string) (string, error), oid string) string {
		if err != nil {
			return ""
		}
		var out string
		out, err = f(oid)
		return out
	}
	s.Issuer = get(utf8Ext, oidIssuerV2)
	if s.Issuer == "" {
		s.Issuer = get(rawExt, oidIssuerV1)
	}
	s.BuildSignerURI = get(utf8Ext, oidBuildSigner)
	s.RepositoryURI = get(utf8Ext, oidSourceRepoURI)
	s.Commit = get(utf8Ext, oidSourceDigest)
	s.Ref = get(utf8Ext, oidSourceRef)
	s.BuildTrigger = get(utf8Ext, oidBuildTrigger)
	s.RunInvocationURI = get(utf8Ext, oidRunInvocation)
	s.BuildSignerDigest = get(utf8Ext, oidBuildSignerD)
	s.RunnerEnvironment = get(utf8Ext, oidRunnerEnv)
	s.RepositoryID = get(utf8Ext, oidSourceRepoID)
	s.OwnerURI = get(utf8Ext, oidSourceOwner)
	s.OwnerID = get(utf8Ext, oidSourceOwnerID)
	s.BuildConfigURI = get(utf8Ext, oidBuildConfig)
	s.BuildConfigDigest = get(utf8Ext, oidBuildConfigD)
	s.RepositoryVisibility = get(utf8Ext, oidVisibility)
	s.WorkflowName = get(rawExt, oidGHWorkflow)
	buildConfig := s.BuildConfigURI
	// Certificates issued before the .9 to .22 set carry the legacy fields.
	legacyRepo := get(rawExt, oidGHRepository)
	if s.Commit == "" {
		s.Commit = get(rawExt, oidGHSHA)
	}
	if s.Ref == "" {
		s.Ref = get(rawExt, oidGHRef)
	}
	if s.BuildTrigger == "" {
		s.BuildTrigger = get(rawExt, oidGHTrigger)
	}
	if err != nil {
		return s, nil, err
	}
	switch {
	case strings.HasPrefix(s.RepositoryURI, "https://github.com/"):
		s.Repository = strings.TrimPrefix(s.RepositoryURI, "https://github.com/")
	case legacyRepo != "":
		s.Repository = legacyRepo
		if s.RepositoryURI == "" && s.Issuer == githubIssuer {
			s.RepositoryURI = "https://github.com/" + legacyRepo
		}
	}
	// The workflow is the path in the build configuration URI (or, for
	// older certificates, in the SAN): https://github.com/o/r/PATH@REF.
	for _, u := range []string{buildConfig, s.SubjectAlternativeName} {
		if s.Repository == "" || !strings.HasPrefix(u, "https://github.com/"+s.Repository+"/") {
			continue
		}
		path := strings.TrimPrefix(u, "https://github.com/"+s.Repository+"/")
		if at := strings.LastIndex(path, "@"); at > 0 {
			s.Workflow = path[:at]
			break
		}
	}
	return s, sans, nil
}

const githubIssuer = "https://token.actions.githubusercontent.com"

// parseSAN returns the URI and email names of a subjectAltName extension;
// otherName entries (Fulcio's username form) are returned as their UTF-8
// value.
func parseSAN(v []byte) ([]string, error) {
	in := der.String(v)
	var seq der.String
	if !in.ReadASN1(&seq, der.SEQUENCE) || !in.Empty() {
		return nil, errors.New("bad subjectAltName")
	}
	var out []string
	for !seq.Empty() {
		var val der.String
		var tag der.Tag
		if !seq.ReadAnyASN1(&val, &tag) {
			return nil, errors.New("bad subjectAltName entry")
		}
		switch tag {
		case der.Tag(1).ContextSpecific(), der.Tag(6).ContextSpecific(): // rfc822Name, URI
			if !utf8.Valid(val) {
				return nil, errors.New("subjectAltName is not UTF-8")
			}
			out = append(out, string(val))
		case der.Tag(0).ContextSpecific().Constructed(): // otherName
			var oid der.OID
			var explicit, str der.String
			if val.ReadASN1ObjectIdentifier(&oid) && val.ReadASN1(&explicit, der.Tag(0).ContextSpecific().Constructed()) &&
				explicit.ReadASN1(&str, der.UTF8String) && utf8.Valid(str) {
				out = append(out, string(str))
			}
		}
	}
	return out, nil
}

// isCA reads basicConstraints.
func isCA(c *cert.Certificate) bool {
	v, ok := c.Extensions[oidBasicConstraints]
	if !ok {
		return false
	}
	in := der.String(v)
	var seq, ca der.String
	if !in.ReadASN1(&seq, der.SEQUENCE) || !seq.ReadOptionalASN1(&ca, nil, der.BOOLEAN) {
		return false
	}
	return len(ca) == 1 && ca[0] == 0xff
}

// hasEKU reports whether the extended key usage extension lists want.
func hasEKU(c *cert.Certificate, want der.OID) bool {
	v, ok := c.Extensions[oidExtKeyUsage]
	if !ok {
		return false
	}
	in := der.String(v)
	var seq der.String
	if !in.ReadASN1(&seq, der.SEQUENCE) {
		return false
	}
	for !seq.Empty() {
		var oid der.OID
		if !seq.ReadASN1ObjectIdentifier(&oid) {
			return false
		}
		if oid.Equal(want) {
			return true
		}
	}
	return false
}

func validAt(c *cert.Certificate, t time.Time) bool {
	return !t.Before(c.NotBefore) && !t.After(c.NotAfter)
}

// chainTo finds the trusted authorities that issued leaf: the authority's
// first certificate is a CA that signed leaf, and the authority's own chain
// verifies (see authorityChain).
func (v *Verifier) chainTo(ctx context.Context, leaf *cert.Certificate) ([]*authority, error) {
	var found []*authority
	var lastErr error = errors.New("no trusted certificate authority issued the certificate")
	for _, ca := range v.root.cas {
		issuer := ca.chain[0]
		if !bytes.Equal(issuer.RawSubject, leaf.RawIssuer) {
			continue
		}
		if !isCA(issuer) {
			lastErr = errors.New("the issuing certificate is not a CA")
			continue
		}
		if err := verifyCertSignature(ctx, v.sigs, issuer, leaf); err != nil {
			lastErr = errfmt.Errorf("signature by the issuing CA: %w", err)
			continue
		}
		if err := v.authorityChain(ctx, ca); err != nil {
			lastErr = err
			continue
		}
		found = append(found, ca)
	}
	if len(found) == 0 {
		return nil, lastErr
	}
	return found, nil
}

// authorityChain verifies a trusted authority's own chain: each certificate
// is signed by the next, a CA, and the last signs itself. The chain is
// trust material, so the answer is kept for the life of the Verifier.
func (v *Verifier) authorityChain(ctx context.Context, a *authority) error {
	v.mu.Lock()
	err, done := v.chains[a]
	v.mu.Unlock()
	if done {
		return err
	}
	err = verifyAuthorityChain(ctx, v.sigs, a.chain)
	v.mu.Lock()
	v.chains[a] = err
	v.mu.Unlock()
	return err
}

func verifyAuthorityChain(ctx context.Context, sv SignatureVerifier, chain []*cert.Certificate) error {
	for i, c := range chain {
		if err := checkCritical(c); err != nil {
			return errfmt.Errorf("certificate %d of the authority's chain: %w", i, err)
		}
		parent := c
		if i+1 < len(chain) {
			parent = chain[i+1]
			if !isCA(parent) {
				return errfmt.Errorf("certificate %d of the authority's chain is not a CA", i+1)
			}
		}
		if !bytes.Equal(parent.RawSubject, c.RawIssuer) {
			return errfmt.Errorf("certificate %d of the authority's chain is not issued by the next one", i)
		}
		if err := verifyCertSignature(ctx, sv, parent, c); err != nil {
			return errfmt.Errorf("signature on certificate %d of the authority's chain: %w", i, err)
		}
	}
	return nil
}

// chainValidAt reports whether every certificate of leaf's chain through
// ca, and ca's window in the trusted root, include t.
func chainValidAt(leaf *cert.Certificate, ca *authority, t time.Time) bool {
	if !validAt(leaf, t) || !ca.valid.contains(t) {
		return false
	}
	for _, c := range ca.chain {
		if !validAt(c, t) {
			return false
		}
	}
	return true
}

// verifySCTs checks the leaf's embedded signed certificate timestamps (RFC
// 6962 §3.3, precertificate entries) against the trusted CT logs and
// returns how many verify.
func verifySCTs(ctx context.Context, sv SignatureVerifier, leaf, issuer *cert.Certificate, logs []*transparencyLog) (int, error) {
	ext, ok := leaf.Extensions[oidSCTList]
	if !ok {
		return 0, errors.New("the certificate has no embedded SCT")
	}
	in := der.String(ext)
	var list, scts der.String
	if !in.ReadASN1(&list, der.OCTET_STRING) || !in.Empty() || !list.ReadUint16LengthPrefixed(&scts) || !list.Empty() {
		return 0, errors.New("malformed SCT list")
	}
	tbs, err := tbsWithout(leaf.RawTBS, oidSCTList)
	if err != nil {
		return 0, err
	}
	issuerKeyHash := sha2.Sum256(issuer.SPKI)
	verified := 0
	lastErr := errors.New("no SCT from a trusted CT log")
	for !scts.Empty() {
		var sct der.String
		var version uint8
		var logID []byte
		var ts uint64
		var exts, sig der.String
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
			lastErr = errfmt.Errorf("SCT time %s outside the CT log's window %s", when.UTC().Format(time.RFC3339), log.valid)
			continue
		}
		var b der.Builder
		b.AddUint8(0) // v1
		b.AddUint8(0) // certificate_timestamp
		b.AddUint64(ts)
		b.AddUint16(1) // precert_entry
		b.AddBytes(issuerKeyHash[:])
		b.AddUint24LengthPrefixed(func(b *der.Builder) { b.AddBytes(tbs) })
		b.AddUint16LengthPrefixed(func(b *der.Builder) { b.AddBytes(exts) })
		signed, err := b.Bytes()
		if err != nil {
			return verified, errors.New("the certificate is too large for an SCT")
		}
		scheme, hash := log.scheme, log.hash
		if err := verifyWith(ctx, sv, log.keyType, log.spki, scheme, hash, signed, sig); err != nil {
			lastErr = errfmt.Errorf("SCT signature: %w", err)
			continue
		}
		verified++
	}
	if verified == 0 {
		return 0, lastErr
	}
	return verified, nil
}

// tbsWithout re-encodes a TBSCertificate without one extension: the
// precertificate the CT log signed.
func tbsWithout(rawTBS []byte, drop string) ([]byte, error) {
	in := der.String(rawTBS)
	var tbs der.String
	if !in.ReadASN1(&tbs, der.SEQUENCE) {
		return nil, errors.New("bad tbsCertificate")
	}
	var b der.Builder
	var failed bool
	b.AddASN1(der.SEQUENCE, func(b *der.Builder) {
		for !tbs.Empty() {
			var el der.String
			var tag der.Tag
			if !tbs.ReadAnyASN1Element(&el, &tag) {
				failed = true
				return
			}
			if tag != der.Tag(3).ContextSpecific().Constructed() {
				b.AddBytes(el)
				continue
			}
			var wrapper, exts der.String
			if !el.ReadASN1(&wrapper, tag) || !wrapper.ReadASN1(&exts, der.SEQUENCE) {
				failed = true
				return
			}
			b.AddASN1(tag, func(b *der.Builder) {
				b.AddASN1(der.SEQUENCE, func(b *der.Builder) {
					for !exts.Empty() {
						var ext, body der.String
						var oid der.OID
						if !exts.ReadASN1Element(&ext, der.SEQUENCE) {
							failed = true
							return
						}
						body = ext
						if !body.ReadASN1(&body, der.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&oid) {
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

// keyIDOf is how Sigstore names a key: the SHA-256 of its
// SubjectPublicKeyInfo.
func keyIDOf(spki []byte) []byte {
	s := sha2.Sum256(spki)
	return s[:]
}
