package sigstore

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/cert"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/hex"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
	"github.com/cvmtrust/cvmtrust/internal/strictjson"
)

// Verifier checks Sigstore bundles against one trusted root.
type Verifier struct {
	root *TrustedRoot
	sigs SignatureVerifier
	now  func() time.Time

	mu     sync.Mutex
	chains map[*authority]error // authorityChain's answers
}

// New builds a Verifier. Without Options.TrustedRoot it trusts the
// embedded Sigstore public-good root.
func New(opts Options) (*Verifier, error) {
	v := &Verifier{root: opts.TrustedRoot, sigs: opts.Signatures, now: opts.Now, chains: map[*authority]error{}}
	if v.root == nil {
		var err error
		if v.root, err = PublicGoodTrustedRoot(); err != nil {
			return nil, err
		}
	}
	if v.sigs == nil {
		v.sigs = defaultSignatures()
		if v.sigs == nil {
			return nil, errors.New("sigstore: Options.Signatures is required in this build")
		}
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// compiled is a checked Policy.
type compiled struct {
	Policy
	digest     []byte            // SHA-256 of the artifact
	digest512  []byte            // SHA-512 of the artifact, when its bytes are given
	identityRE func(string) bool // nil: Identity is exact
	keyType    cert.KeyType
	keySPKI    []byte
}

func compilePolicy(p Policy) (*compiled, error) {
	c := &compiled{Policy: p}
	bad := func(format string, args ...any) error {
		return errfmt.Errorf("%w: %s", ErrBadPolicy, errfmt.Sprintf(format, args...))
	}
	switch {
	case p.Artifact != nil && p.ArtifactDigest != nil:
		return nil, bad("give the artifact or its digest, not both")
	case p.Artifact != nil:
		s := sha2.Sum256(p.Artifact)
		c.digest = s[:]
		c.digest512 = hashBytes(SHA512, p.Artifact)
	case len(p.ArtifactDigest) == sha2.Size256:
		c.digest = p.ArtifactDigest
	default:
		return nil, bad("the artifact or its SHA-256 digest is required")
	}
	identity := p.Issuer != "" || p.Identity != "" || p.IdentityRegexp != "" || p.Repository != "" ||
		p.RefPattern != "" || p.Workflow != ""
	if p.Key != nil {
		if identity {
			return nil, bad("a key and a certificate identity exclude each other")
		}
		der := p.Key
		if block, rest := pem.Decode(p.Key); block != nil {
			if block.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) != 0 {
				return nil, bad("the key must be one PEM PUBLIC KEY block")
			}
			der = block.Bytes
		}
		var err error
		if c.keyType, c.keySPKI, err = cert.ParseSPKI(der); err != nil {
			return nil, bad("the key: %v", err)
		}
		return c, nil
	}
	if p.Issuer == "" {
		return nil, bad("the OIDC issuer is required")
	}
	if p.Identity != "" && p.IdentityRegexp != "" {
		return nil, bad("give an identity or an identity pattern, not both")
	}
	if p.Identity == "" && p.IdentityRegexp == "" && (p.Repository == "" || p.Workflow == "") {
		return nil, bad("name the signer: an identity, an identity pattern, or a repository and its workflow")
	}
	var err error
	if p.IdentityRegexp != "" {
		if c.identityRE, err = compileIdentityRegexp(p.IdentityRegexp); err != nil {
			return nil, bad("identity pattern: %v", err)
		}
	}
	if p.RefPattern != "" {
		if _, err := path.Match(p.RefPattern, ""); err != nil {
			return nil, bad("ref pattern: %v", err)
		}
	}
	if p.MaxAge < 0 {
		return nil, bad("negative maximum age")
	}
	return c, nil
}

// run collects checks for one verification.
type run struct {
	r      *Result
	failed bool
}

func (x *run) pass(name, detail string) {
	x.r.Checks = append(x.r.Checks, Check{Name: name, Outcome: Pass, Detail: detail})
}

func (x *run) skip(name, detail string) {
	x.r.Checks = append(x.r.Checks, Check{Name: name, Outcome: Skipped, Detail: detail})
}

func (x *run) fail(name string, sentinel error, field, got, want, detail string) {
	x.failed = true
	x.r.Checks = append(x.r.Checks, Check{Name: name, Outcome: Fail, Field: field, Got: got, Want: want,
		Detail: detail, err: sentinel})
}

func (x *run) failErr(name string, sentinel error, field string, err error) {
	detail := sentinel.Error()
	if err != nil {
		detail = err.Error()
	}
	x.fail(name, sentinel, field, "", "", detail)
}

func (x *run) reject() (*Result, error) {
	x.r.Verified = false
	return nil, &RejectedError{Result: x.r}
}

// sortTimes puts times in order, earliest first, by insertion: only
// verified log entries and timestamps give a time, so there are a handful.
// sort.Slice takes an any and links reflection's swapper, and
// slices.SortFunc instantiates pdqsort for time.Time: several KB of
// brotli-compressed wasm either way.
func sortTimes(times []time.Time) {
	for i := 1; i < len(times); i++ {
		for j := i; j > 0 && times[j].Before(times[j-1]); j-- {
			times[j], times[j-1] = times[j-1], times[j]
		}
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Verify checks a bundle (its JSON) against the policy. It returns a Result
// if and only if every check passed; otherwise a *RejectedError holding the
// Result, or an error wrapping ErrBadPolicy when the policy is unusable.
func (v *Verifier) Verify(ctx context.Context, bundleJSON []byte, p Policy) (*Result, error) {
	pol, err := compilePolicy(p)
	if err != nil {
		return nil, err
	}
	x := &run{r: &Result{MediaType: MediaType, Simulated: v.root.Simulated, TrustedRoot: v.root.Name,
		ArtifactDigest: hex.Encode(pol.digest), LogEntries: []LogEntry{}, VerifiedTimes: []VerifiedTime{}}}
	r := x.r

	b, err := parseBundle(bundleJSON)
	if err != nil {
		sentinel := ErrMalformedBundle
		if errors.Is(err, ErrUnsupported) {
			sentinel = ErrUnsupported
		} else if errors.Is(err, ErrMalformedCert) {
			sentinel = ErrMalformedCert
		}
		x.failErr("bundle", sentinel, "", err)
		return x.reject()
	}
	r.BundleMediaType = b.mediaType
	x.pass("bundle", b.mediaType)

	// The signing key: the Fulcio leaf, or the caller's key.
	sc := &signedContent{}
	var leaf *cert.Certificate
	var keyType cert.KeyType
	switch {
	case b.keyMode && pol.Key == nil:
		x.fail("signingKey", ErrKeyMismatch, "verificationMaterial.publicKey", "a public key", "a certificate",
			"the bundle is signed with a key, but no key was given")
		return x.reject()
	case !b.keyMode && pol.Key != nil:
		x.fail("signingKey", ErrKeyMismatch, "verificationMaterial", "a certificate", "a public key",
			"a key was given, but the bundle is signed with a certificate")
		return x.reject()
	case b.keyMode:
		keyType, sc.spki = pol.keyType, pol.keySPKI
		x.pass("signingKey", "the given key")
	default:
		// Only the leaf is read: the chain above it comes from the trusted
		// root, never from the bundle (older bundles carry the whole chain).
		leaf = b.certs[0]
		sc.leaf = leaf
		keyType, sc.spki = leaf.KeyType, leaf.SPKI
		x.pass("signingKey", "the certificate's key")
	}
	r.Signer.KeyID = hex.Encode(keyIDOf(sc.spki))
	scheme, hash := defaultAlgorithm(keyType)
	sc.hash = hash
	if scheme == Ed25519 {
		sc.hash = SHA512 // Rekor v2 records Ed25519 signatures prehashed
	}

	// The signature over the artifact or the envelope.
	if b.msg != nil {
		sc.sig = b.msg.sig
		sc.msgDigest = pol.digest
		if b.msg.digest != nil && (b.msg.digestAlg != "SHA2_256" || !bytes.Equal(b.msg.digest, pol.digest)) {
			x.fail("artifactDigest", ErrArtifact, "messageSignature.messageDigest", hex.Encode(b.msg.digest),
				hex.Encode(pol.digest), "the bundle's message digest is not the artifact's")
		} else {
			x.pass("artifactDigest", "")
		}
		if err := v.verifyMessage(ctx, keyType, sc.spki, scheme, hash, pol, b.msg.sig); err != nil {
			x.failErr("signature", ErrBadSignature, "messageSignature.signature", err)
		} else {
			x.pass("signature", scheme.String()+" over the artifact")
		}
	} else {
		sc.sig = b.dsse.sig
		sc.pae = pae(b.dsse.payloadType, b.dsse.payload)
		ps := sha2.Sum256(b.dsse.payload)
		sc.payloadSHA = ps[:]
		r.PayloadType, r.Payload = b.dsse.payloadType, b.dsse.payload
		if err := verifyWith(ctx, v.sigs, keyType, sc.spki, scheme, hash, sc.pae, b.dsse.sig); err != nil {
			x.failErr("signature", ErrBadSignature, "dsseEnvelope.signatures[0].sig", err)
		} else {
			x.pass("signature", scheme.String()+" over the DSSE envelope")
		}
		st, err := parseStatement(b.dsse.payloadType, b.dsse.payload)
		switch {
		case err != nil:
			x.failErr("artifactDigest", ErrArtifact, "dsseEnvelope.payload", err)
		case !st.hasSubject(pol.digest, pol.digest512):
			x.fail("artifactDigest", ErrArtifact, "dsseEnvelope.payload.subject", "", "sha256:"+hex.Encode(pol.digest),
				"no subject of the in-toto statement has the artifact's digest")
		default:
			r.Statement = st
			x.pass("artifactDigest", "an in-toto subject")
		}
	}

	// Transparency log entries and timestamps give the verified times.
	var times []time.Time
	verifiedLogs := 0
	for i, e := range b.entries {
		name := "tlogEntries[" + strconv.Itoa(i) + "]"
		ok, t := v.checkEntry(ctx, x, name, e, sc, leaf, b.version)
		if ok {
			verifiedLogs++
			if t != nil {
				times = append(times, *t)
			}
		}
	}
	if verifiedLogs == 0 {
		x.fail("transparencyLog", ErrMissingTransparency, "verificationMaterial.tlogEntries", strconv.Itoa(len(b.entries)), "1",
			"no entry from a trusted transparency log verified")
	}
	for i, der := range b.timestamps {
		name := "rfc3161Timestamps[" + strconv.Itoa(i) + "]"
		t, a, err := v.verifyTimeStamp(ctx, der, sc.sig)
		if err != nil {
			x.failErr(name, ErrTimestamp, "timestampVerificationData."+name, err)
			continue
		}
		times = append(times, t)
		r.VerifiedTimes = append(r.VerifiedTimes, VerifiedTime{Source: "rfc3161", URI: a.uri, Time: rfc3339(t)})
		x.pass(name, "genTime "+rfc3339(t))
	}
	if len(times) == 0 {
		x.fail("verifiedTime", ErrNoVerifiedTime, "", "", "",
			"neither an inclusion promise nor a trusted timestamp says when the bundle was signed")
	} else {
		sortTimes(times)
		r.signedAt = times[0]
		r.SignedAt = rfc3339(times[0])
	}

	if leaf != nil {
		v.checkCertificate(ctx, x, b.certs, times, pol)
	}
	if pol.MaxAge > 0 && len(times) > 0 {
		age := v.now().Sub(times[0])
		if age > pol.MaxAge {
			x.fail("maxAge", ErrTooOld, "signedAt", age.Round(time.Second).String(), "at most "+pol.MaxAge.String(),
				"signed "+rfc3339(times[0])+", longer ago than the policy allows")
		} else {
			x.pass("maxAge", "signed "+age.Round(time.Second).String()+" ago")
		}
	}
	if x.failed {
		return x.reject()
	}
	r.Verified = true
	return r, nil
}

// verifyMessage checks a message signature: over the artifact's bytes when
// the policy has them, else over the digest.
func (v *Verifier) verifyMessage(ctx context.Context, kt cert.KeyType, spki []byte, scheme Scheme, hash Hash, pol *compiled, sig []byte) error {
	if pol.Artifact != nil {
		return verifyWith(ctx, v.sigs, kt, spki, scheme, hash, pol.Artifact, sig)
	}
	if hash != SHA256 {
		return errfmt.Errorf("a %v signature needs the artifact's bytes, not its SHA-256", scheme)
	}
	dv, ok := v.sigs.(DigestVerifier)
	if !ok {
		return errors.New("this signature verifier needs the artifact's bytes, not its digest")
	}
	if scheme == ECDSA {
		var err error
		if sig, err = derToP1363(sig, curveSize(kt)); err != nil {
			return err
		}
	}
	return dv.VerifyDigest(ctx, scheme, hash, spki, pol.digest, sig)
}

// checkEntry verifies one log entry. It returns whether the entry verified
// and, for a Rekor v1 entry with an inclusion promise, the integrated time.
func (v *Verifier) checkEntry(ctx context.Context, x *run, name string, e *tlogEntry, sc *signedContent, leaf *cert.Certificate, bundleVersion int) (bool, *time.Time) {
	field := "verificationMaterial." + name
	log := v.root.findLog(e.logID)
	if log == nil {
		// As in sigstore-go, an entry from another log is passed over; the
		// bundle still needs one verified entry from a trusted log.
		x.skip(name, "the entry is from a log the trusted root does not name ("+hex.Encode(e.logID)+")")
		return false, nil
	}
	rv, err := rekorVersion(e.kind, e.kindVersion)
	if err != nil {
		x.failErr(name, ErrUnsupported, field+".kindVersion", err)
		return false, nil
	}
	ok := true
	if f, err := checkBody(e, sc); err != nil {
		x.failErr(name+".body", ErrLogEntry, field+".canonicalizedBody."+f, err)
		ok = false
	} else {
		x.pass(name+".body", "the "+e.kind+" "+e.kindVersion+" entry records this signature and key")
	}
	var integrated *time.Time
	if rv == 1 && e.set != nil {
		if err := verifySET(ctx, v.sigs, e, log); err != nil {
			x.failErr(name+".inclusionPromise", ErrSET, field+".inclusionPromise", err)
			ok = false
		} else {
			t := time.Unix(e.integratedTime, 0)
			integrated = &t
			x.pass(name+".inclusionPromise", "integrated "+rfc3339(t))
		}
	} else if rv == 2 && e.set != nil {
		x.failErr(name+".inclusionPromise", ErrSET, field+".inclusionPromise", errors.New("a Rekor v2 entry has no inclusion promise"))
		ok = false
	}
	if e.proof == nil {
		if rv == 2 || bundleVersion >= 2 {
			x.failErr(name+".inclusionProof", ErrInclusionProof, field+".inclusionProof", errors.New("the inclusion proof is missing"))
			ok = false
		} else {
			x.skip(name+".inclusionProof", "a v0.1 bundle may rely on the inclusion promise alone")
		}
	} else {
		root, err := merkleRoot(e.proof.logIndex, e.proof.treeSize, leafHash(e.body), e.proof.hashes)
		if err == nil && !bytes.Equal(root, e.proof.rootHash) {
			err = errfmt.Errorf("computed root %x, the proof says %x", root, e.proof.rootHash)
		}
		if err != nil {
			x.failErr(name+".inclusionProof", ErrInclusionProof, field+".inclusionProof", err)
			ok = false
		} else {
			x.pass(name+".inclusionProof", "leaf "+strconv.FormatInt(e.proof.logIndex, 10)+" of "+strconv.FormatInt(e.proof.treeSize, 10))
		}
		if err := verifyCheckpoint(ctx, v.sigs, e.proof, log, rv == 2); err != nil {
			x.failErr(name+".checkpoint", ErrCheckpoint, field+".inclusionProof.checkpoint", err)
			ok = false
		} else {
			x.pass(name+".checkpoint", "signed by "+log.baseURL)
		}
	}
	if rv == 1 && e.integratedTime != 0 && leaf != nil {
		t := time.Unix(e.integratedTime, 0)
		if !validAt(leaf, t) {
			x.fail(name+".integratedTime", ErrCertValidity, field+".integratedTime", rfc3339(t),
				rfc3339(leaf.NotBefore)+" to "+rfc3339(leaf.NotAfter), "the entry was integrated outside the certificate's validity")
			ok = false
		}
	}
	if !ok {
		return false, nil
	}
	le := LogEntry{RekorVersion: rv, LogURL: log.baseURL, LogID: hex.Encode(e.logID), LogIndex: e.logIndex,
		Kind: e.kind, KindVersion: e.kindVersion}
	if e.proof != nil {
		le.TreeSize, le.RootHash = e.proof.treeSize, hex.Encode(e.proof.rootHash)
	}
	if integrated != nil {
		le.IntegratedTime = rfc3339(*integrated)
		x.r.VerifiedTimes = append(x.r.VerifiedTimes, VerifiedTime{Source: "rekor", URI: log.baseURL, Time: rfc3339(*integrated)})
	}
	x.r.LogEntries = append(x.r.LogEntries, le)
	return true, integrated
}

// checkCertificate checks the Fulcio leaf: its chain at every verified
// time, its SCTs, and its identity against the policy.
func (v *Verifier) checkCertificate(ctx context.Context, x *run, certs []*cert.Certificate, times []time.Time, pol *compiled) {
	const field = "verificationMaterial.certificate"
	leaf := certs[0]
	if err := checkCritical(leaf); err != nil {
		x.failErr("certificate", ErrMalformedCert, field, err)
	} else if !hasEKU(leaf, oidCodeSigning) {
		x.fail("certificate", ErrBadChain, field+".extKeyUsage", "", "codeSigning", "the certificate is not for code signing")
	} else if isCA(leaf) {
		x.fail("certificate", ErrBadChain, field+".basicConstraints", "CA", "not a CA", "the signing certificate is a CA")
	} else {
		x.pass("certificate", "a code-signing leaf")
	}
	cas, err := v.chainTo(ctx, leaf)
	if err != nil {
		x.failErr("certificateChain", ErrBadChain, field, err)
		return
	}
	// Older bundles carry the chain above the leaf. It is not needed (the
	// trusted root has it) but must then be the authority's own.
	for i, c := range certs[1:] {
		found := false
		for _, ca := range cas {
			for _, tc := range ca.chain {
				found = found || bytes.Equal(c.Raw, tc.Raw)
			}
		}
		if !found {
			x.fail("certificateChain", ErrBadChain, "verificationMaterial.x509CertificateChain.certificates["+strconv.Itoa(i+1)+"]",
				"", "", "the bundle's chain holds a certificate that is not the trusted authority's")
			return
		}
	}
	x.pass("certificateChain", "issued by "+cas[0].uri)
	issuer := cas[0].chain[0]
	if len(times) == 0 {
		x.skip("certificateValidity", "no verified time to check the certificate at")
	}
	for _, t := range times {
		valid := false
		for _, ca := range cas {
			valid = valid || chainValidAt(leaf, ca, t)
		}
		if !valid {
			x.fail("certificateValidity", ErrCertValidity, field, rfc3339(t),
				rfc3339(leaf.NotBefore)+" to "+rfc3339(leaf.NotAfter)+" within the authority's window",
				"the certificate, its chain or its authority was not valid at a verified signing time")
			return
		}
	}
	if len(times) > 0 {
		x.pass("certificateValidity", "valid at every verified time")
	}
	if n, err := verifySCTs(ctx, v.sigs, leaf, issuer, v.root.ctlogs); err != nil {
		x.failErr("signedCertificateTimestamp", ErrSCT, field+".sct", err)
	} else {
		x.pass("signedCertificateTimestamp", strconv.Itoa(n)+" from a trusted CT log")
	}

	s, sans, err := identity(leaf)
	if err != nil {
		x.failErr("identity", ErrMalformedCert, field, err)
		return
	}
	s.KeyID = x.r.Signer.KeyID
	x.r.Signer = s
	if s.Issuer != pol.Issuer {
		x.fail("issuer", ErrIdentity, field+".issuer", s.Issuer, pol.Issuer, "the certificate was issued for another OIDC issuer")
	} else {
		x.pass("issuer", s.Issuer)
	}
	if pol.Identity != "" || pol.identityRE != nil {
		matched := false
		for _, san := range sans {
			if (pol.identityRE != nil && pol.identityRE(san)) || (pol.identityRE == nil && san == pol.Identity) {
				matched = true
			}
		}
		want := pol.Identity
		if pol.identityRE != nil {
			want = pol.IdentityRegexp
		}
		if !matched {
			x.fail("identity", ErrIdentity, field+".subjectAlternativeName", s.SubjectAlternativeName, want, "the certificate names another signer")
		} else {
			x.pass("identity", s.SubjectAlternativeName)
		}
	}
	if pol.Repository != "" {
		if s.Repository != pol.Repository {
			x.fail("repository", ErrIdentity, field+".sourceRepository", s.Repository, pol.Repository, "the release was built from another repository")
		} else {
			x.pass("repository", s.Repository)
		}
	}
	if pol.RefPattern != "" {
		if ok, _ := path.Match(pol.RefPattern, s.Ref); !ok || s.Ref == "" {
			x.fail("ref", ErrIdentity, field+".sourceRepositoryRef", s.Ref, pol.RefPattern, "the release was built from another ref")
		} else {
			x.pass("ref", s.Ref)
		}
	}
	if pol.Workflow != "" {
		if s.Workflow != pol.Workflow {
			x.fail("workflow", ErrIdentity, field+".buildConfigURI", s.Workflow, pol.Workflow, "another workflow signed")
		} else {
			x.pass("workflow", s.Workflow)
		}
	}
}

// pae is DSSE's pre-authentication encoding.
func pae(payloadType string, payload []byte) []byte {
	b := []byte("DSSEv1 ")
	b = strconv.AppendInt(b, int64(len(payloadType)), 10)
	b = append(b, ' ')
	b = append(b, payloadType...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(payload)), 10)
	b = append(b, ' ')
	return append(b, payload...)
}

const inTotoPayloadType = "application/vnd.in-toto+json"

func parseStatement(payloadType string, payload []byte) (*Statement, error) {
	if payloadType != inTotoPayloadType {
		return nil, errfmt.Errorf("payload type %q is not an in-toto statement", payloadType)
	}
	v, err := strictjson.ParseLimits(payload, strictjson.Limits{MaxBytes: maxDSSEPayload, MaxDepth: 64})
	if err != nil {
		return nil, err
	}
	st := &Statement{Type: stringOf(v.Get("_type")), PredicateType: stringOf(v.Get("predicateType"))}
	switch st.Type {
	case "https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1":
	default:
		return nil, errfmt.Errorf("statement type %q is not in-toto v0.1 or v1", st.Type)
	}
	for _, s := range arrayOf(v.Get("subject")) {
		sub := Subject{Name: stringOf(s.Get("name")), Digest: map[string]string{}}
		if d := s.Get("digest"); d != nil && d.Kind == strictjson.Object {
			for _, m := range d.Members {
				sub.Digest[m.Key] = stringOf(m.Value)
			}
		}
		st.Subjects = append(st.Subjects, sub)
	}
	if len(st.Subjects) == 0 {
		return nil, errors.New("the statement has no subject")
	}
	return st, nil
}

// hasSubject reports whether a subject has the artifact's SHA-256 or, when
// known, its SHA-512 (npm's provenance names packages by SHA-512). Every
// digest a subject gives for an algorithm we computed must match.
func (st *Statement) hasSubject(sha256, sha512 []byte) bool {
	for _, s := range st.Subjects {
		matched, mismatched := false, false
		for alg, want := range map[string][]byte{"sha256": sha256, "sha512": sha512} {
			d, ok := s.Digest[alg]
			if !ok || want == nil {
				continue
			}
			if d == hex.Encode(want) {
				matched = true
			} else {
				mismatched = true
			}
		}
		if matched && !mismatched {
			return true
		}
	}
	return false
}
