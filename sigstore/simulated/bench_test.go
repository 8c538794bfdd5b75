package simulated

import "testing"

// What a demo gateway pays at start (New) and per release bundle.
//
//	go test -run XXX -bench . ./sigstore/simulated/
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignStatement(b *testing.B) {
	in, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	st, _ := demoStatement(b)
	for _, tc := range []struct {
		name string
		o    BundleOptions
	}{{"rekor-v1", BundleOptions{}}, {"rekor-v2", BundleOptions{RekorV2: true}}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := in.SignStatement(testIdentity(), st, tc.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
