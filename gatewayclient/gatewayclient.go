// Package gatewayclient asks a live gateway for evidence, natively, and
// checks what only a client of the connection can see: that the TLS key the
// gateway presented on the very connection that carried the evidence is the
// key the report binds (evidence protocol v2). When it is not, TLS ends
// somewhere in front of the attested machine — a proxy or load balancer
// that can serve any page to anyone — and Verify says so with a
// *TLSKeyError.
//
//	v, _ := verifier.New(verifier.Options{})
//	res, fetched, err := gatewayclient.Verify(ctx, http.DefaultClient, "https://enroll.example/", v, verifier.Expectation{Measurements: want})
//	var tlsErr *gatewayclient.TLSKeyError
//	if errors.As(err, &tlsErr) { /* the TLS key of the host is not the attested one */ }
//
// A page fetched from the same origin over another connection can be tied
// to the attested machine the same way: compare LeafKeySHA256 of its
// response's TLS state with Fetched.TLSKeySHA256 of a verified fetch (or
// give it as Expectation.TLSKeySHA256).
package gatewayclient

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/verifier"
)

// MaxEvidenceBytes bounds what Fetch reads: far above any evidence (a
// 1184-byte report, a few certificates and an HPKE key, in base64).
const MaxEvidenceBytes = 1 << 20

// Errors of Fetch, matchable with errors.Is. Anything else it returns is a
// malformed answer.
var (
	// ErrUnreachable: no answer from the gateway (connection, TLS, timeout).
	ErrUnreachable = errors.New("gatewayclient: cannot reach the gateway")
	// ErrRefused: the gateway answered, but not with evidence (an HTTP
	// error status).
	ErrRefused = errors.New("gatewayclient: the gateway refused")
)

// Fetched is evidence from a live gateway and what its connection showed.
type Fetched struct {
	Evidence *protocol.Evidence
	// URL is where it came from, without the query.
	URL string
	// Host is the URL's host[:port].
	Host string
	// TLSKeySHA256 is the SHA-256 of the SubjectPublicKeyInfo of the leaf
	// certificate presented on the connection that carried the evidence.
	// Nil over plain HTTP.
	TLSKeySHA256 []byte
	// Nonce is the nonce the evidence was asked for.
	Nonce []byte
}

// LeafKeySHA256 returns the SHA-256 of the leaf certificate's
// SubjectPublicKeyInfo of a TLS connection, or nil without one.
func LeafKeySHA256(cs *tls.ConnectionState) []byte {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return nil
	}
	sum := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
	return sum[:]
}

// Fetch asks the gateway at base (http:// or https://) for evidence bound
// to nonce: GET base/attestation?nonce=…, at most MaxEvidenceBytes, within
// ctx. It accepts evidence protocol v1 and v2.
func Fetch(ctx context.Context, client *http.Client, base string, nonce []byte) (*Fetched, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("gatewayclient: %q is not an http:// or https:// URL", base)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	att := u.ResolveReference(&url.URL{Path: "attestation", RawQuery: "nonce=" + base64.RawURLEncoding.EncodeToString(nonce)})
	f := &Fetched{URL: att.Scheme + "://" + att.Host + att.Path, Host: att.Host, Nonce: nonce}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, att.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("gatewayclient: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	// The connection that carries this answer is the one whose key counts.
	f.TLSKeySHA256 = LeafKeySHA256(resp.TLS)
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxEvidenceBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %w", ErrUnreachable, f.URL, err)
	}
	if len(body) > MaxEvidenceBytes {
		return nil, fmt.Errorf("%s sent more than %d bytes: not evidence", f.URL, MaxEvidenceBytes)
	}
	if resp.StatusCode != http.StatusOK {
		var eb protocol.ErrorBody
		msg := resp.Status
		if json.Unmarshal(body, &eb) == nil && eb.Error != "" {
			msg += ": " + eb.Error
		}
		return nil, fmt.Errorf("%w: %s answered %s", ErrRefused, f.URL, oneLine(msg))
	}
	if f.Evidence, err = ParseEvidence(body); err != nil {
		return nil, fmt.Errorf("%s: %w", f.URL, err)
	}
	return f, nil
}

