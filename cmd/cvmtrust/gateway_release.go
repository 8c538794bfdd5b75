package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/cvmtrust/cvmtrust/measure"
	sigsim "github.com/cvmtrust/cvmtrust/sigstore/simulated"
)

// Where a gateway serves a release's Sigstore bundle (--release-bundle, or
// the one --sim-release-manifest signs) and, simulated, the SIMULATED
// Sigstore trusted root that verifies it. The bundle path is the one the
// widget fetches from a gateway when the page names no bundle
// (web/release.js, gatewayBundlePath).
const (
	releaseBundlePath         = "/release/bundle.sigstore.json"
	simulatedSigstoreRootPath = "/simulated/sigstore-trusted-root.json"
)

// maxReleaseFile bounds a bundle or trusted root read from a file.
const maxReleaseFile = 1 << 20

// releaseFiles is what a gateway serves about its release: public, and
// verified by the page against the signer it pins, so it may come from
// anywhere (the operator, the host's fw_cfg); a wrong one makes the page
// refuse.
type releaseFiles struct {
	bundle, simulatedRoot []byte
}

// handler serves the files in front of next.
func (r releaseFiles) handler(next http.Handler) http.Handler {
	serve := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			// Public, and verified against the identity the page pins:
			// any page may read it.
			w.Header().Set("Access-Control-Allow-Origin", "*")
			_, _ = w.Write(body)
		}
	}
	mux := http.NewServeMux()
	if r.bundle != nil {
		mux.Handle("GET "+releaseBundlePath, serve(r.bundle))
	}
	if r.simulatedRoot != nil {
		mux.Handle("GET "+simulatedSigstoreRootPath, serve(r.simulatedRoot))
	}
	mux.Handle("/", next)
	return mux
}

// signSimulatedRelease signs the release manifest at path with a simulated
// Sigstore instance made for this run, as the release workflow would with
// the real one. The manifest's launch digest must recompute and be the one
// the simulated reports carry.
func signSimulatedRelease(path string, measurement []byte) (releaseFiles, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return releaseFiles{}, err
	}
	m, err := measure.ParseManifest(raw)
	if err != nil {
		return releaseFiles{}, fmt.Errorf("--sim-release-manifest: %w", err)
	}
	if err := m.Verify(); err != nil {
		return releaseFiles{}, fmt.Errorf("--sim-release-manifest: %w", err)
	}
	if !bytes.Equal(m.Measurement[:], measurement) {
		return releaseFiles{}, fmt.Errorf("--sim-release-manifest: its measurement %s is not the one the simulated reports carry (--measurement)", m.Measurement)
	}
	bundle, root, err := sigsim.SignRelease(m)
	if err != nil {
		return releaseFiles{}, err
	}
	return releaseFiles{bundle: bundle, simulatedRoot: root}, nil
}

// readReleaseFile reads a bundle or trusted root given on the command line:
// JSON, of a sane size. Its contents are checked by whoever verifies it.
func readReleaseFile(flag, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxReleaseFile+1))
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	if len(b) > maxReleaseFile {
		return nil, fmt.Errorf("--%s: %s is over %d bytes", flag, path, maxReleaseFile)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("--%s: %s is not JSON", flag, path)
	}
	return b, nil
}
