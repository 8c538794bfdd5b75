package sigstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/cert"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/hex"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
	"github.com/cvmtrust/cvmtrust/internal/strictjson"
)

// rekorVersion tells Rekor v1 entries (kinds hashedrekord 0.0.1, intoto
// 0.0.2, dsse 0.0.1) from Rekor v2 ones (hashedrekord and dsse 0.0.2).
func rekorVersion(kind, version string) (int, error) {
	switch kind + "/" + version {
	case "hashedrekord/0.0.1", "intoto/0.0.2", "dsse/0.0.1":
		return 1, nil
	case "hashedrekord/0.0.2", "dsse/0.0.2":
		return 2, nil
	}
	return 0, errfmt.Errorf("%w: log entry kind %s %s", ErrUnsupported, kind, version)
}

func (tr *TrustedRoot) findLog(id []byte) *transparencyLog {
	for _, l := range tr.tlogs {
		if bytes.Equal(l.id, id) {
			return l
		}
	}
	return nil
}

// signedContent is what the bundle says was signed and by whom, for
// comparison with a log entry's body.
type signedContent struct {
	sig        []byte
	leaf       *cert.Certificate // nil in key mode
	spki       []byte            // the signing key
	hash       Hash              // the key's hash, for Rekor v2 digests
	msgDigest  []byte            // SHA-256 of the artifact, message signatures
	payloadSHA []byte            // SHA-256 of the DSSE payload
	pae        []byte            // DSSE pre-authentication encoding
}

// entryKeyMatches compares a log entry's key material with the bundle's:
// a certificate must be the leaf, a public key the signing key.
func (s *signedContent) entryKeyMatches(der []byte) bool {
	if s.leaf != nil && bytes.Equal(der, s.leaf.Raw) {
		return true
	}
	_, spki, err := cert.ParseSPKI(der)
	return err == nil && bytes.Equal(spki, s.spki)
}

func pemKeyMatches(s *signedContent, b64 string) bool {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return false
	}
	block, rest := pem.Decode(raw)
	if block == nil || len(bytes.TrimSpace(rest)) != 0 {
		return false
	}
	return s.entryKeyMatches(block.Bytes)
}

func hexEquals(s string, want []byte) bool {
	got, err := hex.Decode(s)
	return err == nil && want != nil && bytes.Equal(got, want)
}

func b64Equals(s string, want []byte) bool {
	got, err := decodeBase64(s)
	return err == nil && want != nil && bytes.Equal(got, want)
}

