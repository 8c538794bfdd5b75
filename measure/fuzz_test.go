package measure

import (
	"errors"
	"os"
	"testing"
)

// FuzzParseOVMF feeds the footer table and SEV metadata parser arbitrary
// image tails: it must not panic, must fail with one of its sentinels, and
// whatever it accepts must be measurable.
func FuzzParseOVMF(f *testing.F) {
	// The fixtures' SEV metadata and footer table lie in their last 1400
	// bytes; seeding with just those keeps mutations on the parsed bytes.
	for _, name := range []string{"ovmf_AmdSev_suffix.bin", "ovmf_OvmfX64_suffix.bin"} {
		image := readFixture(f, name)
		f.Add(image[len(image)-1400:])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, tail []byte) {
		if len(tail) > 3*pageSize {
			return
		}
		// Right-align the input in whole pages: the parser reads from the end.
		image := make([]byte, (len(tail)+pageSize-1)/pageSize*pageSize)
		copy(image[len(image)-len(tail):], tail)
		layout, err := ParseOVMF(image)
		if err != nil {
			if !errors.Is(err, ErrMalformedOVMF) && !errors.Is(err, ErrNoFooterTable) && !errors.Is(err, ErrNoSEVMetadata) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		h := HashKernel([]byte("k"), nil, "")
		p := Params{Layout: layout, VCPUs: 2, VCPUSig: 0x800f12, Kernel: &h}
		if _, err := LaunchDigest(p); err != nil && !errors.Is(err, ErrNoKernelHashes) {
			t.Fatalf("accepted layout %+v is not measurable: %v", layout, err)
		}
	})
}

// FuzzManifest: ParseManifest and Verify never panic on any input.
func FuzzManifest(f *testing.F) {
	raw, err := os.ReadFile(demoManifest)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"format":"cvmtrust-launch-manifest/v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		_ = m.Verify()
	})
}
