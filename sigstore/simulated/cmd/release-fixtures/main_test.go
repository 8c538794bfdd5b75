package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/cvmtrust/cvmtrust/sigstore/simulated"
)

const demoManifest = "../../../../measure/testdata/demo-release.json"

func TestRunRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	notManifest := filepath.Join(dir, "not.json")
	if err := os.WriteFile(notManifest, []byte(`{"format":"other"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		args []string
		code int
	}{
		"no flags":         {nil, 2},
		"no out":           {[]string{"--manifest", demoManifest}, 2},
		"extra argument":   {[]string{"--manifest", demoManifest, "--out", dir, "x"}, 2},
		"missing manifest": {[]string{"--manifest", filepath.Join(dir, "none.json"), "--out", dir}, 1},
		"not a manifest":   {[]string{"--manifest", notManifest, "--out", dir}, 1},
	} {
		var stderr bytes.Buffer
		if code := run(tc.args, &stderr); code != tc.code || stderr.Len() == 0 {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and a message", name, code, stderr.String(), tc.code)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed run wrote files: %v", entries)
	}
}

func TestRunWritesEveryCase(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	if code := run([]string{"--manifest", demoManifest, "--out", dir}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	raw, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Simulated   bool   `json:"simulated"`
		TrustedRoot string `json:"trustedRoot"`
		Cases       []struct {
			Name     string `json:"name"`
			File     string `json:"file"`
			Verified bool   `json:"verified"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	if !idx.Simulated {
		t.Error("cases.json does not say it is simulated")
	}
	root, err := os.ReadFile(filepath.Join(dir, idx.TrustedRoot))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(root, []byte(simulated.HostSuffix)) {
		t.Error("the trusted root does not name simulated hosts")
	}
	verified := 0
	for _, c := range idx.Cases {
		b, err := os.ReadFile(filepath.Join(dir, c.File))
		if err != nil || !json.Valid(b) {
			t.Errorf("%s: %v", c.File, err)
		}
		if c.Verified {
			verified++
		}
	}
	if len(idx.Cases) < 20 || verified == 0 || verified == len(idx.Cases) {
		t.Errorf("%d cases, %d verified", len(idx.Cases), verified)
	}
}
