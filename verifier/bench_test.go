package verifier

import (
	"context"
	"testing"
)

// BenchmarkVerify measures full verification of real reports. "warm" reuses
// one Verifier, so the AMD chain's signatures come from its cache and only
// the report signature is checked; "cold" builds a new Verifier each time
// and checks all four signatures.
func BenchmarkVerify(b *testing.B) {
	for _, c := range loadRealCases(b) {
		if c.ID != "oak-genoa" && c.ID != "oak-turin" && c.ID != "trustee-snp-vlek-milan-aws" {
			continue
		}
		ev, exp := c.evidence(), c.expectation()
		b.Run(c.ID+"/warm", func(b *testing.B) {
			v := verifierAt(b, c.inWindow())
			for b.Loop() {
				if _, err := v.Verify(context.Background(), ev, exp); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.ID+"/cold", func(b *testing.B) {
			for b.Loop() {
				v := verifierAt(b, c.inWindow())
				if _, err := v.Verify(context.Background(), ev, exp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
