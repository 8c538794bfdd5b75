package sigstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseBundle feeds the bundle parser and the whole verification
// arbitrary bytes: they must return an error or a Result, never panic, and
// a Result only for a bundle that verifies (none of the mutants should).
func FuzzParseBundle(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(conformanceDir, "*", "bundle.sigstore.json"))
	real, _ := filepath.Glob(filepath.Join(realDir, "*.sigstore.json"))
	for _, p := range append(seeds, real...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	v, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	artifact, err := os.ReadFile(filepath.Join(conformanceDir, "a.txt"))
	if err != nil {
		f.Fatal(err)
	}
	policy := Policy{Artifact: artifact, Issuer: conformanceIssuer, Identity: conformanceIdentity}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseBundle(data)
		if err == nil && b.msg == nil && b.dsse == nil {
			t.Fatal("a parsed bundle without content")
		}
		res, err := v.Verify(context.Background(), data, policy)
		if (res == nil) == (err == nil) {
			t.Fatalf("Result %v with error %v", res, err)
		}
	})
}
