//go:build !(js && wasm)

package simulated

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// HostSuffix ends the host of every service URL of a simulated instance; a
// trusted root naming such a URL is simulated.
const HostSuffix = ".sigstore.simulated.invalid"

// Service URLs of the instance, as they appear in its trusted root.
const (
	FulcioURL  = "https://fulcio" + HostSuffix
	CTLogURL   = "https://ctfe" + HostSuffix + "/test"
	RekorV1URL = "https://rekor" + HostSuffix
	RekorV2URL = "https://log2025-1.rekor" + HostSuffix
	TSAURL     = "https://timestamp" + HostSuffix + "/api/v1/timestamp"
)

// IsSimulatedURL reports whether u is the URL of a simulated instance's
// service: its host ends in HostSuffix.
func IsSimulatedURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && strings.HasSuffix(p.Hostname(), HostSuffix)
}

// Options configures an Instance.
type Options struct {
	// Now is the clock: certificates, log entries and timestamps are made
	// at Now(). Nil: time.Now.
	Now func() time.Time
}

// Instance is a simulated Sigstore instance. It is safe for concurrent use.
type Instance struct {
	now     func() time.Time
	created time.Time

	fulcio  *ca
	ct      *ctLog
	rekorV1 *transparencyLog
	rekorV2 *transparencyLog
	tsa     *tsa

	// Services that are not in the trusted root, for bundles broken on
	// purpose.
	otherFulcio  *ca
	otherCT      *ctLog
	otherRekorV1 *transparencyLog
	otherRekorV2 *transparencyLog
	otherTSA     *tsa
}

// History is how far before its creation the instance's CAs and services
// are valid, so that bundles can be signed in the past (BundleOptions.SignedAt).
const History = 2 * 365 * 24 * time.Hour

// New generates an instance: every key is fresh. Its certificate
// authorities and its trusted root's validity windows start History before
// now.
func New(opts Options) (*Instance, error) {
	in := &Instance{now: opts.Now}
	if in.now == nil {
		in.now = time.Now
	}
	in.created = in.now().UTC().Truncate(time.Second)
	start := in.created.Add(-History)
	var err error
	host := func(u string) string { p, _ := url.Parse(u); return p.Hostname() }
	if in.fulcio, err = newCA("simulated-sigstore", start); err != nil {
		return nil, err
	}
	if in.otherFulcio, err = newCA("simulated-sigstore-untrusted", start); err != nil {
		return nil, err
	}
	if in.ct, err = newCTLog(); err != nil {
		return nil, err
	}
	if in.otherCT, err = newCTLog(); err != nil {
		return nil, err
	}
	if in.rekorV1, err = newRekorV1(host(RekorV1URL), 1193050959916656506); err != nil {
		return nil, err
	}
	if in.otherRekorV1, err = newRekorV1(host(RekorV1URL), 1193050959916656506); err != nil {
		return nil, err
	}
	if in.rekorV2, err = newRekorV2(host(RekorV2URL)); err != nil {
		return nil, err
	}
	if in.otherRekorV2, err = newRekorV2(host(RekorV2URL)); err != nil {
		return nil, err
	}
	if in.tsa, err = newTSA(start); err != nil {
		return nil, err
	}
	if in.otherTSA, err = newTSA(start); err != nil {
		return nil, err
	}
	for _, l := range []*transparencyLog{in.rekorV1, in.otherRekorV1, in.rekorV2, in.otherRekorV2} {
		l.seed(6)
	}
	return in, nil
}

// TrustedRootJSON returns the instance's trusted_root.json
// (application/vnd.dev.sigstore.trustedroot+json;version=0.1): the CA, the CT
// log, both Rekor logs and the timestamp authority, valid from History
// before the instance was made, with no end.
func (in *Instance) TrustedRootJSON() ([]byte, error) {
	return in.TrustedRootJSONWith(RootIntact)
}

// RootBreak names one service whose validity window in the trusted root
// ends before the instance was made: everything it signed afterwards falls
// outside the window, for negative tests of that check.
type RootBreak string

// The ways to break a trusted root.
const (
	RootIntact       RootBreak = ""
	RootCAExpired    RootBreak = "ca-expired"
	RootTlogsExpired RootBreak = "tlogs-expired"
	RootCTLogExpired RootBreak = "ctlog-expired"
	RootTSAExpired   RootBreak = "tsa-expired"
)

// RootBreaks lists every RootBreak but RootIntact.
var RootBreaks = []RootBreak{RootCAExpired, RootTlogsExpired, RootCTLogExpired, RootTSAExpired}

