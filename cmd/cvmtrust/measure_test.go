package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/measure"
	"github.com/cvmtrust/cvmtrust/release"
)

const (
	measureFixtures = "../../testdata/launch-digest"
	demoManifest    = "../../measure/testdata/demo-release.json"
	// test_snp_ovmf_hash_gen_default and test_snp_default in vectors.json.
	digestGenDefault = "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198"
	digestSNPDefault = "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977"
)

func runMeasureCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"measure"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func emptyFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMeasureCLIDigests(t *testing.T) {
	ovmf := filepath.Join(measureFixtures, "ovmf_AmdSev_suffix.bin")
	empty := emptyFile(t)
	snp := []string{"--mode", "snp", "--vcpus", "1", "--ovmf", ovmf, "--kernel", empty, "--initrd", empty, "--guest-features", "0x21"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"vcpu-type", append(snp[:len(snp):len(snp)], "--vcpu-type", "EPYC-v4", "--append", "console=ttyS0 loglevel=7"), digestSNPDefault},
		{"vcpu-sig", append(snp[:len(snp):len(snp)], "--vcpu-sig", "0x800f12"), digestGenDefault},
		{"vcpu-sig decimal", append(snp[:len(snp):len(snp)], "--vcpu-sig", "8392466"), digestGenDefault},
		{"family/model/stepping", append(snp[:len(snp):len(snp)], "--vcpu-family", "23", "--vcpu-model", "1", "--vcpu-stepping", "2"), digestGenDefault},
		{"from the OVMF hash", append(snp[:len(snp):len(snp)], "--vcpu-type", "EPYC-v4",
			"--snp-ovmf-hash", "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"), digestGenDefault},
		{"gce without vCPU type", []string{"--vcpus", "4", "--vmm-type", "gce", "--ovmf", ovmf, "--kernel", empty, "--initrd", empty},
			"5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d"},
		{"ec2", []string{"--vcpus", "1", "--vcpu-type", "EPYC-v4", "--vmm-type", "ec2", "--ovmf", ovmf, "--kernel", empty, "--initrd", empty},
			"0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056"},
		{"ovmf-hash mode", []string{"--mode", "snp:ovmf-hash", "--ovmf", ovmf},
			"086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"},
		{"manifest", []string{"--manifest", demoManifest}, digestGenDefault},
		{"manifest and its artifacts", []string{"--manifest", demoManifest, "--ovmf", ovmf, "--kernel", empty, "--initrd", empty}, digestGenDefault},
	}
	for _, c := range cases {
		code, stdout, stderr := runMeasureCLI(t, c.args...)
		if code != exitOK || stdout != c.want+"\n" || stderr != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %s", c.name, code, stdout, stderr, c.want)
		}
	}
}

