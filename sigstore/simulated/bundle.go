//go:build !(js && wasm)

package simulated

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// Bundle media types.
const (
	MediaTypeBundle01 = "application/vnd.dev.sigstore.bundle+json;version=0.1"
	MediaTypeBundle02 = "application/vnd.dev.sigstore.bundle+json;version=0.2"
	MediaTypeBundle03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
)

// InTotoPayloadType is the DSSE payload type of an in-toto statement.
const InTotoPayloadType = "application/vnd.in-toto+json"

// Break spoils one thing in a bundle, for negative tests: every other part
// stays as a real instance would make it, so a verifier that accepts the
// bundle has skipped exactly that check.
type Break string

// The ways to break a bundle.
const (
	// BreakNone: an intact bundle.
	BreakNone Break = ""
	// BreakUntrustedCA: the certificate is issued by a CA that is not in
	// the trusted root (same names, other keys).
	BreakUntrustedCA Break = "untrusted-ca"
	// BreakCertificateExpired: the certificate expired before the entry
	// was logged (and timestamped).
	BreakCertificateExpired Break = "certificate-expired"
	// BreakTimeBeforeCertificate: the entry was logged (and timestamped)
	// before the certificate's validity began.
	BreakTimeBeforeCertificate Break = "time-before-certificate"
	// BreakUntrustedCTLog: the embedded SCT comes from a CT log that is not
	// in the trusted root.
	BreakUntrustedCTLog Break = "untrusted-ct-log"
	// BreakSCTSignature: the SCT is signed over the precertificate with its
	// poison extension, not the TBSCertificate RFC 6962 defines.
	BreakSCTSignature Break = "sct-signature"
	// BreakNoSCT: the certificate carries no SCT at all.
	BreakNoSCT Break = "no-sct"
	// BreakSignature: the signature is over other content than the
	// bundle's, and the log records that signature. (A Rekor v1 hashedrekord
	// body whose signature does not match its digest does not even parse in
	// sigstore-go: Rekor v1 checks it on upload.)
	BreakSignature Break = "signature"
	// BreakLogBody: the log entry is a genuine one, but for another
	// artifact or payload signed with the same key.
	BreakLogBody Break = "log-body"
	// BreakInclusionProof: one hash of the inclusion proof is changed.
	BreakInclusionProof Break = "inclusion-proof"
	// BreakCheckpointKey: the checkpoint is signed by another key under the
	// log's name.
	BreakCheckpointKey Break = "checkpoint-key"
	// BreakCheckpointRoot: the checkpoint is correctly signed but for
	// another root hash than the proof's.
	BreakCheckpointRoot Break = "checkpoint-root"
	// BreakSET: the signed entry timestamp is signed by another key (Rekor
	// v1 only).
	BreakSET Break = "set"
	// BreakUntrustedLog: the entry is in a log that is not in the trusted
	// root; its SET and checkpoint are that log's.
	BreakUntrustedLog Break = "untrusted-log"
	// BreakUntrustedTSA: the RFC 3161 timestamp comes from an authority
	// that is not in the trusted root (Rekor v2 only).
	BreakUntrustedTSA Break = "untrusted-tsa"
)

// Breaks lists every Break but BreakNone.
var Breaks = []Break{
	BreakUntrustedCA, BreakCertificateExpired, BreakTimeBeforeCertificate,
	BreakUntrustedCTLog, BreakSCTSignature, BreakNoSCT, BreakSignature, BreakLogBody,
	BreakInclusionProof, BreakCheckpointKey, BreakCheckpointRoot, BreakSET,
	BreakUntrustedLog, BreakUntrustedTSA,
}

// AppliesTo reports whether b can break a bundle logged in Rekor v2 (or v1).
func (b Break) AppliesTo(rekorV2 bool) bool {
	switch b {
	case BreakSET:
		return !rekorV2
	case BreakUntrustedTSA:
		return rekorV2
	}
	return true
}

// BundleOptions says what bundle to make.
type BundleOptions struct {
	// Version is the bundle version: "0.1", "0.2" or "0.3" (the default).
	// Bundles v0.1 and v0.2 carry the certificate as a one-element chain,
	// v0.3 as a single certificate. All carry an inclusion proof with a
	// checkpoint; Rekor v1 entries also an inclusion promise (SET).
	Version string
	// RekorV2 logs the signature in the Rekor v2 log, with an RFC 3161
	// timestamp instead of an integrated time. Only with version 0.3.
	RekorV2 bool
	// Break spoils one part of the bundle; see Break.
	Break Break
	// InToto logs a DSSE envelope in Rekor v1 as an intoto v0.0.2 entry, as
	// sigstore-js did for npm provenance until 2024, instead of dsse v0.0.1.
	InToto bool
	// SignedAt is when the certificate is issued, the entry logged and
	// timestamped; at most History before the instance was made. Zero: the
	// instance's clock.
	SignedAt time.Time
}