// TrustedRootJSONWith returns the trusted root with the validity window of
// the services b names ending a minute before the instance was made.
func (in *Instance) TrustedRootJSONWith(b RootBreak) ([]byte, error) {
	start := in.created.Add(-History)
	validFor := &jsonValidity{Start: start.Format(time.RFC3339)}
	expired := &jsonValidity{Start: start.Format(time.RFC3339), End: in.created.Add(-time.Minute).Format(time.RFC3339)}
	window := func(which RootBreak) *jsonValidity {
		if b == which {
			return expired
		}
		return validFor
	}
	chain := func(certs ...*x509.Certificate) *jsonCertChain {
		c := &jsonCertChain{}
		for _, cert := range certs {
			c.Certificates = append(c.Certificates, jsonRawBytes{RawBytes: cert.Raw})
		}
		return c
	}
	v1Key, err := x509.MarshalPKIXPublicKey(in.rekorV1.ecdsa.Public())
	if err != nil {
		return nil, err
	}
	v2Key, err := x509.MarshalPKIXPublicKey(in.rekorV2.ed25519.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	ctKey, err := x509.MarshalPKIXPublicKey(in.ct.key.Public())
	if err != nil {
		return nil, err
	}
	root := jsonTrustedRoot{
		MediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
		Tlogs: []jsonTransparencyLog{
			{BaseURL: RekorV1URL, HashAlgorithm: "SHA2_256",
				PublicKey: jsonPublicKey{RawBytes: v1Key, KeyDetails: "PKIX_ECDSA_P256_SHA_256", ValidFor: window(RootTlogsExpired)},
				LogID:     jsonLogID{KeyID: in.rekorV1.logID}},
			{BaseURL: RekorV2URL, HashAlgorithm: "SHA2_256",
				PublicKey: jsonPublicKey{RawBytes: v2Key, KeyDetails: "PKIX_ED25519", ValidFor: window(RootTlogsExpired)},
				LogID:     jsonLogID{KeyID: in.rekorV2.logID}},
		},
		CertificateAuthorities: []jsonCertificateAuthority{{
			Subject:   jsonSubject{Organization: Organization, CommonName: "simulated-sigstore"},
			URI:       FulcioURL,
			CertChain: chain(in.fulcio.intermediate, in.fulcio.root),
			ValidFor:  window(RootCAExpired),
		}},
		Ctlogs: []jsonTransparencyLog{{BaseURL: CTLogURL, HashAlgorithm: "SHA2_256",
			PublicKey: jsonPublicKey{RawBytes: ctKey, KeyDetails: "PKIX_ECDSA_P256_SHA_256", ValidFor: window(RootCTLogExpired)},
			LogID:     jsonLogID{KeyID: in.ct.logID[:]}}},
		TimestampAuthorities: []jsonCertificateAuthority{{
			Subject:   jsonSubject{Organization: Organization, CommonName: "simulated-tsa"},
			URI:       TSAURL,
			CertChain: chain(in.tsa.leaf, in.tsa.root),
			ValidFor:  window(RootTSAExpired),
		}},
	}
	return json.MarshalIndent(root, "", "  ")
}

// The trusted root's JSON (the protobuf-specs TrustedRoot in protojson).
type jsonTrustedRoot struct {
	MediaType              string                     `json:"mediaType"`
	Tlogs                  []jsonTransparencyLog      `json:"tlogs"`
	CertificateAuthorities []jsonCertificateAuthority `json:"certificateAuthorities"`
	Ctlogs                 []jsonTransparencyLog      `json:"ctlogs"`
	TimestampAuthorities   []jsonCertificateAuthority `json:"timestampAuthorities"`
}

type jsonTransparencyLog struct {
	BaseURL       string        `json:"baseUrl"`
	HashAlgorithm string        `json:"hashAlgorithm"`
	PublicKey     jsonPublicKey `json:"publicKey"`
	LogID         jsonLogID     `json:"logId"`
}

type jsonPublicKey struct {
	RawBytes   []byte        `json:"rawBytes"`
	KeyDetails string        `json:"keyDetails"`
	ValidFor   *jsonValidity `json:"validFor"`
}

type jsonValidity struct {
	Start string `json:"start"`
	End   string `json:"end,omitempty"`
}

type jsonLogID struct {
	KeyID []byte `json:"keyId"`
}

type jsonCertificateAuthority struct {
	Subject   jsonSubject    `json:"subject"`
	URI       string         `json:"uri"`
	CertChain *jsonCertChain `json:"certChain"`
	ValidFor  *jsonValidity  `json:"validFor"`
}

type jsonSubject struct {
	Organization string `json:"organization"`
	CommonName   string `json:"commonName"`
}

type jsonCertChain struct {
	Certificates []jsonRawBytes `json:"certificates"`
}

type jsonRawBytes struct {
	RawBytes []byte `json:"rawBytes"`
}
