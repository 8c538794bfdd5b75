package measure

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestKernelWithoutKernelHashesSection(t *testing.T) {
	p, err := FirmwareFromOVMF(readFixture(t, "ovmf_OvmfX64_suffix.bin"))
	if err != nil {
		t.Fatal(err)
	}
	p.VCPUs, p.VCPUSig = 1, 0x800f12
	h := HashKernel([]byte("kernel"), nil, "")
	p.Kernel = &h
	if _, err := LaunchDigest(p); !errors.Is(err, ErrNoKernelHashes) {
		t.Fatalf("got %v, want ErrNoKernelHashes", err)
	}
	p.Kernel = nil
	if _, err := LaunchDigest(p); err != nil {
		t.Fatalf("without a kernel: %v", err)
	}
}

// mutate returns a copy of the AmdSev fixture changed by f.
func mutate(t *testing.T, f func(b []byte)) []byte {
	b := append([]byte(nil), readFixture(t, "ovmf_AmdSev_suffix.bin")...)
	f(b)
	return b
}

func TestParseOVMFRejects(t *testing.T) {
	end := 4096 - 32 // where the footer table ends
	// Offset of the SEV metadata header, as the footer table states it.
	metaAt := func(b []byte) int {
		l, err := footerTable(b)
		if err != nil {
			t.Fatal(err)
		}
		return len(b) - int(binary.LittleEndian.Uint32(l[guidSEVMetadata]))
	}
	cases := []struct {
		name  string
		image []byte
		want  error
	}{
		{"empty", nil, ErrMalformedOVMF},
		{"not whole pages", make([]byte, 5000), ErrMalformedOVMF},
		{"zeros: no footer table", make([]byte, 4096), ErrNoFooterTable},
		{"footer GUID damaged", mutate(t, func(b []byte) { b[end-1] ^= 1 }), ErrNoFooterTable},
		{"footer length too big", mutate(t, func(b []byte) { binary.LittleEndian.PutUint16(b[end-18:], 0xffff) }), ErrMalformedOVMF},
		{"footer length too small", mutate(t, func(b []byte) { binary.LittleEndian.PutUint16(b[end-18:], 3) }), ErrMalformedOVMF},
		{"entry length zero", mutate(t, func(b []byte) { binary.LittleEndian.PutUint16(b[end-18-18:], 0) }), ErrMalformedOVMF},
		{"no SEV metadata entry", mutate(t, func(b []byte) {
			i := indexGUID(b, guidSEVMetadata)
			b[i] ^= 0xff
		}), ErrNoSEVMetadata},
		{"no reset block", mutate(t, func(b []byte) {
			i := indexGUID(b, guidSEVESReset)
			b[i] ^= 0xff
		}), ErrNoSEVMetadata},
		{"metadata signature", mutate(t, func(b []byte) { b[metaAt(b)] = 'X' }), ErrMalformedOVMF},
		{"metadata version", mutate(t, func(b []byte) { b[metaAt(b)+8] = 2 }), ErrMalformedOVMF},
		{"metadata count overflows", mutate(t, func(b []byte) { binary.LittleEndian.PutUint32(b[metaAt(b)+12:], 1000) }), ErrMalformedOVMF},
		{"metadata length past the end", mutate(t, func(b []byte) { binary.LittleEndian.PutUint32(b[metaAt(b)+4:], 1<<30) }), ErrMalformedOVMF},
		{"unknown section type", mutate(t, func(b []byte) { binary.LittleEndian.PutUint32(b[metaAt(b)+16+8:], 9) }), ErrMalformedOVMF},
		{"section not page aligned", mutate(t, func(b []byte) { binary.LittleEndian.PutUint32(b[metaAt(b)+16:], 0x800010) }), ErrMalformedOVMF},
		{"huge section", mutate(t, func(b []byte) { binary.LittleEndian.PutUint32(b[metaAt(b)+16+4:], 0xfffff000) }), ErrMalformedOVMF},
	}
	for _, c := range cases {
		if _, err := ParseOVMF(c.image); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func indexGUID(b []byte, g [16]byte) int {
	for i := 0; i+16 <= len(b); i++ {
		if [16]byte(b[i:i+16]) == g {
			return i
		}
	}
	panic("GUID not in fixture")
}

func TestLaunchDigestRejectsParams(t *testing.T) {
	good, err := FirmwareFromOVMF(readFixture(t, "ovmf_AmdSev_suffix.bin"))
	if err != nil {
		t.Fatal(err)
	}
	good.VCPUs, good.VCPUSig = 1, 0x800f12
	if _, err := LaunchDigest(good); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		f    func(p *Params)
		want error
	}{
		{"0 vCPUs", func(p *Params) { p.VCPUs = 0 }, ErrInvalidParams},
		{"too many vCPUs", func(p *Params) { p.VCPUs = MaxVCPUs + 1 }, ErrInvalidParams},
		{"unknown VMM", func(p *Params) { p.VMM = "xen" }, ErrUnknownVMMType},
		{"reset EIP 0", func(p *Params) { p.Layout.ResetEIP = 0 }, ErrInvalidParams},
		{"hashes table across pages", func(p *Params) { p.Layout.HashesTableGPA = 0x810f80 }, ErrInvalidParams},
		{"kernel hashes section of two pages", func(p *Params) {
			p.Layout.Sections = append([]Section(nil), p.Layout.Sections...)
			p.Layout.Sections[5].Size = 0x2000
		}, ErrInvalidParams},
		{"kernel but no hashes table address", func(p *Params) {
			h := HashKernel(nil, nil, "")
			p.Kernel, p.Layout.HashesTableGPA = &h, 0
		}, ErrNoKernelHashes},
	}
	for _, c := range cases {
		p := good
		c.f(&p)
		if _, err := LaunchDigest(p); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestParseVMMType(t *testing.T) {
	for in, want := range map[string]VMMType{"QEMU": VMMQEMU, "qemu": VMMQEMU, "ec2": VMMEC2, "EC2": VMMEC2, "gce": VMMGCE} {
		if got, err := ParseVMMType(in); err != nil || got != want {
			t.Errorf("ParseVMMType(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "kvm", "qemu2"} {
		if _, err := ParseVMMType(bad); !errors.Is(err, ErrUnknownVMMType) {
			t.Errorf("ParseVMMType(%q) = %v, want ErrUnknownVMMType", bad, err)
		}
	}
}
