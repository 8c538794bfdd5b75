//go:build !js

package verifier

import (
	"context"
	"testing"
)

// BenchmarkVerify measures full verification of real reports. "warm" reuses
// one Verifier, so the AMD chain's signatures come from the cache and only
// the report signature is checked; "newVerifier" builds a Verifier each
// time (the process-wide cache of Go-verified signatures still holds the
// chain); "uncached" empties that cache each time and checks all four
// signatures, as a fresh process does.
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
		b.Run(c.ID+"/newVerifier", func(b *testing.B) {
			for b.Loop() {
				v := verifierAt(b, c.inWindow())
				if _, err := v.Verify(context.Background(), ev, exp); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.ID+"/uncached", func(b *testing.B) {
			for b.Loop() {
				goSignatureCache.mu.Lock()
				clear(goSignatureCache.seen)
				goSignatureCache.mu.Unlock()
				v := verifierAt(b, c.inWindow())
				if _, err := v.Verify(context.Background(), ev, exp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGoSevGuest is the reference: go-sev-guest's verify + validate on
// the same report (it refuses Turin, so Genoa and the VLEK only).
func BenchmarkGoSevGuest(b *testing.B) {
	for _, c := range loadRealCases(b) {
		if c.ID != "oak-genoa" && c.ID != "trustee-snp-vlek-milan-aws" {
			continue
		}
		ask, ark := chainParts(b, c)
		b.Run(c.ID, func(b *testing.B) {
			for b.Loop() {
				if err := oracle(c, c.inWindow(), c.report, c.ek, ask, ark); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