// checkBody compares the log entry's canonicalized body with the bundle:
// same kind, signature, key and digest. It returns the field that differs.
func checkBody(e *tlogEntry, sc *signedContent) (string, error) {
	body, err := strictjson.Parse(e.body)
	if err != nil {
		return "canonicalizedBody", err
	}
	if stringOf(body.Get("kind")) != e.kind || stringOf(body.Get("apiVersion")) != e.kindVersion {
		return "kindVersion", errors.New("the body's kind and version differ from the entry's")
	}
	spec := body.Get("spec")
	fail := func(field string) (string, error) { return field, errfmt.Errorf("%s differs from the bundle", field) }
	switch e.kind + "/" + e.kindVersion {
	case "hashedrekord/0.0.1":
		if sc.msgDigest == nil {
			return fail("kind (a hashedrekord entry for a DSSE bundle)")
		}
		h := spec.Get("data").Get("hash")
		if stringOf(h.Get("algorithm")) != "sha256" || !hexEquals(stringOf(h.Get("value")), sc.msgDigest) {
			return fail("spec.data.hash")
		}
		sig := spec.Get("signature")
		if !b64Equals(stringOf(sig.Get("content")), sc.sig) {
			return fail("spec.signature.content")
		}
		if !pemKeyMatches(sc, stringOf(sig.Get("publicKey").Get("content"))) {
			return fail("spec.signature.publicKey")
		}
	case "intoto/0.0.2":
		if sc.payloadSHA == nil {
			return fail("kind (an intoto entry for a message signature)")
		}
		c := spec.Get("content")
		ph := c.Get("payloadHash")
		if stringOf(ph.Get("algorithm")) != "sha256" || !hexEquals(stringOf(ph.Get("value")), sc.payloadSHA) {
			return fail("spec.content.payloadHash")
		}
		sigs := arrayOf(c.Get("envelope").Get("signatures"))
		if len(sigs) != 1 {
			return fail("spec.content.envelope.signatures")
		}
		// The envelope's signature is base64 inside base64.
		inner, err := base64.StdEncoding.DecodeString(stringOf(sigs[0].Get("sig")))
		if err != nil || !b64Equals(string(inner), sc.sig) {
			return fail("spec.content.envelope.signatures[0].sig")
		}
		if !pemKeyMatches(sc, stringOf(sigs[0].Get("publicKey"))) {
			return fail("spec.content.envelope.signatures[0].publicKey")
		}
	case "dsse/0.0.1":
		if sc.payloadSHA == nil {
			return fail("kind (a dsse entry for a message signature)")
		}
		ph := spec.Get("payloadHash")
		if stringOf(ph.Get("algorithm")) != "sha256" || !hexEquals(stringOf(ph.Get("value")), sc.payloadSHA) {
			return fail("spec.payloadHash")
		}
		sigs := arrayOf(spec.Get("signatures"))
		if len(sigs) != 1 {
			return fail("spec.signatures")
		}
		if !b64Equals(stringOf(sigs[0].Get("signature")), sc.sig) {
			return fail("spec.signatures[0].signature")
		}
		if !pemKeyMatches(sc, stringOf(sigs[0].Get("verifier"))) {
			return fail("spec.signatures[0].verifier")
		}
	case "hashedrekord/0.0.2":
		hr := spec.Get("hashedRekordV002")
		want := sc.msgDigest
		if sc.pae != nil {
			// Rekor v2 logs a DSSE envelope as a hashedrekord over its PAE,
			// hashed as the key signs.
			want = hashBytes(sc.hash, sc.pae)
		}
		d := hr.Get("data")
		if stringOf(d.Get("algorithm")) != hashName(sc.hash) || !b64Equals(stringOf(d.Get("digest")), want) {
			return fail("spec.hashedRekordV002.data")
		}
		sig := hr.Get("signature")
		if !b64Equals(stringOf(sig.Get("content")), sc.sig) {
			return fail("spec.hashedRekordV002.signature.content")
		}
		if !v2VerifierMatches(sc, sig.Get("verifier")) {
			return fail("spec.hashedRekordV002.signature.verifier")
		}
	case "dsse/0.0.2":
		if sc.payloadSHA == nil {
			return fail("kind (a dsse entry for a message signature)")
		}
		d := spec.Get("dsseV002")
		ph := d.Get("payloadHash")
		if stringOf(ph.Get("algorithm")) != "SHA2_256" || !b64Equals(stringOf(ph.Get("digest")), sc.payloadSHA) {
			return fail("spec.dsseV002.payloadHash")
		}
		sigs := arrayOf(d.Get("signatures"))
		if len(sigs) != 1 {
			return fail("spec.dsseV002.signatures")
		}
		if !b64Equals(stringOf(sigs[0].Get("content")), sc.sig) {
			return fail("spec.dsseV002.signatures[0].content")
		}
		if !v2VerifierMatches(sc, sigs[0].Get("verifier")) {
			return fail("spec.dsseV002.signatures[0].verifier")
		}
	default:
		return "kindVersion", ErrUnsupported
	}
	return "", nil
}

func v2VerifierMatches(sc *signedContent, v *strictjson.Value) bool {
	if c := v.Get("x509Certificate"); c != nil {
		der, err := decodeBase64(stringOf(c.Get("rawBytes")))
		return err == nil && sc.leaf != nil && bytes.Equal(der, sc.leaf.Raw)
	}
	der, err := decodeBase64(stringOf(v.Get("publicKey").Get("rawBytes")))
	return err == nil && sc.entryKeyMatches(der)
}

