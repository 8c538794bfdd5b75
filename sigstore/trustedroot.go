package sigstore

import (
	_ "embed"
	"github.com/cvmtrust/cvmtrust/internal/ascii"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/cert"
	"github.com/cvmtrust/cvmtrust/internal/der"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	rfctime "github.com/cvmtrust/cvmtrust/internal/rfc3339" // the package's own rfc3339 formats
	"github.com/cvmtrust/cvmtrust/internal/sha2"
	"github.com/cvmtrust/cvmtrust/internal/strictjson"
)

// TrustedRootMediaType is the only trusted root format accepted.
const TrustedRootMediaType = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"

//go:embed trustedroot/public-good.json
var publicGoodJSON []byte

// PublicGoodSource says where the embedded trusted root comes from.
const PublicGoodSource = "Sigstore public-good instance, github.com/sigstore/root-signing targets/trusted_root.json at c9bda74 (2025-09-22)"

// TrustedRoot is the parsed trust material of one Sigstore instance: its
// Fulcio CAs, Rekor logs, CT logs and timestamp authorities, each with the
// window in which it may be trusted.
type TrustedRoot struct {
	// Name says where the root came from; it is copied into each Result.
	Name string
	// Simulated marks a test instance; Results verified with it say so.
	Simulated bool

	tlogs  []*transparencyLog
	ctlogs []*transparencyLog
	cas    []*authority
	tsas   []*authority
}

// timeRange is a closed interval; a zero end is open.
type timeRange struct {
	start, end time.Time
}

func (r timeRange) contains(t time.Time) bool {
	return !t.Before(r.start) && (r.end.IsZero() || !t.After(r.end))
}

func (r timeRange) String() string {
	end := "open"
	if !r.end.IsZero() {
		end = r.end.UTC().Format(time.RFC3339)
	}
	return r.start.UTC().Format(time.RFC3339) + " to " + end
}

type transparencyLog struct {
	baseURL string
	id      []byte // SHA-256 of the SubjectPublicKeyInfo, or as the root says
	spki    []byte
	keyType cert.KeyType
	scheme  Scheme
	hash    Hash
	valid   timeRange
}

type authority struct {
	uri   string
	chain []*cert.Certificate // leaf (or intermediate) first, root last
	valid timeRange
}

// PublicGoodTrustedRoot returns the embedded trusted root of the Sigstore
// public-good instance (see PublicGoodSource).
func PublicGoodTrustedRoot() (*TrustedRoot, error) {
	tr, err := ParseTrustedRoot(publicGoodJSON)
	if err != nil {
		return nil, err
	}
	tr.Name = PublicGoodSource
	return tr, nil
}

// ParseTrustedRoot parses a trusted_root.json. Every log needs a key with
// a validity start; every authority a certificate chain.
func ParseTrustedRoot(data []byte) (*TrustedRoot, error) {
	v, err := strictjson.Parse(data)
	if err != nil {
		return nil, errfmt.Errorf("%w: %w", ErrBadTrustedRoot, err)
	}
	if v.Kind != strictjson.Object {
		return nil, errfmt.Errorf("%w: not a JSON object", ErrBadTrustedRoot)
	}
	if mt := v.Get("mediaType"); mt == nil || mt.Text != TrustedRootMediaType {
		return nil, errfmt.Errorf("%w: media type is not %s", ErrBadTrustedRoot, TrustedRootMediaType)
	}
	tr := &TrustedRoot{Name: "trusted root given by the caller"}
	for _, f := range []struct {
		key string
		out *[]*transparencyLog
	}{{"tlogs", &tr.tlogs}, {"ctlogs", &tr.ctlogs}} {
		for i, item := range arrayOf(v.Get(f.key)) {
			l, err := parseLog(item)
			if err != nil {
				return nil, errfmt.Errorf("%w: %s[%d]: %w", ErrBadTrustedRoot, f.key, i, err)
			}
			*f.out = append(*f.out, l)
		}
	}
	for _, f := range []struct {
		key string
		out *[]*authority
	}{{"certificateAuthorities", &tr.cas}, {"timestampAuthorities", &tr.tsas}} {
		for i, item := range arrayOf(v.Get(f.key)) {
			a, err := parseAuthority(item)
			if err != nil {
				return nil, errfmt.Errorf("%w: %s[%d]: %w", ErrBadTrustedRoot, f.key, i, err)
			}
			*f.out = append(*f.out, a)
		}
	}
	if len(tr.tlogs) == 0 && len(tr.tsas) == 0 {
		return nil, errfmt.Errorf("%w: neither a transparency log nor a timestamp authority", ErrBadTrustedRoot)
	}
	tr.Simulated = tr.isSimulated()
	return tr, nil
}

// SimulatedHostSuffix ends the host of every service of a simulated
// Sigstore instance (package sigstore/simulated). ".invalid" never
// resolves (RFC 2606), so no real instance can have such a host.
const SimulatedHostSuffix = ".sigstore.simulated.invalid"

// isSimulated applies the rule of docs/release-provenance.md: a trusted
// root is simulated when any of its service URLs has a host ending in
// SimulatedHostSuffix. One such service is enough: a root that mixes
// simulated and real services is no more trustworthy than its weakest.
func (tr *TrustedRoot) isSimulated() bool {
	var urls []string
	for _, l := range append(append([]*transparencyLog(nil), tr.tlogs...), tr.ctlogs...) {
		urls = append(urls, l.baseURL)
	}
	for _, a := range append(append([]*authority(nil), tr.cas...), tr.tsas...) {
		urls = append(urls, a.uri)
	}
	for _, u := range urls {
		if strings.HasSuffix(urlHost(u), SimulatedHostSuffix) {
			return true
		}
	}
	return false
}

