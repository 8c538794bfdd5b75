package measure

import (
	"encoding/json"
	"testing"
)

// benchParams: a 4 MiB OVMF (the fixture padded at the front), 64 vCPUs,
// a directly booted kernel.
func benchParams(b *testing.B) ([]byte, Params) {
	image := paddedOVMF(b, 4<<20)
	p, err := FirmwareFromOVMF(image)
	if err != nil {
		b.Fatal(err)
	}
	h := HashKernel([]byte("kernel"), []byte("initrd"), "console=ttyS0")
	p.Kernel, p.VCPUs, p.VCPUSig, p.GuestFeatures = &h, 64, 0xa00f11, 0x21
	return image, p
}

// The full path: parse and hash the 4 MiB image, then finish the digest.
func BenchmarkLaunchDigest4MiB64VCPUsFromOVMF(b *testing.B) {
	image, p := benchParams(b)
	b.SetBytes(int64(len(image)))
	for b.Loop() {
		fw, err := FirmwareFromOVMF(image)
		if err != nil {
			b.Fatal(err)
		}
		fw.Kernel, fw.VCPUs, fw.VCPUSig, fw.GuestFeatures = p.Kernel, p.VCPUs, p.VCPUSig, p.GuestFeatures
		if _, err := LaunchDigest(fw); err != nil {
			b.Fatal(err)
		}
	}
}

// What the browser does: finish the digest from the OVMF hash and layout.
func BenchmarkLaunchDigest4MiB64VCPUsFromOVMFHash(b *testing.B) {
	_, p := benchParams(b)
	for b.Loop() {
		if _, err := LaunchDigest(p); err != nil {
			b.Fatal(err)
		}
	}
}

// The same from a manifest's JSON text, parsing included.
func BenchmarkManifestVerify64VCPUs(b *testing.B) {
	_, p := benchParams(b)
	m, err := NewManifest("bench", p)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		m, err := ParseManifest(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}