// ParseEvidence decodes evidence of protocol v1 or v2 and checks what the
// verifier does not: the version, and that the report, the HPKE key and (v2)
// the TLS key are there.
func ParseEvidence(b []byte) (*protocol.Evidence, error) {
	var ev protocol.Evidence
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, fmt.Errorf("not evidence JSON: %w", err)
	}
	switch {
	case ev.Version != protocol.Version && ev.Version != protocol.VersionTLS:
		return nil, fmt.Errorf("evidence protocol version %d; this client speaks %d and %d", ev.Version, protocol.Version, protocol.VersionTLS)
	case len(ev.Report) == 0:
		return nil, errors.New("the evidence carries no report")
	case len(ev.HPKE.PublicKey) == 0:
		return nil, errors.New("the evidence carries no HPKE public key")
	case ev.Version == protocol.VersionTLS && (ev.TLS == nil || len(ev.TLS.SPKISHA256) != protocol.TLSKeySize):
		return nil, errors.New("evidence v2 without a 32-byte tls.spki_sha256")
	case ev.Version == protocol.Version && ev.TLS != nil:
		return nil, errors.New("evidence v1 with a tls key: only v2 binds one")
	}
	return &ev, nil
}

// Expect returns exp with the binding of the nonce and the evidence's keys
// (v1, or v2 with its TLS key) and, over HTTPS, the TLS key of the
// connection that carried the evidence as the one the report must bind.
func (f *Fetched) Expect(exp verifier.Expectation) verifier.Expectation {
	b := &verifier.Binding{Nonce: f.Nonce, HPKEPublicKey: f.Evidence.HPKE.PublicKey}
	if f.Evidence.Version == protocol.VersionTLS {
		b.TLSKeySHA256 = f.Evidence.TLS.SPKISHA256
	}
	exp.ReportData, exp.Binding, exp.TLSKeySHA256 = nil, b, f.TLSKeySHA256
	return exp
}

// VerifierEvidence is the report and certificates the evidence carries.
func (f *Fetched) VerifierEvidence() verifier.Evidence {
	ev := verifier.Evidence{Report: f.Evidence.Report, VCEK: f.Evidence.Certs.VCEK, VLEK: f.Evidence.Certs.VLEK}
	if f.Evidence.Certs.Chain != "" {
		ev.Chain = []byte(f.Evidence.Certs.Chain)
	}
	return ev
}

// CheckTLSKey turns a rejection by the verifier's tlsKey check (alone or
// among others) into a *TLSKeyError that wraps it; any other error comes
// back unchanged.
func (f *Fetched) CheckTLSKey(err error) error {
	var rej *verifier.RejectedError
	if errors.As(err, &rej) && errors.Is(err, verifier.ErrTLSKey) {
		return &TLSKeyError{Host: f.Host, V1: f.Evidence.Version == protocol.Version, Rejected: rej}
	}
	return err
}

// TLSKeyError says that the TLS key a client saw is not the attested one.
// It wraps the verifier's rejection, whose Result has the tlsKey check's
// got and want.
type TLSKeyError struct {
	Host string
	// V1 is true when the evidence binds no TLS key at all (protocol v1).
	V1       bool
	Rejected *verifier.RejectedError
}

func (e *TLSKeyError) Error() string {
	if e.V1 {
		return "the TLS key of " + e.Host + " is not the attested one (its evidence is protocol v1, which binds no TLS key: TLS may end outside the CVM)"
	}
	return "the TLS key of " + e.Host + " is not the attested one (a proxy terminates TLS in front of the CVM)"
}

func (e *TLSKeyError) Unwrap() error { return e.Rejected }

// Verify fetches evidence from the gateway at base with a fresh nonce and
// verifies it with v against exp as Fetched.Expect completes it (exp's
// ReportData, Binding and TLSKeySHA256 are replaced). It returns the Result
// and what was fetched. Errors are verifier.Verify's (a
// *verifier.RejectedError with the Result), except that a rejection by the
// TLS key check is a *TLSKeyError wrapping it (Fetched.CheckTLSKey), and
// that Fetch's errors come back as they are, without a Result.
func Verify(ctx context.Context, client *http.Client, base string, v *verifier.Verifier, exp verifier.Expectation) (*verifier.Result, *Fetched, error) {
	nonce := make([]byte, protocol.NonceSize)
	rand.Read(nonce)
	f, err := Fetch(ctx, client, base, nonce)
	if err != nil {
		return nil, nil, err
	}
	res, err := v.Verify(ctx, f.VerifierEvidence(), f.Expect(exp))
	var rej *verifier.RejectedError
	if errors.As(err, &rej) {
		res = rej.Result
	}
	return res, f, f.CheckTLSKey(err)
}

// oneLine keeps a message from a server on one short line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
