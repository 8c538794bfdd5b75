package main

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
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
	h, err := simulatedRelease(next, demoReleaseManifest, m)
	if err != nil {
		t.Fatal(err)
	}
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
	if _, err := simulatedRelease(next, demoReleaseManifest, other); err == nil {
		t.Fatal("a release manifest for another measurement was accepted")
	}
}