// urlHost returns the lowercased host of an absolute URL, without port or
// user information (net/url is not linked into the browser build).
func urlHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		rest = u
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		rest = rest[:i]
	}
	return strings.TrimSuffix(ascii.Lower(rest), ".")
}

func arrayOf(v *strictjson.Value) []*strictjson.Value {
	if v == nil || v.Kind != strictjson.Array {
		return nil
	}
	return v.Items
}

func stringOf(v *strictjson.Value) string {
	if v == nil || v.Kind != strictjson.String {
		return ""
	}
	return v.Text
}

func parseLog(v *strictjson.Value) (*transparencyLog, error) {
	pk := v.Get("publicKey")
	raw, err := decodeBase64(stringOf(pk.Get("rawBytes")))
	if err != nil || len(raw) == 0 {
		return nil, errfmt.Errorf("publicKey.rawBytes missing or not base64")
	}
	l := &transparencyLog{baseURL: stringOf(v.Get("baseUrl"))}
	details := stringOf(pk.Get("keyDetails"))
	if strings.HasPrefix(details, "PKCS1_RSA_") {
		// A bare RSAPublicKey (PKCS #1): wrap it as a SubjectPublicKeyInfo.
		raw = der.RSAEncryptionSPKI(raw)
		details = "PKIX_RSA_" + strings.TrimPrefix(details, "PKCS1_RSA_") + "_SHA256"
	}
	if l.keyType, l.spki, err = cert.ParseSPKI(raw); err != nil {
		return nil, err
	}
	if l.scheme, l.hash, err = keyDetails(details, l.keyType); err != nil {
		return nil, err
	}
	if l.valid, err = parseRange(pk.Get("validFor")); err != nil {
		return nil, err
	}
	if id := stringOf(v.Get("logId").Get("keyId")); id != "" {
		if l.id, err = decodeBase64(id); err != nil {
			return nil, errfmt.Errorf("logId.keyId not base64")
		}
	} else {
		sum := sha2.Sum256(raw)
		l.id = sum[:]
	}
	return l, nil
}

// keyDetails maps a PublicKeyDetails name to the scheme and hash, and
// checks it agrees with the key.
func keyDetails(name string, kt cert.KeyType) (Scheme, Hash, error) {
	want := map[string]struct {
		kt     cert.KeyType
		scheme Scheme
		hash   Hash
	}{
		"PKIX_ECDSA_P256_SHA_256": {cert.KeyECDSAP256, ECDSA, SHA256},
		"PKIX_ECDSA_P384_SHA_384": {cert.KeyECDSAP384, ECDSA, SHA384},
		"PKIX_ECDSA_P521_SHA_512": {cert.KeyECDSAP521, ECDSA, SHA512},
		"PKIX_ED25519":            {cert.KeyEd25519, Ed25519, 0},
	}
	if d, ok := want[name]; ok {
		if d.kt != kt {
			return 0, 0, errfmt.Errorf("key details %s do not match the key", name)
		}
		return d.scheme, d.hash, nil
	}
	if kt == cert.KeyRSA && strings.HasPrefix(name, "PKIX_RSA_") {
		scheme := RSAPKCS1v15
		if strings.Contains(name, "_PSS_") {
			scheme = RSAPSS
		}
		switch {
		case strings.HasSuffix(name, "SHA256"):
			return scheme, SHA256, nil
		case strings.HasSuffix(name, "SHA384"):
			return scheme, SHA384, nil
		case strings.HasSuffix(name, "SHA512"):
			return scheme, SHA512, nil
		}
	}
	return 0, 0, errfmt.Errorf("unsupported key details %q", name)
}

func parseRange(v *strictjson.Value) (timeRange, error) {
	var r timeRange
	start := stringOf(v.Get("start"))
	if start == "" {
		return r, errfmt.Errorf("validFor.start missing")
	}
	var err error
	if r.start, err = rfctime.Parse(start); err != nil {
		return r, errfmt.Errorf("validFor.start: %w", err)
	}
	if end := stringOf(v.Get("end")); end != "" {
		if r.end, err = rfctime.Parse(end); err != nil {
			return r, errfmt.Errorf("validFor.end: %w", err)
		}
	}
	return r, nil
}

func parseAuthority(v *strictjson.Value) (*authority, error) {
	a := &authority{uri: stringOf(v.Get("uri"))}
	for i, c := range arrayOf(v.Get("certChain").Get("certificates")) {
		der, err := decodeBase64(stringOf(c.Get("rawBytes")))
		if err != nil {
			return nil, errfmt.Errorf("certificate %d not base64", i)
		}
		crt, err := cert.ParseAny(der)
		if err != nil {
			return nil, errfmt.Errorf("certificate %d: %w", i, err)
		}
		a.chain = append(a.chain, crt)
	}
	if len(a.chain) == 0 {
		return nil, errfmt.Errorf("empty certificate chain")
	}
	var err error
	if a.valid, err = parseRange(v.Get("validFor")); err != nil {
		return nil, err
	}
	return a, nil
}
