//go:build !(js && wasm)

// Command release-fixtures signs a release manifest with a freshly generated
// SIMULATED Sigstore instance, in every way a page must tell apart, for the
// demo and for browser tests:
//
//	go run ./sigstore/simulated/cmd/release-fixtures --manifest measure/testdata/demo-release.json --out DIR
//
// It writes DIR/trusted_root.json (the simulated instance's, the only root
// the bundles verify against), DIR/<case>.sigstore.json for each case, and
// DIR/cases.json: the policy the cases assume a page pins, and for each case
// its file, a description, whether it must verify and the measurement of
// the manifest it carries. The keys exist only for the run; nothing it
// writes verifies against any other trusted root.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cvmtrust/cvmtrust/measure"
	"github.com/cvmtrust/cvmtrust/sigstore/simulated"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

type index struct {
	Simulated   bool              `json:"simulated"`
	Note        string            `json:"note"`
	TrustedRoot string            `json:"trustedRoot"`
	Policy      policy            `json:"policy"`
	Cases       []caseEntry       `json:"cases"`
	Release     string            `json:"release"`
	Manifest    *measure.Manifest `json:"manifest"`
}

type policy struct {
	Issuer        string `json:"issuer"`
	SANRegexp     string `json:"sanRegexp"`
	RepositoryURI string `json:"repositoryUri"`
	MaxAgeSeconds int64  `json:"maxAgeSeconds"`
}

type caseEntry struct {
	simulated.ReleaseCase
	File string `json:"file"`
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("release-fixtures", flag.ContinueOnError)
	fs.SetOutput(stderr)
	manifestPath := fs.String("manifest", "", "release manifest `file` to sign")
	out := fs.String("out", "", "`directory` to write the trusted root, the bundles and cases.json to")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *manifestPath == "" || *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: release-fixtures --manifest FILE --out DIR")
		return 2
	}
	if err := write(*manifestPath, *out); err != nil {
		fmt.Fprintln(stderr, "release-fixtures:", err)
		return 1
	}
	return 0
}

func write(manifestPath, out string) error {
	raw, err := os.ReadFile(manifestPath)
	if err != nil {
		return err
	}
	m, err := measure.ParseManifest(raw)
	if err != nil {
		return err
	}
	if err := m.Verify(); err != nil {
		return err
	}
	in, err := simulated.New(simulated.Options{})
	if err != nil {
		return err
	}
	cases, err := in.ReleaseCases(m)
	if err != nil {
		return err
	}
	root, err := in.TrustedRootJSON()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	idx := index{
		Simulated: true,
		Note: "SIMULATED: signed by a Sigstore instance generated for this run (hosts under " + simulated.HostSuffix +
			"), for development and tests only; never trust trusted_root.json in production.",
		TrustedRoot: "trusted_root.json",
		Policy: policy{
			Issuer: simulated.GitHubActionsIssuer, SANRegexp: simulated.ReleaseSANRegexp,
			RepositoryURI: simulated.ReleaseRepositoryURI, MaxAgeSeconds: int64(simulated.ReleaseMaxAge.Seconds()),
		},
		Release:  m.Release,
		Manifest: m,
	}
	files := map[string][]byte{"trusted_root.json": root}
	for _, c := range cases {
		name := c.Name + ".sigstore.json"
		if _, dup := files[name]; dup {
			return errors.New("two cases named " + c.Name)
		}
		files[name] = c.Bundle
		idx.Cases = append(idx.Cases, caseEntry{ReleaseCase: c, File: name})
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	files["cases.json"] = b
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(out, name), append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}
