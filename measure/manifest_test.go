package measure

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/demo-release.json")

const demoManifest = "testdata/demo-release.json"

// demoParams is the simulated demo release: the AmdSev fixture booting an
// empty kernel and initrd on one EPYC-v4 vCPU under QEMU with SEV_FEATURES
// 0x21, the vector test_snp_ovmf_hash_gen_default.
func demoParams(t testing.TB) (Params, []byte) {
	image := readFixture(t, "ovmf_AmdSev_suffix.bin")
	p, err := FirmwareFromOVMF(image)
	if err != nil {
		t.Fatal(err)
	}
	h := HashKernel([]byte{}, []byte{}, "")
	p.Kernel, p.VCPUs, p.VCPUSig, p.VMM, p.GuestFeatures = &h, 1, 0x800f12, VMMQEMU, 0x21
	return p, image
}

func writeDemoManifest(t *testing.T) {
	p, image := demoParams(t)
	m, err := NewManifest("cvmtrust-demo-simulated", p)
	if err != nil {
		t.Fatal(err)
	}
	sum := SHA256(sha256.Sum256(image))
	m.OVMF.SHA256, m.OVMF.Size = &sum, int64(len(image))
	m.VCPUType, m.VCPUSig = "EPYC-v4", nil
	m.Initrd = &ArtifactDigest{SHA256: sha256.Sum256(nil)}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(demoManifest, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDemoManifest(t *testing.T) {
	if *update {
		writeDemoManifest(t)
	}
	raw, err := os.ReadFile(demoManifest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	var want string
	for _, v := range loadVectors(t).Vectors {
		if v.Name == "test_snp_ovmf_hash_gen_default" {
			want = v.Expected
		}
	}
	if m.Measurement.String() != want || want == "" {
		t.Errorf("demo measurement %s, want the vector's %q", m.Measurement, want)
	}
	_, image := demoParams(t)
	if err := m.CheckArtifacts(Artifacts{OVMF: image, Kernel: []byte{}, Initrd: []byte{}}); err != nil {
		t.Error(err)
	}
}

func demoManifestJSON(t *testing.T) map[string]any {
	raw, err := os.ReadFile(demoManifest)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestManifestRejects(t *testing.T) {
	zeros := strings.Repeat("00", 32)
	cases := []struct {
		name string
		edit func(o map[string]any)
		want error
	}{
		{"measurement tampered", func(o map[string]any) {
			o["measurement"] = strings.Repeat("00", 48)
		}, ErrMeasurementMismatch},
		{"kernel digest tampered", func(o map[string]any) {
			o["kernel"] = map[string]any{"sha256": zeros}
		}, ErrMeasurementMismatch},
		{"one more vCPU", func(o map[string]any) { o["vcpus"] = 2 }, ErrMeasurementMismatch},
		{"another vCPU type", func(o map[string]any) { o["vcpu_type"] = "EPYC-Milan" }, ErrMeasurementMismatch},
		{"another VMM", func(o map[string]any) { o["vmm_type"] = "ec2" }, ErrMeasurementMismatch},
		{"guest features", func(o map[string]any) { o["guest_features"] = 1 }, ErrMeasurementMismatch},
		{"cmdline added", func(o map[string]any) { o["cmdline"] = "init=/bin/sh" }, ErrMeasurementMismatch},
		{"OVMF hash tampered", func(o map[string]any) {
			o["ovmf"].(map[string]any)["snp_ovmf_hash"] = strings.Repeat("11", 48)
		}, ErrMeasurementMismatch},
		{"section moved", func(o map[string]any) {
			s := o["ovmf"].(map[string]any)["sections"].([]any)
			s[0].(map[string]any)["gpa"] = 0x700000
		}, ErrMeasurementMismatch},
		{"unknown field", func(o map[string]any) { o["measurment"] = "x" }, ErrMalformedManifest},
		{"other format", func(o map[string]any) { o["format"] = "cvmtrust-launch-manifest/v2" }, ErrMalformedManifest},
		{"no release name", func(o map[string]any) { delete(o, "release") }, ErrMalformedManifest},
		{"measurement not hex", func(o map[string]any) { o["measurement"] = "zz" }, ErrMalformedManifest},
		{"no vCPU type for QEMU", func(o map[string]any) { delete(o, "vcpu_type") }, ErrMalformedManifest},
		{"vcpu_sig contradicts vcpu_type", func(o map[string]any) { o["vcpu_sig"] = 0xa00f11 }, ErrMalformedManifest},
		{"unknown vCPU type", func(o map[string]any) { o["vcpu_type"] = "EPYC-Zen9" }, ErrUnknownVCPUType},
		{"unknown VMM", func(o map[string]any) { o["vmm_type"] = "xen" }, ErrUnknownVMMType},
		{"no vCPUs", func(o map[string]any) { o["vcpus"] = 0 }, ErrMalformedManifest},
		{"initrd without kernel", func(o map[string]any) { delete(o, "kernel") }, ErrMalformedManifest},
		{"cmdline digest contradicts cmdline", func(o map[string]any) {
			o["cmdline"], o["cmdline_sha256"] = "quiet", zeros
		}, ErrMalformedManifest},
		{"unknown section type", func(o map[string]any) {
			s := o["ovmf"].(map[string]any)["sections"].([]any)
			s[0].(map[string]any)["type"] = "SNP_MAGIC"
		}, ErrMalformedManifest},
		{"huge section", func(o map[string]any) {
			s := o["ovmf"].(map[string]any)["sections"].([]any)
			s[0].(map[string]any)["size"] = 0xfffff000
		}, ErrMalformedManifest},
	}
	for _, c := range cases {
		o := demoManifestJSON(t)
		c.edit(o)
		raw, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseManifest(raw)
		if err == nil {
			err = m.Verify()
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestManifestMismatchErrorShowsBoth(t *testing.T) {
	o := demoManifestJSON(t)
	o["measurement"] = strings.Repeat("ab", 48)
	raw, _ := json.Marshal(o)
	m, err := ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Verify()
	var me *MismatchError
	if !errors.As(err, &me) || me.Field != "measurement" || !bytes.Equal(me.Want, bytes.Repeat([]byte{0xab}, 48)) {
		t.Fatalf("got %#v", err)
	}
	if !strings.Contains(err.Error(), "329c8ce0") {
		t.Errorf("message does not show the recomputed digest: %v", err)
	}
}

func TestParseManifestRejectsTrailingData(t *testing.T) {
	raw, err := os.ReadFile(demoManifest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseManifest(append(raw, []byte(`{}`)...)); !errors.Is(err, ErrMalformedManifest) {
		t.Errorf("got %v", err)
	}
	if _, err := ParseManifest(bytes.Repeat([]byte(" "), maxManifestSize+1)); !errors.Is(err, ErrMalformedManifest) {
		t.Errorf("oversized: got %v", err)
	}
}

func TestCheckArtifactsRejects(t *testing.T) {
	raw, err := os.ReadFile(demoManifest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	_, image := demoParams(t)
	other := mutate(t, func(b []byte) { b[0] ^= 1 })
	x64 := readFixture(t, "ovmf_OvmfX64_suffix.bin")
	for name, a := range map[string]Artifacts{
		"OVMF page changed": {OVMF: other},
		"other OVMF build":  {OVMF: x64},
		"other kernel":      {OVMF: image, Kernel: []byte("x")},
		"other initrd":      {Initrd: []byte("x")},
	} {
		if err := m.CheckArtifacts(a); !errors.Is(err, ErrArtifactMismatch) {
			t.Errorf("%s: got %v, want ErrArtifactMismatch", name, err)
		}
	}
}