func hashName(h Hash) string {
	switch h {
	case SHA256:
		return "SHA2_256"
	case SHA384:
		return "SHA2_384"
	case SHA512:
		return "SHA2_512"
	}
	return ""
}

// canonicalSETPayload is the canonical JSON (RFC 8785) a Rekor v1 log signs
// for an inclusion promise: keys sorted, no white space.
func canonicalSETPayload(e *tlogEntry) []byte {
	b := []byte(`{"body":`)
	b = strictjson.AppendString(b, base64.StdEncoding.EncodeToString(e.body))
	b = append(b, `,"integratedTime":`...)
	b = strconv.AppendInt(b, e.integratedTime, 10)
	b = append(b, `,"logID":`...)
	b = strictjson.AppendString(b, hex.Encode(e.logID))
	b = append(b, `,"logIndex":`...)
	b = strconv.AppendInt(b, e.logIndex, 10)
	return append(b, '}')
}

func verifySET(ctx context.Context, sv SignatureVerifier, e *tlogEntry, l *transparencyLog) error {
	t := time.Unix(e.integratedTime, 0)
	if !l.valid.contains(t) {
		return errfmt.Errorf("integrated time %s outside the log key's window %s", t.UTC().Format(time.RFC3339), l.valid)
	}
	return verifyWith(ctx, sv, l.keyType, l.spki, l.scheme, l.hash, canonicalSETPayload(e), e.set)
}

