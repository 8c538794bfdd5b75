package sigstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const conformanceDir = "../testdata/sigstore/conformance"

// Defaults of the sigstore-conformance bundle-verify assets (their README).
const (
	conformanceIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	conformanceIssuer   = "https://token.actions.githubusercontent.com"
)

type conformanceCase struct {
	name        string
	dir         string
	bundle      []byte
	artifact    []byte
	trustedRoot []byte // nil: the public-good root
	key         []byte
	identity    string
	issuer      string
	wantOK      bool
}

func readOptional(t testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func conformanceCases(t testing.TB) []conformanceCase {
	entries, err := os.ReadDir(conformanceDir)
	if err != nil {
		t.Fatal(err)
	}
	defaultArtifact, err := os.ReadFile(filepath.Join(conformanceDir, "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []conformanceCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(conformanceDir, e.Name())
		c := conformanceCase{name: e.Name(), dir: dir, wantOK: !strings.HasSuffix(e.Name(), "_fail"),
			identity: conformanceIdentity, issuer: conformanceIssuer}
		c.bundle = readOptional(t, filepath.Join(dir, "bundle.sigstore.json"))
		if c.artifact = readOptional(t, filepath.Join(dir, "artifact")); c.artifact == nil {
			c.artifact = defaultArtifact
		}
		c.trustedRoot = readOptional(t, filepath.Join(dir, "trusted_root.json"))
		c.key = readOptional(t, filepath.Join(dir, "key.pub"))
		if id := readOptional(t, filepath.Join(dir, "identity")); id != nil {
			c.identity = strings.TrimSpace(string(id))
		}
		if is := readOptional(t, filepath.Join(dir, "issuer")); is != nil {
			c.issuer = strings.TrimSpace(string(is))
		}
		cases = append(cases, c)
	}
	if len(cases) < 70 {
		t.Fatalf("only %d conformance cases found", len(cases))
	}
	return cases
}

func (c conformanceCase) policy(byDigest bool) Policy {
	var p Policy
	if byDigest {
		d := sha256.Sum256(c.artifact)
		p.ArtifactDigest = d[:]
	} else {
		p.Artifact = c.artifact
	}
	if c.key != nil {
		p.Key = c.key
	} else {
		p.Issuer, p.Identity = c.issuer, c.identity
	}
	return p
}

func (c conformanceCase) verify(byDigest bool) (*Result, error) {
	var opts Options
	if c.trustedRoot != nil {
		tr, err := ParseTrustedRoot(c.trustedRoot)
		if err != nil {
			return nil, err
		}
		opts.TrustedRoot = tr
	}
	v, err := New(opts)
	if err != nil {
		return nil, err
	}
	return v.Verify(context.Background(), c.bundle, c.policy(byDigest))
}

// TestConformance runs every sigstore-conformance bundle-verify case, with
// the artifact given as a file and as a digest, and checks the verdict.
func TestConformance(t *testing.T) {
	for _, c := range conformanceCases(t) {
		for _, byDigest := range []bool{false, true} {
			form := "path"
			if byDigest {
				form = "digest"
			}
			t.Run(c.name+"/"+form, func(t *testing.T) {
				res, err := c.verify(byDigest)
				if (err == nil) != c.wantOK {
					t.Fatalf("verified = %v, want %v (error: %v)", err == nil, c.wantOK, err)
				}
				if err == nil && (!res.Verified || len(res.Failed()) != 0) {
					t.Fatalf("a Result with failures came back as verified: %+v", res.Failed())
				}
				var rej *RejectedError
				if err != nil && errors.As(err, &rej) && len(rej.Result.Failed()) == 0 {
					t.Fatalf("rejected with no failed check")
				}
			})
		}
	}
}
