package measure

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

// amdSevLayout is the SEV metadata of ovmf_AmdSev_suffix.bin, written out by
// hand so that the reference model does not rely on ParseOVMF.
var amdSevLayout = Layout{
	ResetEIP:       0x80b004,
	HashesTableGPA: 0x810c00,
	Sections: []Section{
		{0x800000, 0x9000, SectionSNPSecMem},
		{0x80a000, 0x3000, SectionSNPSecMem},
		{0x80d000, 0x1000, SectionSNPSecrets},
		{0x80e000, 0x1000, SectionCPUID},
		{0x80f000, 0x1000, SectionSVSMCAA},
		{0x810000, 0x1000, SectionSNPKernelHashes},
		{0x811000, 0xf000, SectionSNPSecMem},
	},
}

func TestParseOVMFFixtureLayout(t *testing.T) {
	got, err := ParseOVMF(readFixture(t, "ovmf_AmdSev_suffix.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !got.equal(&amdSevLayout) {
		t.Errorf("layout\n got %+v\nwant %+v", got, amdSevLayout)
	}
	x64, err := ParseOVMF(readFixture(t, "ovmf_OvmfX64_suffix.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if x64.has(SectionSNPKernelHashes) || x64.HashesTableGPA != 0 {
		t.Errorf("OvmfX64 layout claims kernel hashes support: %+v", x64)
	}
}

func refInputFromVector(t *testing.T, v vector) refInput {
	p := v.params(t)
	l, err := ParseOVMF(readFixture(t, v.OVMF))
	if err != nil {
		t.Fatal(err)
	}
	if v.OVMF == "ovmf_AmdSev_suffix.bin" {
		l = amdSevLayout
	}
	in := refInput{
		image: readFixture(t, v.OVMF), vcpus: v.VCPUs, sig: p.VCPUSig, vmm: p.VMM, features: v.GuestFeatures,
		hashesGPA: l.HashesTableGPA, resetEIP: l.ResetEIP, sections: l.Sections,
	}
	if v.Kernel != nil {
		in.kernel = []byte{}
		if v.Append != nil {
			in.cmdline = *v.Append
		}
	}
	return in
}

// The reference model must itself reproduce the published vectors before it
// can vouch for anything else.
func TestReferenceModelReproducesVectors(t *testing.T) {
	for _, v := range loadVectors(t).Vectors {
		if got := fmt.Sprintf("%x", refLaunchDigest(t, refInputFromVector(t, v))); got != v.Expected {
			t.Errorf("%s: reference model\n got %s\nwant %s", v.Name, got, v.Expected)
		}
	}
}

type kernelCase struct {
	name           string
	kernel, initrd []byte
	cmdline        string
}

func kernelCases() []kernelCase {
	kernel := make([]byte, 10000)
	initrd := make([]byte, 7000)
	for i := range kernel {
		kernel[i] = byte(i * 7)
	}
	for i := range initrd {
		initrd[i] = byte(i*13 + 1)
	}
	return []kernelCase{
		{name: "no-kernel"},
		{name: "kernel", kernel: kernel},
		{name: "kernel+initrd", kernel: kernel, initrd: initrd},
		{name: "kernel+cmdline", kernel: kernel, cmdline: "console=ttyS0 root=/dev/vda"},
		{name: "kernel+initrd+cmdline", kernel: kernel, initrd: initrd, cmdline: "quiet"},
	}
}

// crossCheck computes one launch three ways and requires one answer: the
// reference model from the whole image; LaunchDigest from the image
// (FirmwareFromOVMF); and a release manifest that went through JSON and
// holds only the OVMF hash, layout and artifact digests.
func crossCheck(t *testing.T, image []byte, fw Params, in refInput) {
	t.Helper()
	want := refLaunchDigest(t, in)

	p := fw
	p.VCPUs, p.VCPUSig, p.VMM, p.GuestFeatures = in.vcpus, in.sig, in.vmm, in.features
	if in.kernel != nil {
		h := HashKernel(in.kernel, in.initrd, in.cmdline)
		p.Kernel = &h
	}
	full, err := LaunchDigest(p)
	if err != nil {
		t.Fatal(err)
	}
	if full != Digest(want) {
		t.Fatalf("%+v: full path\n got %s\nwant %x", p, full, want)
	}

	m, err := NewManifest("cross-check", p)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseManifest(raw)
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	fromHash, err := back.Recompute()
	if err != nil {
		t.Fatal(err)
	}
	if fromHash != full {
		t.Fatalf("from OVMF hash %s, full path %s\n%s", fromHash, full, raw)
	}
	if err := back.Verify(); err != nil {
		t.Fatal(err)
	}
	art := Artifacts{OVMF: image, Kernel: in.kernel}
	if in.kernel != nil && in.initrd != nil {
		art.Initrd = in.initrd
	}
	if err := back.CheckArtifacts(art); err != nil {
		t.Fatal(err)
	}
}

func TestCrossCheckCombinations(t *testing.T) {
	image := readFixture(t, "ovmf_AmdSev_suffix.bin")
	fw, err := FirmwareFromOVMF(image)
	if err != nil {
		t.Fatal(err)
	}
	base := refInput{image: image, hashesGPA: amdSevLayout.HashesTableGPA, resetEIP: amdSevLayout.ResetEIP, sections: amdSevLayout.Sections}
	vmms := []VMMType{VMMQEMU, VMMEC2, VMMGCE}
	n := 0
	// Every vCPU type with every VMM, kernel variant and feature set; the
	// vCPU count walks through 1..64.
	for _, typ := range VCPUTypes() {
		sig, err := VCPUSignature(typ)
		if err != nil {
			t.Fatal(err)
		}
		for _, vmm := range vmms {
			for _, kc := range kernelCases() {
				for _, features := range []uint64{0x1, 0x21} {
					in := base
					in.sig, in.vmm, in.features, in.vcpus = sig, vmm, features, n%64+1
					in.kernel, in.initrd, in.cmdline = kc.kernel, kc.initrd, kc.cmdline
					crossCheck(t, image, fw, in)
					n++
				}
			}
		}
	}
	// Every vCPU count from 1 to 64 with each VMM.
	for vcpus := 1; vcpus <= 64; vcpus++ {
		for _, vmm := range vmms {
			in := base
			in.sig, in.vmm, in.features, in.vcpus = 0xa00f11, vmm, 0x21, vcpus
			in.kernel = []byte("k")
			crossCheck(t, image, fw, in)
			n++
		}
	}
	t.Logf("%d combinations agree", n)
}

// A 4 MiB image made by padding the fixture at the front (the metadata is at
// the end and its addresses are absolute) measures differently but the
// three paths still agree.
func TestCrossCheckLargeImage(t *testing.T) {
	image := paddedOVMF(t, 4<<20)
	fw, err := FirmwareFromOVMF(image)
	if err != nil {
		t.Fatal(err)
	}
	small, err := OVMFHash(readFixture(t, "ovmf_AmdSev_suffix.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if fw.OVMFHash == small {
		t.Fatal("padding the image did not change its OVMF hash")
	}
	for _, kc := range kernelCases() {
		in := refInput{image: image, hashesGPA: amdSevLayout.HashesTableGPA, resetEIP: amdSevLayout.ResetEIP,
			sections: amdSevLayout.Sections, vcpus: 8, sig: 0xa10f11, vmm: VMMQEMU, features: 0x21,
			kernel: kc.kernel, initrd: kc.initrd, cmdline: kc.cmdline}
		crossCheck(t, image, fw, in)
	}
}

func paddedOVMF(t testing.TB, size int) []byte {
	suffix := readFixture(t, "ovmf_AmdSev_suffix.bin")
	image := make([]byte, size)
	for i := range image[:size-len(suffix)] {
		image[i] = byte(i >> 12) // distinct pages
	}
	copy(image[size-len(suffix):], suffix)
	return image
}

func TestHashKernelDefaults(t *testing.T) {
	h := HashKernel(nil, nil, "")
	if h.Initrd != sha256.Sum256(nil) || h.Cmdline != sha256.Sum256([]byte{0}) {
		t.Errorf("absent initrd or cmdline hashed wrongly: %x", h)
	}
	if HashKernel(nil, nil, "a") == h {
		t.Error("cmdline does not change the hashes")
	}
}

func TestVCPUSignatures(t *testing.T) {
	for typ, want := range map[string]uint32{
		"EPYC-v4": 0x800f12, "epyc": 0x800f12, "EPYC-Rome": 0x830f10, "EPYC-Milan-v2": 0xa00f11,
		"EPYC-Genoa": 0xa10f10, "EPYC-Turin-v1": 0xb00f00,
	} {
		got, err := VCPUSignature(typ)
		if err != nil || got != want {
			t.Errorf("VCPUSignature(%q) = %#x, %v; want %#x", typ, got, err, want)
		}
	}
	for _, bad := range []string{"", "EPYC-v9", "EPYC-Milan-v4", "Skylake-Server", "EPYC-Turin-v2", "EPYC-IBPB-v1"} {
		if _, err := VCPUSignature(bad); !errors.Is(err, ErrUnknownVCPUType) {
			t.Errorf("VCPUSignature(%q) = %v, want ErrUnknownVCPUType", bad, err)
		}
	}
	sig, err := CPUSignature(25, 1, 1)
	if err != nil || sig != 0xa00f11 {
		t.Errorf("CPUSignature(25, 1, 1) = %#x, %v", sig, err)
	}
	if _, err := CPUSignature(25, 0x100, 0); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("model 0x100: %v, want ErrInvalidParams", err)
	}
}
