package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/gateway/simulated"
	"github.com/cvmtrust/cvmtrust/protocol"
)

// simulatedEvidence returns protocol v1 evidence from the simulated
// platform, bound to nonce and a made-up HPKE key, written to a file, and
// the simulated root written to another.
func simulatedEvidence(t *testing.T, nonce []byte) (evidenceFile, arkFile string) {
	t.Helper()
	src, err := newSimulated(simulated.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pk := make([]byte, 32)
	rand.Read(pk)
	rd, err := protocol.ReportData(nonce, pk)
	if err != nil {
		t.Fatal(err)
	}
	report, certs, err := src.GetReport(context.Background(), rd)
	if err != nil {
		t.Fatal(err)
	}
	ev := protocol.Evidence{Version: protocol.Version, Report: report, Certs: certs,
		HPKE: protocol.HPKEKey{KEM: protocol.KEMX25519, KDF: protocol.KDFHKDFSHA256, AEAD: protocol.AEADAES256GCM, PublicKey: pk}}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	evidenceFile, arkFile = filepath.Join(dir, "evidence.json"), filepath.Join(dir, "ark.pem")
	if err := os.WriteFile(evidenceFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(arkFile, src.SimulatedARK(), 0o644); err != nil {
		t.Fatal(err)
	}
	return evidenceFile, arkFile
}

func TestVerifyCLIEvidence(t *testing.T) {
	nonce := make([]byte, protocol.NonceSize)
	rand.Read(nonce)
	evFile, ark := simulatedEvidence(t, nonce)
	m := []string{"--measurement", simulated.DefaultMeasurement}
	other := make([]byte, protocol.NonceSize)
	rand.Read(other)

	// Negative cases first: another nonce, and no simulated root.
	code, out, errOut := runVerifyCLI(append([]string{"--evidence", evFile, "--nonce", base64.RawURLEncoding.EncodeToString(other), "--simulated-root", ark}, m...)...)
	if code != exitRejected || !strings.Contains(out, "FAIL reportData") {
		t.Errorf("another nonce: exit %d, want %d with FAIL reportData\n%s%s", code, exitRejected, out, errOut)
	}
	assertNoEmptyGotWant(t, out)
	code, out, errOut = runVerifyCLI(append([]string{"--evidence", evFile, "--nonce", base64.RawURLEncoding.EncodeToString(nonce)}, m...)...)
	if code != exitRejected || strings.Contains(out, "VERIFIED") {
		t.Errorf("without --simulated-root: exit %d, want %d\n%s%s", code, exitRejected, out, errOut)
	}
	code, out, errOut = runVerifyCLI(append([]string{"--evidence", evFile, "--nonce", base64.RawURLEncoding.EncodeToString(nonce), "--simulated-root", ark, "--vmpl", "0"}, m...)...)
	if code != exitOK || !strings.HasPrefix(out, "VERIFIED against a SIMULATED root") || strings.Contains(out, "skip reportData") {
		t.Errorf("the right nonce: exit %d, want %d with the binding checked\n%s%s", code, exitOK, out, errOut)
	}
	// Without --nonce the evidence verifies but the output says the
	// binding was not checked.
	code, out, _ = runVerifyCLI(append([]string{"--evidence", evFile, "--simulated-root", ark}, m...)...)
	if code != exitOK || !strings.Contains(out, "skip reportData") || !strings.Contains(out, "without --nonce") {
		t.Errorf("no --nonce: exit %d\n%s", code, out)
	}
}

func TestVerifyCLIEvidenceUnusable(t *testing.T) {
	nonce := make([]byte, protocol.NonceSize)
	evFile, ark := simulatedEvidence(t, nonce)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	m := simulated.DefaultMeasurement
	for name, args := range map[string][]string{
		"not JSON":           {"--evidence", write("a.json", "<html>"), "--measurement", m},
		"version 2":          {"--evidence", write("b.json", `{"version":2,"report":"AAAA","hpke":{"public_key":"AAAA"}}`), "--measurement", m},
		"no report":          {"--evidence", write("c.json", `{"version":1,"hpke":{"public_key":"AAAA"}}`), "--measurement", m},
		"short nonce":        {"--evidence", evFile, "--nonce", "AAAA", "--measurement", m},
		"nonce not base64":   {"--evidence", evFile, "--nonce", "!!", "--measurement", m},
		"nonce and data":     {"--evidence", evFile, "--nonce", base64.RawURLEncoding.EncodeToString(nonce), "--report-data", strings.Repeat("00", 64), "--measurement", m},
		"nonce with gateway": {"--gateway", "http://127.0.0.1:1/", "--nonce", base64.RawURLEncoding.EncodeToString(nonce), "--measurement", m},
		"two sources":        {"--evidence", evFile, "--gateway", "http://127.0.0.1:1/", "--measurement", m},
		"gateway not http":   {"--gateway", "ftp://x/", "--measurement", m, "--simulated-root", ark},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runVerifyCLI(args...)
			assertOneLineExit2(t, code, out, errOut)
		})
	}
}

