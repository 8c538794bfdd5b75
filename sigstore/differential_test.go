//go:build !js

package sigstore

import (
	"context"
	"crypto/sha256"
	"sync"
	"testing"
)

// ourVerify runs this package's verifier on the same input as oracleVerify.
func ourVerify(in oracleInput) (*Result, error) {
	v, err := ourVerifier(in.trustedRoot)
	if err != nil {
		return nil, err
	}
	var p Policy
	if in.byDigest {
		d := sha256.Sum256(in.artifact)
		p.ArtifactDigest = d[:]
	} else {
		p.Artifact = in.artifact
	}
	if in.key != nil {
		p.Key = in.key
	} else {
		p.Issuer, p.Identity = in.issuer, in.identity
	}
	return v.Verify(context.Background(), in.bundle, p)
}

// ourVerifiers holds a Verifier for each trusted root, by its JSON (""
// for the embedded one): trust material is set once, policy per call.
var ourVerifiers sync.Map

func ourVerifier(trustedRoot []byte) (*Verifier, error) {
	if v, ok := ourVerifiers.Load(string(trustedRoot)); ok {
		return v.(*Verifier), nil
	}
	var opts Options
	if trustedRoot != nil {
		tr, err := ParseTrustedRoot(trustedRoot)
		if err != nil {
			return nil, err
		}
		opts.TrustedRoot = tr
	}
	v, err := New(opts)
	if err != nil {
		return nil, err
	}
	ourVerifiers.Store(string(trustedRoot), v)
	return v, nil
}

func (c conformanceCase) input(byDigest bool) oracleInput {
	return oracleInput{bundle: c.bundle, trustedRoot: c.trustedRoot, artifact: c.artifact, byDigest: byDigest,
		key: c.key, issuer: c.issuer, identity: c.identity}
}

func (c realCase) input(t testing.TB) oracleInput {
	bundle, p := c.load(t)
	return oracleInput{bundle: bundle, artifact: p.Artifact, key: p.Key, issuer: p.Issuer, identity: p.Identity}
}

// TestOracleConformance: sigstore-go reaches the same verdict as this
// verifier on every conformance case, in both forms.
func TestOracleConformance(t *testing.T) {
	for _, c := range conformanceCases(t) {
		for _, byDigest := range []bool{false, true} {
			in := c.input(byDigest)
			_, ours := ourVerify(in)
			theirs := oracleVerify(in)
			if (ours == nil) != (theirs == nil) {
				t.Errorf("%s (digest %v): ours %v, sigstore-go %v", c.name, byDigest, ours, theirs)
			}
		}
	}
}

// TestOracleReal: both verify every real bundle.
func TestOracleReal(t *testing.T) {
	for _, c := range realCases(t) {
		in := c.input(t)
		if _, err := ourVerify(in); err != nil {
			t.Errorf("%s: ours: %v", c.Bundle, err)
		}
		if err := oracleVerify(in); err != nil {
			t.Errorf("%s: sigstore-go: %v", c.Bundle, err)
		}
	}
}

// BenchmarkOracleVerify is sigstore-go on the same bundles as
// BenchmarkVerify, for scale (it also parses the trusted root each time,
// as its conformance client does; BenchmarkParseTrustedRoot is ours).
func BenchmarkOracleVerify(b *testing.B) {
	for _, name := range []string{"happy-path-v0.3", "happy-path-intoto-in-dsse-v3", "rekor2-happy-path"} {
		in := caseNamed(b, name).input(false)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := oracleVerify(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
