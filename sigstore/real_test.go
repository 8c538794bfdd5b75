package sigstore

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

const realDir = "../testdata/sigstore/real"

type realCase struct {
	Bundle     string `json:"bundle"`
	Artifact   string `json:"artifact"`
	Issuer     string `json:"issuer"`
	Identity   string `json:"identity"`
	Repository string `json:"repository"`
	Workflow   string `json:"workflow"`
	Key        string `json:"key"`
}

func realCases(t testing.TB) []realCase {
	data, err := os.ReadFile(filepath.Join(realDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []realCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 6 {
		t.Fatalf("only %d real cases", len(cases))
	}
	return cases
}

func (c realCase) load(t testing.TB) (bundle []byte, p Policy) {
	var err error
	if bundle, err = os.ReadFile(filepath.Join(realDir, c.Bundle)); err != nil {
		t.Fatal(err)
	}
	if p.Artifact, err = os.ReadFile(filepath.Join(realDir, c.Artifact)); err != nil {
		t.Fatal(err)
	}
	if c.Key != "" {
		if p.Key, err = os.ReadFile(filepath.Join(realDir, c.Key)); err != nil {
			t.Fatal(err)
		}
	} else {
		p.Issuer, p.Identity, p.Repository, p.Workflow = c.Issuer, c.Identity, c.Repository, c.Workflow
	}
	return bundle, p
}

// TestRealBundles: every real GitHub-Actions-signed bundle verifies with
// its identity, and is rejected for another repository, another workflow,
// another artifact and a maximum age it exceeds.
func TestRealBundles(t *testing.T) {
	v, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range realCases(t) {
		t.Run(c.Bundle, func(t *testing.T) {
			bundle, p := c.load(t)
			res, err := v.Verify(ctx, bundle, p)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Statement == nil || len(res.LogEntries) != 1 || res.SignedAt == "" {
				t.Fatalf("incomplete Result: %+v", res)
			}
			if c.Key == "" && (res.Signer.Repository != c.Repository || res.Signer.Workflow != c.Workflow || res.Signer.Commit == "" ||
				res.Signer.Issuer != c.Issuer || res.Signer.SubjectAlternativeName != c.Identity || res.Signer.Ref == "") {
				t.Errorf("signer = %+v", res.Signer)
			}
			if c.Bundle == "attest-demo-reusable-workflow-actions-attest.sigstore.json" {
				s := res.Signer
				if s.RunnerEnvironment != "github-hosted" || s.RepositoryVisibility != "public" || s.OwnerURI != "https://github.com/malancas" ||
					s.BuildSignerURI != c.Identity || len(s.BuildSignerDigest) != 40 || len(s.BuildConfigDigest) != 40 ||
					s.RepositoryID == "" || s.OwnerID == "" || s.RunInvocationURI == "" {
					t.Errorf("CI extensions: %+v", s)
				}
			}
			other := p
			other.Artifact = append([]byte("x"), p.Artifact...)
			if _, err := v.Verify(ctx, bundle, other); !errors.Is(err, ErrArtifact) {
				t.Errorf("another artifact: %v", err)
			}
			old := p
			old.MaxAge = 24 * 3600 * 1e9
			if _, err := v.Verify(ctx, bundle, old); !errors.Is(err, ErrTooOld) {
				t.Errorf("max age: %v", err)
			}
			if c.Key != "" {
				return
			}
			for _, mutate := range []func(*Policy){
				func(p *Policy) { p.Repository = "someone/else" },
				func(p *Policy) { p.Workflow = ".github/workflows/other.yml" },
				func(p *Policy) { p.Issuer = "https://accounts.google.com" },
				func(p *Policy) { p.Identity = p.Identity + "x" },
				func(p *Policy) { p.RefPattern = "refs/tags/v*" },
			} {
				q := p
				mutate(&q)
				if _, err := v.Verify(ctx, bundle, q); !errors.Is(err, ErrIdentity) {
					t.Errorf("policy %+v: %v", q, err)
				}
			}
		})
	}
}

// TestRealBundleByDigest: the digest form works where the subject gives a
// SHA-256.
func TestRealBundleByDigest(t *testing.T) {
	v, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range realCases(t) {
		if c.Bundle != "attest-demo-reusable-workflow-actions-attest.sigstore.json" {
			continue
		}
		bundle, p := c.load(t)
		d := sha256.Sum256(p.Artifact)
		p.Artifact, p.ArtifactDigest = nil, d[:]
		if _, err := v.Verify(context.Background(), bundle, p); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("attest-demo case missing")
}