// merkleRoot computes the root of a tree of size from the leaf at index
// and its inclusion proof (RFC 9162 §2.1.3.2).
func merkleRoot(index, size int64, leaf []byte, proof [][]byte) ([]byte, error) {
	if index < 0 || size <= 0 || index >= size {
		return nil, errfmt.Errorf("index %d outside a tree of size %d", index, size)
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range proof {
		if len(p) != sha2.Size256 {
			return nil, errors.New("proof hash is not 32 bytes")
		}
		if sn == 0 {
			return nil, errors.New("inclusion proof too long")
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = nodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return nil, errors.New("inclusion proof too short")
	}
	return r, nil
}

func leafHash(data []byte) []byte {
	h := sha2.New256()
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}

func nodeHash(l, r []byte) []byte {
	h := sha2.New256()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

// checkpoint is a parsed signed note (c2sp.org/signed-note) holding a
// checkpoint (c2sp.org/tlog-checkpoint).
type checkpoint struct {
	text     []byte // the signed part: every body line with its newline
	origin   string
	size     int64
	rootHash []byte
	sigs     []noteSig
}

type noteSig struct {
	name string
	hint []byte
	sig  []byte
}

// maxNoteSignatures bounds the signature lines of a checkpoint (the log's
// and its witnesses'), and so the signature checks one may cause.
const maxNoteSignatures = 16

func parseCheckpoint(s string) (*checkpoint, error) {
	split := strings.LastIndex(s, "\n\n")
	if split < 0 {
		return nil, errors.New("checkpoint has no signature block")
	}
	c := &checkpoint{text: []byte(s[:split+1])}
	lines := strings.Split(s[:split], "\n")
	if len(lines) < 3 {
		return nil, errors.New("checkpoint needs an origin, a size and a root hash")
	}
	c.origin = lines[0]
	if c.origin == "" {
		return nil, errors.New("checkpoint origin is empty")
	}
	var err error
	if c.size, err = strconv.ParseInt(lines[1], 10, 64); err != nil || c.size < 0 || lines[1] != strconv.FormatInt(c.size, 10) {
		return nil, errors.New("checkpoint size is not a decimal number")
	}
	if c.rootHash, err = base64.StdEncoding.Strict().DecodeString(lines[2]); err != nil || len(c.rootHash) != sha2.Size256 {
		return nil, errors.New("checkpoint root hash is not 32 bytes of base64")
	}
	sigBlock := s[split+2:]
	if !strings.HasSuffix(sigBlock, "\n") {
		return nil, errors.New("checkpoint signature block does not end with a newline")
	}
	for _, line := range strings.Split(strings.TrimSuffix(sigBlock, "\n"), "\n") {
		rest, ok := strings.CutPrefix(line, "\u2014 ")
		if !ok {
			return nil, errors.New("checkpoint signature line does not start with an em dash")
		}
		name, b64, ok := strings.Cut(rest, " ")
		if !ok || name == "" {
			return nil, errors.New("checkpoint signature line has no name")
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(raw) < 5 {
			return nil, errors.New("checkpoint signature is not base64")
		}
		c.sigs = append(c.sigs, noteSig{name: name, hint: raw[:4], sig: raw[4:]})
	}
	if len(c.sigs) == 0 {
		return nil, errors.New("checkpoint is not signed")
	}
	if len(c.sigs) > maxNoteSignatures {
		return nil, errfmt.Errorf("checkpoint has more than %d signatures", maxNoteSignatures)
	}
	return c, nil
}

// noteKeyHint is the signed-note key hash: for Ed25519 (and RSA) it binds
// the name; Rekor's ECDSA keys use the first bytes of the key's SHA-256.
func noteKeyHint(name string, l *transparencyLog) []byte {
	if l.keyType != cert.KeyEd25519 {
		return keyIDOf(l.spki)[:4]
	}
	h := sha2.New256()
	h.Write([]byte(name))
	h.Write([]byte{'\n', 0x01})
	h.Write(l.spki[len(l.spki)-32:])
	return h.Sum(nil)[:4]
}

// verifyCheckpoint checks that the log signed the checkpoint and that it
// commits to the proof's tree. The origin and the signer's name must be the
// log's host name; cosignatures by witnesses are ignored.
func verifyCheckpoint(ctx context.Context, sv SignatureVerifier, p *inclusionProof, l *transparencyLog, v2 bool) error {
	c, err := parseCheckpoint(p.checkpoint)
	if err != nil {
		return err
	}
	if c.size != p.treeSize || !bytes.Equal(c.rootHash, p.rootHash) {
		return errors.New("checkpoint is for another tree than the inclusion proof")
	}
	// The log signs as its host name (Rekor v1: with the port, if any). A
	// Rekor v2 origin is that name; a Rekor v1 origin adds " - " and the
	// tree ID. The name on a signature
	// line is not itself signed, so it is compared here.
	name := hostOf(l.baseURL, v2)
	if name == "" {
		return errors.New("the trusted root gives no base URL for the log")
	}
	if v2 && c.origin != name {
		return errfmt.Errorf("checkpoint origin %q is not the log's %q", c.origin, name)
	}
	if !v2 && !strings.HasPrefix(c.origin, name+" - ") {
		return errfmt.Errorf("checkpoint origin %q is not the log's %q", c.origin, name)
	}
	// Why no signature verified is kept: a key the browser would not
	// import must read as that, not as a bad signature.
	why := errors.New("no signature line names the log")
	for _, s := range c.sigs {
		if s.name != name {
			continue
		}
		if !bytes.Equal(s.hint, noteKeyHint(s.name, l)) {
			why = errors.New("the log's signature line is for another key")
			continue
		}
		err := verifyWith(ctx, sv, l.keyType, l.spki, l.scheme, l.hash, c.text, s.sig)
		if err == nil {
			return nil
		}
		why = err
	}
	return errfmt.Errorf("no checkpoint signature by the log verifies: %w", why)
}

// hostOf returns the host of a URL, without the port when dropPort.
func hostOf(u string, dropPort bool) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		rest = u
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.LastIndex(rest, ":"); dropPort && i >= 0 && !strings.Contains(rest[i:], "]") {
		rest = rest[:i]
	}
	return rest
}