// SignStatement signs an in-toto statement as id would from CI: a DSSE
// envelope (payload type application/vnd.in-toto+json), logged, in a bundle.
// It returns the bundle's JSON.
func (in *Instance) SignStatement(id Identity, statement []byte, o BundleOptions) ([]byte, error) {
	return in.sign(&id, nil, content{payloadType: InTotoPayloadType, payload: statement, dsse: true}, o)
}

// SignArtifact signs an artifact's SHA-256 digest as id: a message
// signature, logged as a hashedrekord, in a bundle. It returns the bundle's
// JSON.
func (in *Instance) SignArtifact(id Identity, artifact []byte, o BundleOptions) ([]byte, error) {
	return in.sign(&id, nil, content{payload: artifact}, o)
}

// SignStatementWithKey signs an in-toto statement with a long-lived ECDSA
// P-256 key instead of a Fulcio certificate, the way `cosign attest-blob
// --key` does: the bundle names the key by hint, its log entry carries the
// public key. A verifier needs the key itself, as trusted material.
func (in *Instance) SignStatementWithKey(key *ecdsa.PrivateKey, hint string, statement []byte, o BundleOptions) ([]byte, error) {
	return in.sign(nil, &keySigner{key, hint}, content{payloadType: InTotoPayloadType, payload: statement, dsse: true}, o)
}

// SignArtifactWithKey signs an artifact's SHA-256 digest with a long-lived
// ECDSA P-256 key, as SignStatementWithKey does a statement.
func (in *Instance) SignArtifactWithKey(key *ecdsa.PrivateKey, hint string, artifact []byte, o BundleOptions) ([]byte, error) {
	return in.sign(nil, &keySigner{key, hint}, content{payload: artifact}, o)
}

// keySigner is a long-lived key named by a hint.
type keySigner struct {
	key  *ecdsa.PrivateKey
	hint string
}

// signerMaterial is how a log entry names the signer: a certificate or a
// public key.
type signerMaterial struct {
	pem []byte // for Rekor v1 bodies
	der []byte // for Rekor v2 bodies
	// v2Field is the Rekor v2 verifier's field for der: x509Certificate
	// or publicKey.
	v2Field string
}

func certMaterial(leaf *x509.Certificate) signerMaterial {
	return signerMaterial{pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}), der: leaf.Raw, v2Field: "x509Certificate"}
}

func keyMaterial(pub *ecdsa.PublicKey) (signerMaterial, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return signerMaterial{}, err
	}
	return signerMaterial{pem: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), der: der, v2Field: "publicKey"}, nil
}

type content struct {
	dsse        bool
	payloadType string
	payload     []byte
}

// signedBytes are what the key signs: the DSSE pre-authentication encoding,
// or the artifact.
func (c content) signedBytes() []byte {
	if !c.dsse {
		return c.payload
	}
	pae := fmt.Sprintf("DSSEv1 %d %s %d ", len(c.payloadType), c.payloadType, len(c.payload))
	return append([]byte(pae), c.payload...)
}

func (c content) other() content {
	c.payload = append(append([]byte{}, c.payload...), []byte(" (another)")...)
	return c
}

