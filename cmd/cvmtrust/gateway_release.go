package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"

	"github.com/cvmtrust/cvmtrust/measure"
	sigsim "github.com/cvmtrust/cvmtrust/sigstore/simulated"
)

// Where a simulated gateway serves the signed release of the manifest given
// to --sim-release-manifest, and the SIMULATED Sigstore trusted root that
// verifies it. The bundle path is the one the widget fetches from a gateway
// when the page names no bundle (web/release.js, gatewayBundlePath).
const (
	releaseBundlePath         = "/release/bundle.sigstore.json"
	simulatedSigstoreRootPath = "/simulated/sigstore-trusted-root.json"
)

// simulatedRelease signs the release manifest at path with a simulated
// Sigstore instance made for this run, as the release workflow would with
// the real one, and returns a handler that serves the bundle and the
// instance's trusted root in front of next. The manifest's launch digest
// must recompute and be the one the simulated reports carry.
func simulatedRelease(next http.Handler, path string, measurement []byte) (http.Handler, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := measure.ParseManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("--sim-release-manifest: %w", err)
	}
	if err := m.Verify(); err != nil {
		return nil, fmt.Errorf("--sim-release-manifest: %w", err)
	}
	if !bytes.Equal(m.Measurement[:], measurement) {
		return nil, fmt.Errorf("--sim-release-manifest: its measurement %s is not the one the simulated reports carry (--measurement)", m.Measurement)
	}
	bundle, root, err := sigsim.SignRelease(m)
	if err != nil {
		return nil, err
	}
	serve := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			// Public, and verified against the identity the page pins:
			// any page may read it.
			w.Header().Set("Access-Control-Allow-Origin", "*")
			_, _ = w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+releaseBundlePath, serve(bundle))
	mux.Handle("GET "+simulatedSigstoreRootPath, serve(root))
	mux.Handle("/", next)
	return mux, nil
}