// The CLI and the Go API agree on a launch the vectors do not cover.
func TestMeasureCLIMatchesAPI(t *testing.T) {
	ovmfPath := filepath.Join(measureFixtures, "ovmf_AmdSev_suffix.bin")
	dir := t.TempDir()
	kernelPath, initrdPath := filepath.Join(dir, "vmlinuz"), filepath.Join(dir, "initrd")
	kernel, initrd := bytes.Repeat([]byte("kernel"), 999), bytes.Repeat([]byte("initrd"), 777)
	if err := os.WriteFile(kernelPath, kernel, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(initrdPath, initrd, 0o600); err != nil {
		t.Fatal(err)
	}
	image, err := os.ReadFile(ovmfPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := measure.FirmwareFromOVMF(image)
	if err != nil {
		t.Fatal(err)
	}
	h := measure.HashKernel(kernel, initrd, "console=ttyS0")
	p.Kernel, p.VCPUs, p.VCPUSig, p.GuestFeatures = &h, 16, 0xa10f10, 0x21
	want, err := measure.LaunchDigest(p)
	if err != nil {
		t.Fatal(err)
	}
	manifestPath := filepath.Join(dir, "release.json")
	code, stdout, stderr := runMeasureCLI(t, "--vcpus", "16", "--vcpu-type", "EPYC-Genoa", "--ovmf", ovmfPath,
		"--kernel", kernelPath, "--initrd", initrdPath, "--append", "console=ttyS0", "--guest-features", "33",
		"--output-format", "base64", "--write-manifest", manifestPath, "--release", "r1", "--source-commit", "abc123")
	if code != exitOK || stdout != base64.StdEncoding.EncodeToString(want[:])+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %s", code, stdout, stderr, want)
	}
	// The manifest it wrote checks out, against the same files.
	code, stdout, stderr = runMeasureCLI(t, "--manifest", manifestPath, "--ovmf", ovmfPath, "--kernel", kernelPath, "--initrd", initrdPath)
	if code != exitOK || stdout != want.String()+"\n" {
		t.Fatalf("manifest check: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	raw, _ := os.ReadFile(manifestPath)
	m, err := measure.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	if m.Release != "r1" || m.SourceCommit != "abc123" || m.Cmdline != "console=ttyS0" || m.VCPUType != "EPYC-Genoa" {
		t.Errorf("manifest fields: %+v", m)
	}
}

func TestMeasureCLITamperedManifest(t *testing.T) {
	raw, err := os.ReadFile(demoManifest)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	obj["vcpus"] = 2 // a release that claims another launch but keeps the measurement
	tampered, _ := json.Marshal(obj)
	path := filepath.Join(t.TempDir(), "tampered.json")
	if err := os.WriteFile(path, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runMeasureCLI(t, "--manifest", path)
	if code != exitRejected || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "mismatch") {
		t.Errorf("tampered manifest: exit %d, stdout %q, stderr %q; want exit 1", code, stdout, stderr)
	}
	// The right manifest with a file that is not its kernel.
	code, stdout, stderr = runMeasureCLI(t, "--manifest", demoManifest, "--kernel", filepath.Join(measureFixtures, "vectors.json"))
	if code != exitRejected || stdout != "" || !strings.Contains(stderr, "kernel.sha256") {
		t.Errorf("wrong kernel: exit %d, stdout %q, stderr %q; want exit 1", code, stdout, stderr)
	}
}

func TestMeasureCLIBadInput(t *testing.T) {
	ovmf := filepath.Join(measureFixtures, "ovmf_AmdSev_suffix.bin")
	x64 := filepath.Join(measureFixtures, "ovmf_OvmfX64_suffix.bin")
	empty := emptyFile(t)
	notOVMF := filepath.Join(t.TempDir(), "zeros.fd")
	if err := os.WriteFile(notOVMF, make([]byte, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string // in the reason
	}{
		{"no flags", nil, "--ovmf is required"},
		{"unknown flag", []string{"--bogus"}, "bogus"},
		{"stray argument", []string{"--ovmf", ovmf, "extra"}, "extra"},
		{"no vcpus", []string{"--ovmf", ovmf, "--vcpu-type", "EPYC"}, "--vcpus"},
		{"zero vcpus", []string{"--ovmf", ovmf, "--vcpus", "0", "--vcpu-type", "EPYC"}, "vCPUs"},
		{"unknown vCPU type", []string{"--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC-Zen9"}, "unknown vCPU type"},
		{"QEMU without vCPU type", []string{"--ovmf", ovmf, "--vcpus", "1"}, "--vcpu-type"},
		{"two vCPU signatures", []string{"--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC", "--vcpu-sig", "1"}, "only one"},
		{"partial family/model/stepping", []string{"--ovmf", ovmf, "--vcpus", "1", "--vcpu-family", "25"}, "together"},
		{"unknown VMM", []string{"--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC", "--vmm-type", "xen"}, "unknown VMM type"},
		{"bad guest features", []string{"--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC", "--guest-features", "lots"}, "--guest-features"},
		{"kernel without hashes section", []string{"--ovmf", x64, "--vcpus", "1", "--vcpu-type", "EPYC", "--kernel", empty}, "SNP_KERNEL_HASHES"},
		{"OVMF without footer table", []string{"--ovmf", notOVMF, "--vcpus", "1", "--vcpu-type", "EPYC"}, "footer table"},
		{"missing OVMF file", []string{"--ovmf", "/nonexistent/OVMF.fd", "--vcpus", "1", "--vcpu-type", "EPYC"}, "--ovmf"},
		{"initrd without kernel", []string{"--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC", "--initrd", empty}, "--kernel"},
		{"bad OVMF hash", []string{"--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC", "--snp-ovmf-hash", "abcd"}, "--snp-ovmf-hash"},
		{"unsupported mode", []string{"--mode", "sev", "--ovmf", ovmf}, "--mode"},
		{"bad output format", []string{"--mode", "snp:ovmf-hash", "--ovmf", ovmf, "--output-format", "raw"}, "--output-format"},
		{"launch flags with manifest", []string{"--manifest", demoManifest, "--vcpus", "2"}, "--vcpus"},
		{"malformed manifest", []string{"--manifest", ovmf}, "malformed release manifest"},
		{"write-manifest without release", []string{"--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC",
			"--write-manifest", filepath.Join(t.TempDir(), "m.json")}, "--release"},
		{"write-statement without release", []string{"--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC",
			"--write-statement", filepath.Join(t.TempDir(), "s.json")}, "--release"},
		{"write-statement with the manifest check", []string{"--manifest", demoManifest,
			"--write-statement", filepath.Join(t.TempDir(), "s.json")}, "--write-statement"},
		{"write-statement with two artifacts of one name", []string{"--ovmf", ovmf, "--vcpus", "1", "--vcpu-type", "EPYC",
			"--kernel", empty, "--initrd", emptyFile(t), "--release", "r1",
			"--write-statement", filepath.Join(t.TempDir(), "s.json")}, "two artifacts named"},
	}
	for _, c := range cases {
		code, stdout, stderr := runMeasureCLI(t, c.args...)
		if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 with a line naming %q", c.name, code, stdout, stderr, c.want)
		}
	}
}

func TestMeasureCLIHelp(t *testing.T) {
	code, stdout, stderr := runMeasureCLI(t, "-h")
	// Help a person asked for goes to stdout.
	if code != exitOK || stderr != "" || !strings.Contains(stdout, "--manifest") {
		t.Errorf("help: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// --write-statement writes the release statement: the manifest it also
// writes, as predicate, and the artifacts by base name and SHA-256.
func TestMeasureCLIWriteStatement(t *testing.T) {
	ovmfPath := filepath.Join(measureFixtures, "ovmf_AmdSev_suffix.bin")
	dir := t.TempDir()
	kernelPath, initrdPath := filepath.Join(dir, "vmlinuz"), filepath.Join(dir, "initrd.img")
	if err := os.WriteFile(kernelPath, []byte("kernel"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(initrdPath, []byte("initrd"), 0o600); err != nil {
		t.Fatal(err)
	}
	manifestPath, statementPath := filepath.Join(dir, "release.json"), filepath.Join(dir, "release.intoto.json")
	code, stdout, stderr := runMeasureCLI(t, "--vcpus", "2", "--vcpu-type", "EPYC-Milan", "--ovmf", ovmfPath,
		"--kernel", kernelPath, "--initrd", initrdPath, "--append", "console=ttyS0", "--guest-features", "0x21",
		"--release", "v1.2.3", "--source-commit", "0123456789abcdef0123456789abcdef01234567",
		"--write-manifest", manifestPath, "--write-statement", statementPath)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	raw, err := os.ReadFile(statementPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := release.ManifestFromStatement(raw)
	if err != nil {
		t.Fatalf("the statement written does not check: %v", err)
	}
	if want := strings.TrimSpace(stdout); got.Measurement.String() != want {
		t.Errorf("statement's measurement %s, printed %s", got.Measurement, want)
	}
	rawManifest, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	m, err := measure.ParseManifest(rawManifest)
	if err != nil {
		t.Fatal(err)
	}
	if m.Measurement != got.Measurement || m.Release != got.Release || m.SourceCommit != got.SourceCommit {
		t.Errorf("manifest and statement differ: %+v / %+v", m, got)
	}
	var st struct {
		Subject []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range st.Subject {
		names = append(names, s.Name)
	}
	if strings.Join(names, " ") != "ovmf_AmdSev_suffix.bin vmlinuz initrd.img" {
		t.Errorf("subjects %v", names)
	}
}