// sign signs c as id (with a Fulcio certificate) or with k.
func (in *Instance) sign(id *Identity, k *keySigner, c content, o BundleOptions) ([]byte, error) {
	if o.Version == "" {
		o.Version = "0.3"
	}
	mediaType := map[string]string{"0.1": MediaTypeBundle01, "0.2": MediaTypeBundle02, "0.3": MediaTypeBundle03}[o.Version]
	if mediaType == "" {
		return nil, fmt.Errorf("simulated: bundle version %q, want 0.1, 0.2 or 0.3", o.Version)
	}
	if o.RekorV2 && o.Version != "0.3" {
		return nil, fmt.Errorf("simulated: Rekor v2 entries go in bundles v0.3, not %s", o.Version)
	}
	if o.InToto && (o.RekorV2 || !c.dsse) {
		return nil, errors.New("simulated: intoto entries hold DSSE envelopes, in Rekor v1")
	}
	if !o.SignedAt.IsZero() && o.SignedAt.Before(in.created.Add(-History)) {
		return nil, fmt.Errorf("simulated: SignedAt %v is more than %v before the instance was made", o.SignedAt, History)
	}
	if o.Break != BreakNone && !o.Break.AppliesTo(o.RekorV2) {
		return nil, fmt.Errorf("simulated: %s does not apply to a Rekor v2=%v bundle", o.Break, o.RekorV2)
	}

	t := o.SignedAt
	if t.IsZero() {
		t = in.now()
	}
	t = t.UTC().Truncate(time.Second)

	var key *ecdsa.PrivateKey
	var leaf *x509.Certificate
	var signer signerMaterial
	var err error
	if k != nil {
		if o.Break.needsCertificate() {
			return nil, fmt.Errorf("simulated: %s needs a certificate, not a key", o.Break)
		}
		if k.key == nil || k.key.Curve != elliptic.P256() {
			return nil, errors.New("simulated: the key must be ECDSA P-256")
		}
		key = k.key
		if signer, err = keyMaterial(&key.PublicKey); err != nil {
			return nil, err
		}
	} else {
		if key, err = newKeyP256(); err != nil {
			return nil, err
		}
		if leaf, err = in.certify(*id, key, t, o.Break); err != nil {
			return nil, err
		}
		signer = certMaterial(leaf)
	}

	signed := c
	if o.Break == BreakSignature {
		signed = c.other()
	}
	digest := sha256.Sum256(signed.signedBytes())
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return nil, err
	}

	logged, loggedSig := c, sig
	if o.Break == BreakLogBody {
		// A genuine entry, but for something else the same key signed.
		logged = c.other()
		d := sha256.Sum256(logged.signedBytes())
		if loggedSig, err = ecdsa.SignASN1(rand.Reader, key, d[:]); err != nil {
			return nil, err
		}
	}
	entry, err := in.logEntry(logged, loggedSig, signer, t, o)
	if err != nil {
		return nil, err
	}

	b := jsonBundle{MediaType: mediaType}
	switch {
	case k != nil:
		b.VerificationMaterial.PublicKey = &jsonPublicKeyIdentifier{Hint: k.hint}
	case o.Version == "0.3":
		b.VerificationMaterial.Certificate = &jsonRawBytes{RawBytes: leaf.Raw}
	default:
		b.VerificationMaterial.X509CertificateChain = &jsonCertChain{Certificates: []jsonRawBytes{{RawBytes: leaf.Raw}}}
	}
	b.VerificationMaterial.TlogEntries = []jsonTlogEntry{*entry}
	if o.RekorV2 {
		authority := in.tsa
		if o.Break == BreakUntrustedTSA {
			authority = in.otherTSA
		}
		ts, err := authority.stamp(sig, t)
		if err != nil {
			return nil, err
		}
		b.VerificationMaterial.TimestampVerificationData = &jsonTimestampData{
			RFC3161Timestamps: []jsonSignedTimestamp{{SignedTimestamp: ts}},
		}
	}
	if c.dsse {
		b.DSSEEnvelope = &jsonEnvelope{Payload: c.payload, PayloadType: c.payloadType, Signatures: []jsonSignature{{Sig: sig}}}
	} else {
		sum := sha256.Sum256(c.payload)
		b.MessageSignature = &jsonMessageSignature{MessageDigest: jsonHashOutput{Algorithm: "SHA2_256", Digest: sum[:]}, Signature: sig}
	}
	return json.MarshalIndent(b, "", "  ")
}

// logEntry logs what was signed and returns the bundle's entry.
func (in *Instance) logEntry(c content, sig []byte, signer signerMaterial, t time.Time, o BundleOptions) (*jsonTlogEntry, error) {
	log, other := in.rekorV1, in.otherRekorV1
	if o.RekorV2 {
		log, other = in.rekorV2, in.otherRekorV2
	}
	if o.Break == BreakUntrustedLog {
		log, other = other, log
	}
	var body []byte
	var err error
	kind, version := "hashedrekord", "0.0.1"
	switch {
	case o.RekorV2:
		version = "0.0.2"
		body, err = hashedRekordV002(c, sig, signer)
	case c.dsse && o.InToto:
		kind, version = "intoto", "0.0.2"
		body, err = intotoV002(c, sig, signer)
	case c.dsse:
		kind = "dsse"
		body, err = dsseV001(c, sig, signer)
	default:
		body, err = hashedRekordV001(c, sig, signer)
	}
	if err != nil {
		return nil, err
	}
	p := log.append(body)
	cpRoot := p.root
	if o.Break == BreakCheckpointRoot {
		cpRoot[0] ^= 1
	}
	cpSigner := log
	if o.Break == BreakCheckpointKey {
		cpSigner = other
	}
	cp, err := cpSigner.checkpoint(p.size, cpRoot[:])
	if err != nil {
		return nil, err
	}
	if o.Break == BreakInclusionProof {
		p.hashes[0] = append([]byte{}, p.hashes[0]...)
		p.hashes[0][0] ^= 1
	}
	e := &jsonTlogEntry{
		LogIndex:    p.index,
		LogID:       jsonLogID{KeyID: log.logID},
		KindVersion: jsonKindVersion{Kind: kind, Version: version},
		InclusionProof: &jsonInclusionProof{
			LogIndex: p.index, RootHash: p.root[:], TreeSize: p.size, Hashes: p.hashes,
			Checkpoint: jsonCheckpoint{Envelope: cp},
		},
		CanonicalizedBody: body,
	}
	if !o.RekorV2 {
		e.IntegratedTime = t.Unix()
		setSigner := log
		if o.Break == BreakSET {
			setSigner = other
		}
		set, err := setSigner.signSET(log.logID, body, e.IntegratedTime, e.LogIndex)
		if err != nil {
			return nil, err
		}
		e.InclusionPromise = &jsonInclusionPromise{SignedEntryTimestamp: set}
	}
	return e, nil
}

