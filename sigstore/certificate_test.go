//go:build !js

package sigstore

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"testing"
	"time"
)

// TestCertificateChecks breaks one field of the Fulcio leaf at a time (on
// a fake instance made in the test) and checks that the check meant for it
// rejects; the unbroken leaf verifies with the identity it states.
func TestCertificateChecks(t *testing.T) {
	f := newFakeInstance(t)
	v, err := New(Options{TrustedRoot: f.trustedRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	artifact := []byte("release manifest")
	policy := Policy{Artifact: artifact, Issuer: githubIssuer,
		Identity: "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1", Repository: "o/r",
		RefPattern: "refs/tags/v[0-9]*", Workflow: ".github/workflows/release.yml"}
	ctx := context.Background()

	res, err := v.Verify(ctx, f.bundle(t, artifact, f.leafTemplate(), true), policy)
	if err != nil {
		t.Fatalf("unbroken leaf: %v", err)
	}
	if s := res.Signer; s.Repository != "o/r" || s.Ref != "refs/tags/v1" || s.Workflow != ".github/workflows/release.yml" ||
		s.Commit != "0123456789abcdef0123456789abcdef01234567" || s.RepositoryURI != "https://github.com/o/r" {
		t.Errorf("signer = %+v", s)
	}

	// The signer named by repository and workflow alone, as a page does:
	// the SAN changes with every tag.
	byRepo := Policy{Artifact: artifact, Issuer: githubIssuer, Repository: "o/r", Workflow: ".github/workflows/release.yml",
		RefPattern: "refs/tags/v*"}
	if _, err := v.Verify(ctx, f.bundle(t, artifact, f.leafTemplate(), true), byRepo); err != nil {
		t.Fatalf("by repository and workflow: %v", err)
	}
	byRepo.Repository = "o/fork"
	if _, err := v.Verify(ctx, f.bundle(t, artifact, f.leafTemplate(), true), byRepo); !errors.Is(err, ErrIdentity) {
		t.Fatalf("another repository: %v", err)
	}

	for _, tc := range []struct {
		name   string
		edit   func(*x509.Certificate)
		noSCT  bool
		policy func(*Policy)
		want   error
	}{
		{name: "no SCT", noSCT: true, want: ErrSCT},
		{name: "not for code signing", edit: func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }, want: ErrBadChain},
		{name: "leaf is a CA", edit: func(c *x509.Certificate) { c.IsCA, c.BasicConstraintsValid = true, true }, want: ErrBadChain},
		{name: "unknown critical extension", edit: func(c *x509.Certificate) {
			c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: parseOID("1.2.3.4"), Critical: true, Value: []byte{5, 0}})
		}, want: ErrMalformedCert},
		{name: "expired before the integrated time", edit: func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = f.now.Add(-20*time.Minute), f.now.Add(-10*time.Minute)
		}, want: ErrCertValidity},
		{name: "other issuer", edit: func(c *x509.Certificate) {
			c.ExtraExtensions[1] = utf8Ext(oidIssuerV2, "https://accounts.google.com")
		}, want: ErrIdentity},
		{name: "other repository", edit: func(c *x509.Certificate) {
			c.ExtraExtensions[2] = utf8Ext(oidSourceRepoURI, "https://github.com/o/fork")
		}, want: ErrIdentity},
		{name: "other ref", edit: func(c *x509.Certificate) {
			c.ExtraExtensions[3] = utf8Ext(oidSourceRef, "refs/heads/dev")
		}, want: ErrIdentity},
		{name: "other workflow", edit: func(c *x509.Certificate) {
			c.ExtraExtensions[5] = utf8Ext(oidBuildConfig, "https://github.com/o/r/.github/workflows/other.yml@refs/tags/v1")
		}, want: ErrIdentity},
		{name: "other SAN", edit: func(c *x509.Certificate) {
			c.ExtraExtensions[0].Value = sanURI("https://github.com/o/r/.github/workflows/other.yml@refs/tags/v1")
		}, want: ErrIdentity},
		{name: "issuer extension not a UTF8String", edit: func(c *x509.Certificate) {
			c.ExtraExtensions[1].Value = []byte(githubIssuer)
		}, want: ErrMalformedCert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := f.leafTemplate()
			if tc.edit != nil {
				tc.edit(tmpl)
			}
			p := policy
			_, err := v.Verify(ctx, f.bundle(t, artifact, tmpl, !tc.noSCT), p)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestLegacyIdentity: a certificate from before the .8–.22 extensions
// carries the issuer in .1 and the repository, ref and commit in .5, .6
// and .3 as raw strings; they are read as such.
func TestLegacyIdentity(t *testing.T) {
	f := newFakeInstance(t)
	v, _ := New(Options{TrustedRoot: f.trustedRoot(t)})
	tmpl := f.leafTemplate()
	san := tmpl.ExtraExtensions[0]
	tmpl.ExtraExtensions = []pkix.Extension{san,
		{Id: parseOID(oidIssuerV1), Value: []byte(githubIssuer)},
		{Id: parseOID(oidGHRepository), Value: []byte("o/r")},
		{Id: parseOID(oidGHRef), Value: []byte("refs/tags/v1")},
		{Id: parseOID(oidGHSHA), Value: []byte("89abcdef0123456789abcdef0123456789abcdef")},
		{Id: parseOID(oidGHTrigger), Value: []byte("push")},
	}
	artifact := []byte("a")
	res, err := v.Verify(context.Background(), f.bundle(t, artifact, tmpl, true), Policy{Artifact: artifact,
		Issuer: githubIssuer, Identity: "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1",
		Repository: "o/r", RefPattern: "refs/tags/*", Workflow: ".github/workflows/release.yml"})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Signer; s.Commit != "89abcdef0123456789abcdef0123456789abcdef" || s.BuildTrigger != "push" || s.RepositoryURI != "https://github.com/o/r" {
		t.Errorf("signer = %+v", s)
	}
}
