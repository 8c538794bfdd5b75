package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const conformanceAssets = "../../testdata/sigstore/conformance"

// TestReleaseVerifyBundleConformance runs every sigstore-conformance
// bundle-verify case through the CLI, as the conformance suite calls it,
// with the artifact as a path and as a digest, and checks the exit status.
func TestReleaseVerifyBundleConformance(t *testing.T) {
	dirs, err := os.ReadDir(conformanceAssets)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		n++
		dir := filepath.Join(conformanceAssets, d.Name())
		exists := func(name string) bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }
		artifact := filepath.Join(conformanceAssets, "a.txt")
		if exists("artifact") {
			artifact = filepath.Join(dir, "artifact")
		}
		data, err := os.ReadFile(artifact)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		for _, target := range []string{artifact, "sha256:" + hex.EncodeToString(sum[:])} {
			args := []string{"release", "verify-bundle", "--bundle", filepath.Join(dir, "bundle.sigstore.json")}
			if exists("key.pub") {
				args = append(args, "--key", filepath.Join(dir, "key.pub"))
			} else {
				identity := "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
				issuer := "https://token.actions.githubusercontent.com"
				if b, err := os.ReadFile(filepath.Join(dir, "identity")); err == nil {
					identity = strings.TrimSpace(string(b))
				}
				if b, err := os.ReadFile(filepath.Join(dir, "issuer")); err == nil {
					issuer = strings.TrimSpace(string(b))
				}
				args = append(args, "--certificate-identity", identity, "--certificate-oidc-issuer", issuer)
			}
			if exists("trusted_root.json") {
				args = append(args, "--trusted-root", filepath.Join(dir, "trusted_root.json"))
			}
			args = append(args, target)
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			wantOK := !strings.HasSuffix(d.Name(), "_fail")
			if (code == exitOK) != wantOK || (code != exitOK && code != exitRejected && code != exitUsage) {
				t.Errorf("%s (%s): exit %d, want success %v\n%s%s", d.Name(), target, code, wantOK, stdout.String(), stderr.String())
			}
		}
	}
	if n < 70 {
		t.Fatalf("only %d cases", n)
	}
}

func TestReleaseVerifyBundleJSONAndExitCodes(t *testing.T) {
	dir := filepath.Join(conformanceAssets, "happy-path-v0.3")
	base := []string{"release", "verify-bundle", "--bundle", filepath.Join(dir, "bundle.sigstore.json"),
		"--certificate-oidc-issuer", "https://token.actions.githubusercontent.com"}
	identity := "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	artifact := filepath.Join(conformanceAssets, "a.txt")

	var stdout, stderr bytes.Buffer
	if code := run(append(base, "--json", "--certificate-identity", identity, "--repo",
		"sigstore-conformance/extremely-dangerous-public-oidc-beacon", artifact), &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res["verified"] != true {
		t.Fatalf("JSON Result: %v %s", err, stdout.String())
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"wrong identity", append(base, "--certificate-identity", "https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main", artifact), exitRejected},
		{"identity regexp", append(base, "--certificate-identity-regexp", `https://github\.com/sigstore-conformance/.*`, artifact), exitOK},
		{"other repository", append(base, "--certificate-identity", identity, "--repo", "someone/else", artifact), exitRejected},
		{"too old", append(base, "--certificate-identity", identity, "--max-age", "1h", artifact), exitRejected},
		{"missing artifact", append(base, "--certificate-identity", identity, filepath.Join(dir, "nope")), exitUsage},
		{"no artifact", append(base, "--certificate-identity", identity), exitUsage},
		{"bad flag", append(base, "--nope", artifact), exitUsage},
		{"both identity and key", append(base, "--certificate-identity", identity, "--key", artifact, artifact), exitUsage},
		{"staging without root", append(base, "--staging", "--certificate-identity", identity, artifact), exitUsage},
	} {
		stdout.Reset()
		stderr.Reset()
		if code := run(tc.args, &stdout, &stderr); code != tc.want {
			t.Errorf("%s: exit %d, want %d\n%s%s", tc.name, code, tc.want, stdout.String(), stderr.String())
		}
	}
}
