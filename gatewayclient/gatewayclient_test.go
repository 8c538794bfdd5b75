package gatewayclient

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/verifier"
)

func TestParseEvidenceRefuses(t *testing.T) {
	const report = `"report":"AAAA","hpke":{"kem":"k","kdf":"d","aead":"a","public_key":"AAAA"}`
	tls := `,"tls":{"spki_sha256":"` + strings.Repeat("A", 43) + `="}`
	for name, doc := range map[string]string{
		"not JSON":       `{`,
		"version 3":      `{"version":3,` + report + tls + `}`,
		"v2 without tls": `{"version":2,` + report + `}`,
		"v2, short tls":  `{"version":2,` + report + `,"tls":{"spki_sha256":"AAAA"}}`,
		"v1 with tls":    `{"version":1,` + report + tls + `}`,
		"no report":      `{"version":1,"hpke":{"public_key":"AAAA"}}`,
		"no HPKE key":    `{"version":1,"report":"AAAA"}`,
	} {
		if _, err := ParseEvidence([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, doc := range []string{`{"version":1,` + report + `}`, `{"version":2,` + report + tls + `}`} {
		if _, err := ParseEvidence([]byte(doc)); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

// Fetch tells an unreachable gateway and a refusal from a malformed answer,
// and records no TLS key over plain HTTP.
func TestFetch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/busy/attestation":
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":"busy","code":"busy"}`))
		case "/junk/attestation":
			w.Write([]byte("<html>"))
		default:
			w.Write([]byte(`{"version":1,"report":"AAAA","hpke":{"public_key":"AAAA"}}`))
		}
	}))
	defer srv.Close()
	ctx, nonce := t.Context(), make([]byte, 32)
	if _, err := Fetch(ctx, srv.Client(), srv.URL+"/busy", nonce); !errors.Is(err, ErrRefused) {
		t.Errorf("503: %v, want ErrRefused", err)
	}
	if _, err := Fetch(ctx, srv.Client(), srv.URL+"/junk", nonce); err == nil || errors.Is(err, ErrRefused) || errors.Is(err, ErrUnreachable) {
		t.Errorf("junk: %v, want a malformed-answer error", err)
	}
	if _, err := Fetch(ctx, srv.Client(), "http://127.0.0.1:1", nonce); !errors.Is(err, ErrUnreachable) {
		t.Errorf("nothing listening: %v, want ErrUnreachable", err)
	}
	f, err := Fetch(ctx, srv.Client(), srv.URL, nonce)
	if err != nil || f.TLSKeySHA256 != nil {
		t.Fatalf("plain HTTP: %v, TLS key %x", err, f.TLSKeySHA256)
	}
	exp := f.Expect(verifier.Expectation{ReportData: make([]byte, 64)})
	if exp.ReportData != nil || exp.Binding == nil || exp.Binding.TLSKeySHA256 != nil || exp.TLSKeySHA256 != nil {
		t.Errorf("Expect for v1 over plain HTTP: %+v", exp)
	}
}
