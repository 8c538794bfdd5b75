package sigstore

import (
	"github.com/cvmtrust/cvmtrust/internal/cert"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/strictjson"
)

// Bundle media types this verifier reads.
var bundleVersions = map[string]int{
	"application/vnd.dev.sigstore.bundle+json;version=0.1": 1,
	"application/vnd.dev.sigstore.bundle+json;version=0.2": 2,
	"application/vnd.dev.sigstore.bundle+json;version=0.3": 3,
	"application/vnd.dev.sigstore.bundle.v0.3+json":        3,
}

// Limits on what one bundle may hold.
const (
	maxBundleBytes = 1 << 20
	maxCerts       = 10
	maxTlogEntries = 32
	maxTimestamps  = 32
	maxProofHashes = 64
	maxDSSEPayload = 512 << 10
	maxBundleDepth = 24
)

type bundle struct {
	mediaType string
	version   int // minor version: 1, 2 or 3

	certs     []*cert.Certificate // leaf first; empty in key mode
	certChain bool                // given as x509CertificateChain
	keyHint   string              // publicKey.hint, in key mode
	keyMode   bool

	entries    []*tlogEntry
	timestamps [][]byte // RFC 3161 TimeStampResp or TimeStampToken, DER

	msg  *messageSignature
	dsse *envelope
}

type messageSignature struct {
	digestAlg string // "SHA2_256", ...
	digest    []byte
	sig       []byte
}

type envelope struct {
	payloadType string
	payload     []byte
	sig         []byte
}

type tlogEntry struct {
	logIndex       int64
	logID          []byte
	kind           string
	kindVersion    string
	integratedTime int64
	set            []byte
	proof          *inclusionProof
	body           []byte
}

type inclusionProof struct {
	logIndex   int64
	treeSize   int64
	rootHash   []byte
	hashes     [][]byte
	checkpoint string
}

func malformed(format string, args ...any) error {
	return errfmt.Errorf("%w: %s", ErrMalformedBundle, errfmt.Sprintf(format, args...))
}

// parseBundle reads a bundle's JSON (protobuf's JSON form of
// dev.sigstore.bundle.v1.Bundle). It checks form only; verification is
// elsewhere.
func parseBundle(data []byte) (*bundle, error) {
	v, err := strictjson.ParseLimits(data, strictjson.Limits{MaxBytes: maxBundleBytes, MaxDepth: maxBundleDepth})
	if err != nil {
		return nil, errfmt.Errorf("%w: %w", ErrMalformedBundle, err)
	}
	if v.Kind != strictjson.Object {
		return nil, malformed("not a JSON object")
	}
	b := &bundle{mediaType: stringOf(v.Get("mediaType"))}
	var ok bool
	if b.version, ok = bundleVersions[b.mediaType]; !ok {
		return nil, errfmt.Errorf("%w: bundle media type %q", ErrUnsupported, b.mediaType)
	}
	vm := v.Get("verificationMaterial")
	if vm == nil || vm.Kind != strictjson.Object {
		return nil, malformed("verificationMaterial missing")
	}
	forms := 0
	if c := vm.Get("certificate"); c != nil {
		forms++
		der, err := bytesField(c, "rawBytes")
		if err != nil {
			return nil, err
		}
		crt, err := cert.ParseAny(der)
		if err != nil {
			return nil, errfmt.Errorf("%w: %w", ErrMalformedCert, err)
		}
		b.certs = []*cert.Certificate{crt}
	}
	if c := vm.Get("x509CertificateChain"); c != nil {
		forms++
		b.certChain = true
		items := arrayOf(c.Get("certificates"))
		if len(items) == 0 {
			return nil, malformed("empty certificate chain")
		}
		if len(items) > maxCerts {
			return nil, malformed("more than %d certificates", maxCerts)
		}
		for _, it := range items {
			der, err := bytesField(it, "rawBytes")
			if err != nil {
				return nil, err
			}
			crt, err := cert.ParseAny(der)
			if err != nil {
				return nil, errfmt.Errorf("%w: %w", ErrMalformedCert, err)
			}
			b.certs = append(b.certs, crt)
		}
	}
	if k := vm.Get("publicKey"); k != nil {
		forms++
		b.keyMode = true
		b.keyHint = stringOf(k.Get("hint"))
	}
	if forms != 1 {
		return nil, malformed("verificationMaterial needs exactly one of certificate, x509CertificateChain, publicKey")
	}
	if b.certChain && b.version >= 3 {
		return nil, malformed("a v0.3 bundle carries a single certificate, not a chain")
	}
	entries := arrayOf(vm.Get("tlogEntries"))
	if len(entries) > maxTlogEntries {
		return nil, malformed("more than %d log entries", maxTlogEntries)
	}
	for i, e := range entries {
		te, err := parseTlogEntry(e)
		if err != nil {
			return nil, errfmt.Errorf("tlogEntries[%d]: %w", i, err)
		}
		if b.version == 1 && te.set == nil {
			return nil, malformed("tlogEntries[%d]: a v0.1 bundle needs an inclusion promise", i)
		}
		if b.version >= 2 && te.proof == nil {
			return nil, malformed("tlogEntries[%d]: a v0.2 or later bundle needs an inclusion proof", i)
		}
		b.entries = append(b.entries, te)
	}
	tss := arrayOf(vm.Get("timestampVerificationData").Get("rfc3161Timestamps"))
	if len(tss) > maxTimestamps {
		return nil, malformed("more than %d timestamps", maxTimestamps)
	}
	for _, ts := range tss {
		der, err := bytesField(ts, "signedTimestamp")
		if err != nil {
			return nil, err
		}
		b.timestamps = append(b.timestamps, der)
	}

	ms, env := v.Get("messageSignature"), v.Get("dsseEnvelope")
	switch {
	case ms != nil && env == nil:
		b.msg = &messageSignature{}
		if b.msg.sig, err = bytesField(ms, "signature"); err != nil {
			return nil, err
		}
		if md := ms.Get("messageDigest"); md != nil {
			b.msg.digestAlg = stringOf(md.Get("algorithm"))
			if b.msg.digest, err = bytesField(md, "digest"); err != nil {
				return nil, err
			}
		}
	case env != nil && ms == nil:
		b.dsse = &envelope{payloadType: stringOf(env.Get("payloadType"))}
		if b.dsse.payload, err = bytesField(env, "payload"); err != nil {
			return nil, err
		}
		if len(b.dsse.payload) > maxDSSEPayload {
			return nil, malformed("DSSE payload larger than %d bytes", maxDSSEPayload)
		}
		sigs := arrayOf(env.Get("signatures"))
		if len(sigs) != 1 {
			return nil, errfmt.Errorf("%w: a DSSE envelope with %d signatures (exactly one is supported)", ErrUnsupported, len(sigs))
		}
		if b.dsse.sig, err = bytesField(sigs[0], "sig"); err != nil {
			return nil, err
		}
	default:
		return nil, malformed("needs exactly one of messageSignature and dsseEnvelope")
	}
	return b, nil
}

