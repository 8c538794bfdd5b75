//go:build !js

// Writes statements (NewStatement is native only) or signs them with the
// simulated Sigstore instance, which is native only.

package provenance

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/measure"
	"github.com/cvmtrust/cvmtrust/release"
	"github.com/cvmtrust/cvmtrust/sigstore"
	"github.com/cvmtrust/cvmtrust/sigstore/simulated"
)

func demoManifest(t *testing.T) *measure.Manifest {
	t.Helper()
	raw, err := os.ReadFile("../../measure/testdata/demo-release.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := measure.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func instance(t *testing.T) (*simulated.Instance, *sigstore.Verifier) {
	t.Helper()
	in, err := simulated.New(simulated.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rootJSON, err := in.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	root, err := sigstore.ParseTrustedRoot(rootJSON)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sigstore.New(sigstore.Options{TrustedRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	return in, v
}

// releasePolicy is what the release cases are judged by.
var releasePolicy = sigstore.Policy{
	Issuer:     simulated.GitHubActionsIssuer,
	Repository: simulated.ReleaseRepository,
	Workflow:   simulated.ReleaseWorkflow,
	RefPattern: "refs/tags/*",
	MaxAge:     simulated.ReleaseMaxAge,
}

// TestReleaseCases: every case of the simulated instance gets the verdict
// it was made for, and a verified one yields the manifest's measurement,
// a SIMULATED Result, and the signer's repository, commit and log entry.
func TestReleaseCases(t *testing.T) {
	m := demoManifest(t)
	in, v := instance(t)
	cases, err := in.ReleaseCases(m)
	if err != nil {
		t.Fatal(err)
	}
	verified, rejected := 0, 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			rel, res, err := Verify(context.Background(), v, c.Bundle, releasePolicy)
			if (err == nil) != c.Verified {
				t.Fatalf("verified=%v, want %v (%v)", err == nil, c.Verified, err)
			}
			if err != nil {
				rejected++
				return
			}
			verified++
			if got := hex.EncodeToString(rel.Manifest.Measurement[:]); got != c.Measurement {
				t.Errorf("measurement %s, want %s", got, c.Measurement)
			}
			if res != rel.Bundle || !res.Simulated || res.Signer.Repository != simulated.ReleaseRepository ||
				res.Signer.Commit == "" || len(res.LogEntries) != 1 {
				t.Errorf("result %+v", res)
			}
		})
	}
	if verified == 0 || rejected == 0 {
		t.Fatalf("%d verified, %d rejected: the cases do not cover both verdicts", verified, rejected)
	}
}

// TestRejectionReasons: each way a bundle can fail to be a release is
// rejected with its own error.
func TestRejectionReasons(t *testing.T) {
	m := demoManifest(t)
	in, v := instance(t)
	ctx := context.Background()
	st, err := release.NewStatement(m, simulated.ReleaseArtifactNames)
	if err != nil {
		t.Fatal(err)
	}
	id := simulated.ReleaseIdentity(m)

	// A message signature over the manifest file: right signer, but it
	// signs a file, not a release statement.
	msg, err := in.SignArtifact(id, []byte("not a release"), simulated.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Verify(ctx, v, msg, releasePolicy); !errors.Is(err, ErrNotRelease) {
		t.Errorf("message signature: %v, want ErrNotRelease", err)
	}

	// A statement with another predicate type, validly signed.
	other := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"` +
		hex.EncodeToString(make([]byte, 32)) + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`)
	b, err := in.SignStatement(id, other, simulated.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, res, err := Verify(ctx, v, b, releasePolicy); !errors.Is(err, release.ErrPredicateType) || res == nil || !res.Verified {
		t.Errorf("another predicate: %v (result %v), want ErrPredicateType after a verified bundle", err, res != nil)
	}

	// The certificate's commit is not the manifest's.
	m2 := *m
	m2.SourceCommit = "1111111111111111111111111111111111111111"
	st2, err := release.NewStatement(&m2, simulated.ReleaseArtifactNames)
	if err != nil {
		t.Fatal(err)
	}
	b, err = in.SignStatement(id, st2, simulated.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if id.Workflow.SHA == m2.SourceCommit {
		t.Fatal("the identity already has the manifest's commit")
	}
	if _, _, err := Verify(ctx, v, b, releasePolicy); !errors.Is(err, ErrCommitMismatch) {
		t.Errorf("another commit: %v, want ErrCommitMismatch", err)
	}

	// Signed from another tag than the release's name, or from a branch:
	// the name a page would show is not the one the signer vouched for.
	wide := releasePolicy
	wide.RefPattern = "refs/*/*"
	for _, ref := range []string{"refs/tags/" + m.Release + "-renamed", "refs/heads/" + m.Release} {
		b, err = in.SignStatement(simulated.GitHubActions(simulated.ReleaseRepository, simulated.ReleaseWorkflow, ref, id.Workflow.SHA), st, simulated.BundleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, res, err := Verify(ctx, v, b, wide); !errors.Is(err, ErrReleaseName) || res == nil || !res.Verified {
			t.Errorf("release %q signed from %s: %v, want ErrReleaseName after a verified bundle", m.Release, ref, err)
		}
	}

	// Another identity: rejected by the Sigstore verifier, with its Result.
	b, err = in.SignStatement(simulated.GitHubActions("someone/else", simulated.ReleaseWorkflow, "refs/tags/v1", id.Workflow.SHA), st, simulated.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rej *sigstore.RejectedError
	if _, res, err := Verify(ctx, v, b, releasePolicy); !errors.As(err, &rej) || !errors.Is(err, sigstore.ErrIdentity) || res == nil || res.Verified {
		t.Errorf("another repository: %v", err)
	}

	// The artifact comes from the statement; a caller's one is refused.
	p := releasePolicy
	p.ArtifactDigest = make([]byte, 32)
	if _, _, err := Verify(ctx, v, b, p); !errors.Is(err, sigstore.ErrBadPolicy) {
		t.Errorf("policy with an artifact: %v, want ErrBadPolicy", err)
	}

	// Not JSON at all.
	if _, _, err := Verify(ctx, v, []byte("{"), releasePolicy); !errors.Is(err, sigstore.ErrMalformedBundle) {
		t.Errorf("broken JSON: %v, want ErrMalformedBundle", err)
	}
}

// TestMinimum: a release below the lowest one accepted, by version tag or
// by signing time, is refused; one at or above it passes; a minimum that is
// not a version, or a release whose tag is not one, cannot pass a tag
// minimum.
func TestMinimum(t *testing.T) {
	in, v := instance(t)
	signed := func(name string, at time.Time) *Release {
		t.Helper()
		m := demoManifest(t)
		m.Release = name
		b, err := in.SignRelease(m, simulated.BundleOptions{SignedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		p := releasePolicy
		p.MaxAge = 0
		rel, _, err := Verify(context.Background(), v, b, p)
		if err != nil {
			t.Fatal(err)
		}
		return rel
	}
	now := time.Now().UTC().Truncate(time.Second)
	v140 := signed("v1.4.0", now.Add(-30*24*time.Hour))
	for _, c := range []struct {
		min  Minimum
		want error
	}{
		{Minimum{}, nil},
		{Minimum{Tag: "v1.4.0"}, nil},
		{Minimum{Tag: "v1.3.9"}, nil},
		{Minimum{Tag: "v1.4.0-rc.1"}, ErrBadMinimum}, // a minimum is a release
		{Minimum{Tag: "v1.4.1"}, ErrBelowMinimum},
		{Minimum{Tag: "v1.10.0"}, ErrBelowMinimum},
		{Minimum{Tag: "1.4"}, ErrBadMinimum},
		{Minimum{SignedAt: now.Add(-60 * 24 * time.Hour)}, nil},
		{Minimum{SignedAt: now.Add(-24 * time.Hour)}, ErrBelowMinimum},
		{Minimum{Tag: "v1.0.0", SignedAt: now.Add(-24 * time.Hour)}, ErrBelowMinimum},
	} {
		if err := c.min.Check(v140); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("v1.4.0 signed 30 days ago against %+v: %v, want %v", c.min, err, c.want)
		}
	}
	if err := (Minimum{Tag: "v1.0.0"}).Check(signed("nightly", now)); !errors.Is(err, ErrBelowMinimum) {
		t.Errorf("a release not named as a version against a version minimum: %v, want ErrBelowMinimum", err)
	}
}
