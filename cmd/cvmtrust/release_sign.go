package main

import (
	"fmt"
	"io"
	"os"

	"github.com/cvmtrust/cvmtrust/measure"
	sigsim "github.com/cvmtrust/cvmtrust/sigstore/simulated"
)

const releaseSignUsage = `usage: cvmtrust release sign-simulated --manifest release.json --bundle OUT --trusted-root OUT

SIMULATED: signs the release statement of a launch manifest as the release
workflow would, but with a Sigstore instance made for this run (a test Fulcio
CA, CT log and Rekor log), and writes the bundle and the trusted root that
verifies it. For development and tests (scripts/demo.sh --vm): a page accepts
the bundle only when told to trust that root, and then says SIMULATED.

flags:
`

func runReleaseSignSimulated(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("release sign-simulated", releaseSignUsage, stderr)
	manifest := fs.String("manifest", "", "the launch manifest `file` (cvmtrust measure --write-manifest)")
	bundleOut := fs.String("bundle", "", "write the Sigstore bundle to `file`")
	rootOut := fs.String("trusted-root", "", "write the simulated instance's trusted root to `file`")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *manifest == "" || *bundleOut == "" || *rootOut == "" || fs.NArg() != 0 {
		fmt.Fprint(stderr, releaseSignUsage)
		return exitUsage
	}
	raw, err := os.ReadFile(*manifest)
	if err != nil {
		fmt.Fprintf(stderr, "cvmtrust release sign-simulated: %v\n", err)
		return exitUsage
	}
	m, err := measure.ParseManifest(raw)
	if err == nil {
		err = m.Verify()
	}
	if err != nil {
		fmt.Fprintf(stderr, "cvmtrust release sign-simulated: %s: %v\n", *manifest, err)
		return exitUsage
	}
	bundle, root, err := sigsim.SignRelease(m)
	if err != nil {
		fmt.Fprintf(stderr, "cvmtrust release sign-simulated: %v\n", err)
		return exitUsage
	}
	for _, out := range []struct {
		path string
		data []byte
	}{{*bundleOut, bundle}, {*rootOut, root}} {
		if err := os.WriteFile(out.path, out.data, 0o644); err != nil {
			fmt.Fprintf(stderr, "cvmtrust release sign-simulated: %v\n", err)
			return exitUsage
		}
	}
	fmt.Fprintf(stdout, "SIMULATED release %s (measurement %s) signed as %s; bundle %s, trusted root %s\n",
		m.Release, m.Measurement, sigsim.ReleaseIdentity(m).URI, *bundleOut, *rootOut)
	return exitOK
}