// TestVerifyCLIGateway asks a simulated gateway, running in this process,
// for evidence with a fresh nonce.
func TestVerifyCLIGateway(t *testing.T) {
	ark := filepath.Join(t.TempDir(), "ark.pem")
	gw := startCLIGateway(t, "--simulated", "--listen", "127.0.0.1:0", "--sim-ark", ark)
	m := []string{"--measurement", simulated.DefaultMeasurement}

	// Rejected without the simulated root: the pinned AMD roots do not
	// sign it.
	code, out, errOut := runVerifyCLI(append([]string{"--gateway", gw.base}, m...)...)
	if code != exitRejected || !strings.HasPrefix(out, "REJECTED") {
		t.Errorf("without --simulated-root: exit %d, want %d\n%s%s", code, exitRejected, out, errOut)
	}
	assertNoEmptyGotWant(t, out)
	// Another measurement: rejected.
	code, out, _ = runVerifyCLI("--gateway", gw.base, "--simulated-root", ark, "--measurement", strings.Repeat("00", 48))
	if code != exitRejected || !strings.Contains(out, "FAIL measurement") {
		t.Errorf("another measurement: exit %d\n%s", code, out)
	}
	code, out, errOut = runVerifyCLI(append([]string{"--gateway", gw.base + "/", "--simulated-root", ark, "--vmpl", "0"}, m...)...)
	if code != exitOK || !strings.HasPrefix(out, "VERIFIED against a SIMULATED root") || strings.Contains(out, "skip reportData") ||
		!strings.Contains(out, gw.base+"/attestation with a fresh nonce") {
		t.Errorf("with --simulated-root: exit %d, want %d\n%s%s", code, exitOK, out, errOut)
	}
	code, out, _ = runVerifyCLI(append([]string{"--gateway", gw.base, "--simulated-root", ark, "--json"}, m...)...)
	if code != exitOK || !strings.Contains(out, `"verified": true`) {
		t.Errorf("--json: exit %d\n%s", code, out)
	}
}

// TestVerifyCLIGatewayUnusable: a gateway that cannot be asked, or answers
// with something that is not evidence, is exit 2 with one line.
func TestVerifyCLIGatewayUnusable(t *testing.T) {
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"version":1,"report":"`))
		chunk := []byte(strings.Repeat("A", 64<<10))
		for range 40 { // 2.5 MiB, more than any evidence
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer huge.Close()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":"the platform did not produce a report","code":"report_failed"}`))
	}))
	defer refusing.Close()
	notEvidence := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<!doctype html><p>hello"))
	}))
	defer notEvidence.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for name, url := range map[string]string{"too large": huge.URL, "503": refusing.URL, "HTML": notEvidence.URL, "down": down.URL} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runVerifyCLI("--gateway", url, "--measurement", simulated.DefaultMeasurement, "--timeout", "5s")
			assertOneLineExit2(t, code, out, errOut)
		})
	}
}
