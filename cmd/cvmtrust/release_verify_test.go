package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/measure"
	sigsim "github.com/cvmtrust/cvmtrust/sigstore/simulated"
)

// TestReleaseVerify: `cvmtrust release verify` reaches, for every simulated
// release case, the verdict it was made for (as the page does), prints the
// recomputed measurement of a verified one and says SIMULATED; unusable
// input exits 2.
func TestReleaseVerify(t *testing.T) {
	raw, err := os.ReadFile(demoReleaseManifest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := measure.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	in, err := sigsim.New(sigsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := in.ReleaseCases(m)
	if err != nil {
		t.Fatal(err)
	}
	root, err := in.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rootPath := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(rootPath, root, 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(append([]string{"release", "verify"}, args...), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	verified := 0
	for _, c := range cases {
		path := filepath.Join(dir, c.Name+".json")
		if err := os.WriteFile(path, c.Bundle, 0o644); err != nil {
			t.Fatal(err)
		}
		code, out := cli("--bundle", path, "--repo", sigsim.ReleaseRepository, "--ref", "refs/tags/*", "--max-age", "2160h", "--trusted-root", rootPath)
		want := exitRejected
		if c.Verified {
			want = exitOK
		}
		if code != want {
			t.Errorf("%s: exit %d, want %d:\n%s", c.Name, code, want, out)
			continue
		}
		if c.Verified {
			verified++
			if !strings.Contains(out, c.Measurement) || !strings.Contains(out, "SIMULATED") || !strings.Contains(out, "recomputed") {
				t.Errorf("%s: output lacks the measurement or SIMULATED:\n%s", c.Name, out)
			}
		}
	}
	if verified == 0 {
		t.Fatal("no case verified")
	}
	// --json: the release and the Sigstore Result.
	code, out := cli("--bundle", filepath.Join(dir, "release.json"), "--repo", sigsim.ReleaseRepository, "--ref", "refs/tags/*", "--trusted-root", rootPath, "--json")
	var got struct {
		Verified    bool           `json:"verified"`
		Measurement string         `json:"measurement"`
		Result      map[string]any `json:"result"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &got) != nil || !got.Verified || got.Measurement != m.Measurement.String() || got.Result["simulated"] != true {
		t.Errorf("--json: exit %d\n%s", code, out)
	}
	// Without the simulated root, the embedded public-good root refuses it.
	if code, out := cli("--bundle", filepath.Join(dir, "release.json"), "--repo", sigsim.ReleaseRepository, "--ref", "refs/tags/*"); code != exitRejected {
		t.Errorf("public-good root: exit %d:\n%s", code, out)
	}
	for _, args := range [][]string{
		{"--repo", "a/b"},
		{"--bundle", filepath.Join(dir, "release.json")},
		{"--bundle", filepath.Join(dir, "missing.json"), "--repo", "a/b"},
		{"--bundle", filepath.Join(dir, "release.json"), "--repo", "a/b", "--ref", "["},
		{"--bundle", filepath.Join(dir, "release.json"), "--repo", "a/b", "extra"},
	} {
		if code, out := cli(args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d:\n%s", args, code, exitUsage, out)
		}
	}
}