// bytesField decodes a required base64 field.
func bytesField(v *strictjson.Value, key string) ([]byte, error) {
	f := v.Get(key)
	if f == nil || f.Kind != strictjson.String || f.Text == "" {
		return nil, malformed("%s missing", key)
	}
	b, err := decodeBase64(f.Text)
	if err != nil {
		return nil, malformed("%s is not base64", key)
	}
	return b, nil
}

func int64Field(v *strictjson.Value, key string, required bool) (int64, error) {
	f := v.Get(key)
	if f == nil {
		if required {
			return 0, malformed("%s missing", key)
		}
		return 0, nil
	}
	n, err := f.Int64()
	if err != nil || n < 0 {
		return 0, malformed("%s is not a non-negative integer", key)
	}
	return n, nil
}

func parseTlogEntry(v *strictjson.Value) (*tlogEntry, error) {
	if v.Kind != strictjson.Object {
		return nil, malformed("log entry is not an object")
	}
	e := &tlogEntry{}
	var err error
	// Rekor v2 entries start at index 0, which protobuf's JSON omits.
	if e.logIndex, err = int64Field(v, "logIndex", false); err != nil {
		return nil, err
	}
	if e.logID, err = bytesField(v.Get("logId"), "keyId"); err != nil {
		return nil, err
	}
	kv := v.Get("kindVersion")
	e.kind, e.kindVersion = stringOf(kv.Get("kind")), stringOf(kv.Get("version"))
	if e.kind == "" || e.kindVersion == "" {
		return nil, malformed("kindVersion missing")
	}
	if e.integratedTime, err = int64Field(v, "integratedTime", false); err != nil {
		return nil, err
	}
	if p := v.Get("inclusionPromise"); p != nil {
		if e.set, err = bytesField(p, "signedEntryTimestamp"); err != nil {
			return nil, err
		}
	}
	if p := v.Get("inclusionProof"); p != nil {
		ip := &inclusionProof{}
		if ip.logIndex, err = int64Field(p, "logIndex", false); err != nil {
			return nil, err
		}
		if ip.treeSize, err = int64Field(p, "treeSize", true); err != nil {
			return nil, err
		}
		if ip.rootHash, err = bytesField(p, "rootHash"); err != nil {
			return nil, err
		}
		hashes := arrayOf(p.Get("hashes"))
		if len(hashes) > maxProofHashes {
			return nil, malformed("inclusion proof longer than %d hashes", maxProofHashes)
		}
		for _, h := range hashes {
			hb, err := decodeBase64(stringOf(h))
			if err != nil || len(hb) == 0 {
				return nil, malformed("inclusion proof hash is not base64")
			}
			ip.hashes = append(ip.hashes, hb)
		}
		ip.checkpoint = stringOf(p.Get("checkpoint").Get("envelope"))
		if ip.checkpoint == "" {
			return nil, malformed("inclusion proof without a checkpoint")
		}
		e.proof = ip
	}
	if e.body, err = bytesField(v, "canonicalizedBody"); err != nil {
		return nil, err
	}
	return e, nil
}