// The bodies are written with their keys in canonical (sorted) order and
// values that need no escaping, so they are the canonical JSON Rekor stores.

// hashedRekordV001 is Rekor v1's hashedrekord v0.0.1 body.
func hashedRekordV001(c content, sig []byte, signer signerMaterial) ([]byte, error) {
	sum := sha256.Sum256(c.payload)
	return []byte(`{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"` +
		hex.EncodeToString(sum[:]) + `"}},"signature":{"content":"` + b64(sig) +
		`","publicKey":{"content":"` + b64(signer.pem) + `"}}}}`), nil
}

// dsseV001 is Rekor v1's dsse v0.0.1 body: the hashes of the envelope (as
// submitted) and of the payload, and the signatures with their
// certificates.
func dsseV001(c content, sig []byte, signer signerMaterial) ([]byte, error) {
	env, err := json.Marshal(jsonEnvelope{Payload: c.payload, PayloadType: c.payloadType, Signatures: []jsonSignature{{Sig: sig}}})
	if err != nil {
		return nil, err
	}
	envHash := sha256.Sum256(env)
	payloadHash := sha256.Sum256(c.payload)
	return []byte(`{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":"` +
		hex.EncodeToString(envHash[:]) + `"},"payloadHash":{"algorithm":"sha256","value":"` +
		hex.EncodeToString(payloadHash[:]) + `"},"signatures":[{"signature":"` + b64(sig) +
		`","verifier":"` + b64(signer.pem) + `"}]}}`), nil
}

// intotoV002 is Rekor v1's intoto v0.0.2 body: the envelope without its
// payload, each signature base64-encoded once more (Rekor stores the
// envelope's base64 text as bytes) with its certificate, the hash of the
// envelope as submitted and of the payload.
func intotoV002(c content, sig []byte, signer signerMaterial) ([]byte, error) {
	env, err := json.Marshal(jsonEnvelope{Payload: c.payload, PayloadType: c.payloadType, Signatures: []jsonSignature{{Sig: sig}}})
	if err != nil {
		return nil, err
	}
	payloadType, err := json.Marshal(c.payloadType)
	if err != nil {
		return nil, err
	}
	envHash := sha256.Sum256(env)
	payloadHash := sha256.Sum256(c.payload)
	return []byte(`{"apiVersion":"0.0.2","kind":"intoto","spec":{"content":{"envelope":{"payloadType":` + string(payloadType) +
		`,"signatures":[{"publicKey":"` + b64(signer.pem) + `","sig":"` + b64([]byte(b64(sig))) +
		`"}]},"hash":{"algorithm":"sha256","value":"` + hex.EncodeToString(envHash[:]) +
		`"},"payloadHash":{"algorithm":"sha256","value":"` + hex.EncodeToString(payloadHash[:]) + `"}}}}`), nil
}

