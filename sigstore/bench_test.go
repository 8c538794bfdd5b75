package sigstore

import (
	"context"
	"testing"
)

// BenchmarkVerify measures one bundle verification with a warm Verifier:
// go test ./sigstore -run x -bench Verify -benchtime 200x
func BenchmarkVerify(b *testing.B) {
	for _, name := range []string{"happy-path-v0.3", "happy-path-intoto-in-dsse-v3", "rekor2-happy-path"} {
		c := caseNamed(&testing.T{}, name)
		var opts Options
		if c.trustedRoot != nil {
			tr, err := ParseTrustedRoot(c.trustedRoot)
			if err != nil {
				b.Fatal(err)
			}
			opts.TrustedRoot = tr
		}
		v, err := New(opts)
		if err != nil {
			b.Fatal(err)
		}
		p := c.policy(false)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := v.Verify(context.Background(), c.bundle, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseTrustedRoot measures loading the embedded public-good root,
// which a page does once.
func BenchmarkParseTrustedRoot(b *testing.B) {
	for b.Loop() {
		if _, err := PublicGoodTrustedRoot(); err != nil {
			b.Fatal(err)
		}
	}
}
