package main

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/gateway/simulated"
	"github.com/cvmtrust/cvmtrust/release/provenance"
	"github.com/cvmtrust/cvmtrust/sigstore"
	sigsim "github.com/cvmtrust/cvmtrust/sigstore/simulated"
)

const demoReleaseManifest = "../../measure/testdata/demo-release.json"

// TestSimulatedRelease: the simulated gateway serves a bundle of its release
// that verifies, for the release identity, against the trusted root it
// serves beside it, which is labelled simulated; other paths reach the
// gateway; a manifest for another measurement is refused at start.
func TestSimulatedRelease(t *testing.T) {
	m, _ := hex.DecodeString(simulated.DefaultMeasurement)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	files, err := signSimulatedRelease(demoReleaseManifest, m)
	if err != nil {
		t.Fatal(err)
	}
	h := files.handler(next)
	get := func(path string) []byte {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		b, _ := io.ReadAll(rec.Body)
		return b
	}
	bundle, rootJSON := get(releaseBundlePath), get(simulatedSigstoreRootPath)
	root, err := sigstore.ParseTrustedRoot(rootJSON)
	if err != nil || !root.Simulated {
		t.Fatalf("served root: simulated=%v, %v", root != nil && root.Simulated, err)
	}
	v, err := sigstore.New(sigstore.Options{TrustedRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	rel, _, err := provenance.Verify(context.Background(), v, bundle, sigstore.Policy{
		Issuer: sigsim.GitHubActionsIssuer, Repository: sigsim.ReleaseRepository, Workflow: sigsim.ReleaseWorkflow,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := rel.Manifest.Measurement.String(); got != simulated.DefaultMeasurement {
		t.Fatalf("signed release measurement %s, want the simulated reports' %s", got, simulated.DefaultMeasurement)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/attestation", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("other paths do not reach the gateway: %d", rec.Code)
	}

	other := make([]byte, 48)
	if _, err := signSimulatedRelease(demoReleaseManifest, other); err == nil {
		t.Fatal("a release manifest for another measurement was accepted")
	}
}

// TestReleaseFilesFromFlags: --release-bundle and --sim-sigstore-root are
// served as given, only JSON of a sane size is taken, and the simulated root
// needs --simulated.
func TestReleaseFilesFromFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := readReleaseFile("release-bundle", write("notjson", "hello")); err == nil {
		t.Error("a bundle that is not JSON is taken")
	}
	if _, err := readReleaseFile("release-bundle", write("big", `"`+strings.Repeat("a", maxReleaseFile)+`"`)); err == nil {
		t.Error("an oversized bundle is taken")
	}
	b, err := readReleaseFile("release-bundle", write("bundle.json", `{"mediaType":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	h := releaseFiles{bundle: b}.handler(http.NotFoundHandler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", releaseBundlePath, nil))
	if rec.Code != http.StatusOK || rec.Body.String() != `{"mediaType":"x"}` {
		t.Errorf("GET %s: %d %q", releaseBundlePath, rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", simulatedSigstoreRootPath, nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("a simulated root is served though none was given: %d", rec.Code)
	}
	var stderr strings.Builder
	if code := runGateway([]string{"--sim-sigstore-root", write("root.json", "{}")}, io.Discard, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "--sim-sigstore-root needs --simulated") {
		t.Errorf("--sim-sigstore-root without --simulated: exit %d, %q", code, stderr.String())
	}
}

// TestReleaseSignSimulated: the bundle it writes verifies against the root
// it writes, for the release identity, and carries the manifest; a manifest
// whose digest does not recompute is refused.
func TestReleaseSignSimulated(t *testing.T) {
	dir := t.TempDir()
	bundlePath, rootPath := filepath.Join(dir, "b.json"), filepath.Join(dir, "r.json")
	var out, stderr strings.Builder
	if code := run([]string{"release", "sign-simulated", "--manifest", demoReleaseManifest, "--bundle", bundlePath, "--trusted-root", rootPath}, &out, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(out.String(), "SIMULATED release cvmtrust-demo-simulated") {
		t.Errorf("stdout %q", out.String())
	}
	bundle, _ := os.ReadFile(bundlePath)
	rootJSON, _ := os.ReadFile(rootPath)
	root, err := sigstore.ParseTrustedRoot(rootJSON)
	if err != nil || !root.Simulated {
		t.Fatalf("root: %v", err)
	}
	v, err := sigstore.New(sigstore.Options{TrustedRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	rel, _, err := provenance.Verify(context.Background(), v, bundle, sigstore.Policy{
		Issuer: sigsim.GitHubActionsIssuer, Repository: sigsim.ReleaseRepository, Workflow: sigsim.ReleaseWorkflow,
	})
	if err != nil || rel.Manifest.Measurement.String() != simulated.DefaultMeasurement {
		t.Fatalf("verify: %v", err)
	}

	raw, _ := os.ReadFile(demoReleaseManifest)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(strings.Replace(string(raw), simulated.DefaultMeasurement[:8], "00000000", 1)), 0o600)
	if code := run([]string{"release", "sign-simulated", "--manifest", bad, "--bundle", bundlePath, "--trusted-root", rootPath}, &out, &stderr); code != exitUsage {
		t.Errorf("a manifest whose digest does not recompute: exit %d", code)
	}
}