// hashedRekordV002 is Rekor v2's hashedrekord v0.0.2 body (protojson of
// rekor-tiles' Entry, canonicalized). A DSSE envelope is logged as the
// digest of its pre-authentication encoding, as Rekor v2 clients do.
func hashedRekordV002(c content, sig []byte, signer signerMaterial) ([]byte, error) {
	sum := sha256.Sum256(c.signedBytes())
	return []byte(`{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"` +
		b64(sum[:]) + `"},"signature":{"content":"` + b64(sig) +
		`","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","` + signer.v2Field + `":{"rawBytes":"` + b64(signer.der) + `"}}}}}}`), nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// The bundle's JSON (protobuf-specs' Bundle in protojson: 64-bit integers
// as strings, bytes in standard base64).
type jsonBundle struct {
	MediaType            string                   `json:"mediaType"`
	VerificationMaterial jsonVerificationMaterial `json:"verificationMaterial"`
	MessageSignature     *jsonMessageSignature    `json:"messageSignature,omitempty"`
	DSSEEnvelope         *jsonEnvelope            `json:"dsseEnvelope,omitempty"`
}

type jsonVerificationMaterial struct {
	PublicKey                 *jsonPublicKeyIdentifier `json:"publicKey,omitempty"`
	X509CertificateChain      *jsonCertChain           `json:"x509CertificateChain,omitempty"`
	Certificate               *jsonRawBytes            `json:"certificate,omitempty"`
	TlogEntries               []jsonTlogEntry          `json:"tlogEntries"`
	TimestampVerificationData *jsonTimestampData       `json:"timestampVerificationData,omitempty"`
}

type jsonPublicKeyIdentifier struct {
	Hint string `json:"hint"`
}

type jsonTlogEntry struct {
	LogIndex          int64                 `json:"logIndex,string"`
	LogID             jsonLogID             `json:"logId"`
	KindVersion       jsonKindVersion       `json:"kindVersion"`
	IntegratedTime    int64                 `json:"integratedTime,string,omitempty"`
	InclusionPromise  *jsonInclusionPromise `json:"inclusionPromise,omitempty"`
	InclusionProof    *jsonInclusionProof   `json:"inclusionProof,omitempty"`
	CanonicalizedBody []byte                `json:"canonicalizedBody"`
}

type jsonKindVersion struct {
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

type jsonInclusionPromise struct {
	SignedEntryTimestamp []byte `json:"signedEntryTimestamp"`
}

type jsonInclusionProof struct {
	LogIndex   int64          `json:"logIndex,string"`
	RootHash   []byte         `json:"rootHash"`
	TreeSize   int64          `json:"treeSize,string"`
	Hashes     [][]byte       `json:"hashes"`
	Checkpoint jsonCheckpoint `json:"checkpoint"`
}

type jsonCheckpoint struct {
	Envelope string `json:"envelope"`
}

type jsonTimestampData struct {
	RFC3161Timestamps []jsonSignedTimestamp `json:"rfc3161Timestamps"`
}

type jsonSignedTimestamp struct {
	SignedTimestamp []byte `json:"signedTimestamp"`
}

type jsonMessageSignature struct {
	MessageDigest jsonHashOutput `json:"messageDigest"`
	Signature     []byte         `json:"signature"`
}

type jsonHashOutput struct {
	Algorithm string `json:"algorithm"`
	Digest    []byte `json:"digest"`
}

type jsonEnvelope struct {
	Payload     []byte          `json:"payload"`
	PayloadType string          `json:"payloadType"`
	Signatures  []jsonSignature `json:"signatures"`
}

type jsonSignature struct {
	Sig   []byte `json:"sig"`
	KeyID string `json:"keyid,omitempty"`
}

// certify issues a Fulcio certificate for key as id at time t, broken as b
// says.
func (in *Instance) certify(id Identity, key *ecdsa.PrivateKey, t time.Time, b Break) (*x509.Certificate, error) {
	notBefore := t.Add(-5 * time.Second)
	switch b {
	case BreakCertificateExpired:
		notBefore = t.Add(-20 * time.Minute)
	case BreakTimeBeforeCertificate:
		notBefore = t.Add(5 * time.Minute)
	}
	tmpl, err := leafTemplate(id, notBefore)
	if err != nil {
		return nil, err
	}
	fulcio, ct := in.fulcio, in.ct
	if b == BreakUntrustedCA {
		fulcio = in.otherFulcio
	}
	if b == BreakUntrustedCTLog {
		ct = in.otherCT
	}
	sct := sctGood
	switch b {
	case BreakSCTSignature:
		sct = sctOverPoison
	case BreakNoSCT:
		sct = sctNone
	}
	return fulcio.issueLeaf(tmpl, key.Public(), ct, notBefore, sct)
}

// needsCertificate reports whether b spoils the certificate, so that it
// cannot apply to a bundle signed with a key.
func (b Break) needsCertificate() bool {
	switch b {
	case BreakUntrustedCA, BreakCertificateExpired, BreakTimeBeforeCertificate,
		BreakUntrustedCTLog, BreakSCTSignature, BreakNoSCT:
		return true
	}
	return false
}
