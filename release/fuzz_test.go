//go:build !js

// Writes statements (NewStatement is native only) or signs them with the
// simulated Sigstore instance, which is native only.

package release

import (
	"errors"
	"testing"

	"github.com/cvmtrust/cvmtrust/measure"
)

// FuzzManifestFromStatement: any payload gets a manifest that recomputes and
// whose artifacts are all subjects, or one of the package's or measure's
// errors; never a panic.
//
//	go test -fuzz FuzzManifestFromStatement ./release/
func FuzzManifestFromStatement(f *testing.F) {
	good, err := NewStatement(demoManifest(f), demoNames)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"` + PredicateType + `","predicate":{}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := ManifestFromStatement(payload)
		if err != nil {
			if m != nil {
				t.Fatal("a manifest with an error")
			}
			for _, known := range []error{ErrMalformedStatement, ErrPredicateType, ErrSubjectMismatch,
				measure.ErrMalformedManifest, measure.ErrMeasurementMismatch, measure.ErrUnknownVCPUType,
				measure.ErrUnknownVMMType, measure.ErrInvalidParams} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("unclassified error: %v", err)
		}
		if err := m.Verify(); err != nil {
			t.Fatalf("accepted a manifest that does not verify: %v", err)
		}
		if _, err := Subjects(m, demoNames); err != nil && m.Kernel != nil && m.Initrd != nil {
			t.Fatalf("accepted a manifest without the subjects it needs: %v", err)
		}
	})
}

func BenchmarkManifestFromStatement(b *testing.B) {
	st, err := NewStatement(demoManifest(b), demoNames)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ManifestFromStatement(st); err != nil {
			b.Fatal(err)
		}
	}
}
