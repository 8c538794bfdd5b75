package guest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"

	"github.com/cvmtrust/cvmtrust/guest/initrd"
	"github.com/cvmtrust/cvmtrust/measure"
)

// imageDir is an image scripts/build-guest.sh wrote; scripts/test.sh builds
// one and sets it.
func imageDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CVMTRUST_GUEST_IMAGE")
	if dir == "" {
		t.Skip("SKIPPED LOUDLY: no guest image to check; scripts/test.sh builds one (CVMTRUST_GUEST_IMAGE=DIR)")
	}
	return dir
}

func readImageFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(imageDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// initrdRecords unpacks the image's initrd.
func initrdRecords(t *testing.T) []cpio.Record {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(readImageFile(t, "initrd.img")))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestImageInitrd: the initrd holds what initrd.contents.json lists and
// nothing else, no shell or login of any kind, only static executables,
// nothing set-uid and nothing owned by anyone but root.
func TestImageInitrd(t *testing.T) {
	var listed []initrd.Listed
	if err := json.Unmarshal(readImageFile(t, "initrd.contents.json"), &listed); err != nil {
		t.Fatal(err)
	}
	recs := initrdRecords(t)
	forbidden := map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "busybox": true, "login": true,
		"getty": true, "agetty": true, "sshd": true, "dropbear": true, "su": true, "sudo": true, "toybox": true}
	i := 0
	for _, r := range recs {
		if r.Name == cpio.Trailer {
			continue
		}
		name := "/" + r.Name
		if i >= len(listed) || listed[i].Name != name {
			t.Fatalf("record %d is %s, the listing says %v", i, name, listed[min(i, len(listed)-1)].Name)
		}
		l := listed[i]
		i++
		if forbidden[path.Base(name)] {
			t.Errorf("%s: the image holds a shell or login program", name)
		}
		if r.UID != 0 || r.GID != 0 || r.Mode&(cpio.S_ISUID|cpio.S_ISGID) != 0 {
			t.Errorf("%s: uid %d gid %d mode %o", name, r.UID, r.GID, r.Mode)
		}
		if r.Mode&cpio.S_IFMT != cpio.S_IFREG {
			continue
		}
		body, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != l.SHA256 {
			t.Errorf("%s: contents differ from the listing", name)
		}
		if r.Mode&0o111 != 0 {
			f, err := elf.NewFile(bytes.NewReader(body))
			if err != nil {
				t.Errorf("%s is executable but not ELF: %v", name, err)
				continue
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("%s is a dynamic executable; the image has no loader or libraries", name)
				}
			}
		}
	}
	if i != len(listed) {
		t.Errorf("the initrd holds %d entries, the listing %d", i, len(listed))
	}
	for _, want := range []string{"/init", "/usr/bin/cvmtrust", "/dev/console", "/usr/share/cvmtrust/web/dist/cvmtrust.wasm"} {
		found := false
		for _, l := range listed {
			found = found || l.Name == want
		}
		if !found {
			t.Errorf("the initrd has no %s", want)
		}
	}
}

// launchSettings reads launch.env.
func launchSettings(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("launch.env")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	return env
}

// TestImageMeasurable: the firmware is the AmdSev build (its SEV hashes
// table is where QEMU writes the kernel's, initrd's and command line's
// hashes), the command line is guest/cmdline, and the launch digest of the
// image for launch.env's settings changes when one byte of the initrd does.
func TestImageMeasurable(t *testing.T) {
	ovmf := readImageFile(t, "OVMF.fd")
	p, err := measure.FirmwareFromOVMF(ovmf)
	if err != nil {
		t.Fatal(err)
	}
	if p.Layout.HashesTableGPA == 0 {
		t.Fatal("OVMF.fd has no SEV hashes table: it is not the AmdSev build and would not check the kernel")
	}
	cmdline := string(readImageFile(t, "cmdline"))
	want, _ := os.ReadFile("cmdline")
	if cmdline != strings.TrimSpace(string(want)) {
		t.Errorf("cmdline %q, guest/cmdline %q", cmdline, want)
	}
	env := launchSettings(t)
	p.VCPUs, _ = strconv.Atoi(env["VCPUS"])
	if p.VCPUSig, err = measure.VCPUSignature(env["VCPU_TYPE"]); err != nil {
		t.Fatal(err)
	}
	if p.GuestFeatures, err = strconv.ParseUint(env["GUEST_FEATURES"], 0, 64); err != nil {
		t.Fatal(err)
	}
	kernel, initrdImg := readImageFile(t, "vmlinuz"), readImageFile(t, "initrd.img")
	h := measure.HashKernel(kernel, initrdImg, cmdline)
	p.Kernel = &h
	digest, err := measure.LaunchDigest(p)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(initrdImg)
	flipped[len(flipped)/2] ^= 1
	h2 := measure.HashKernel(kernel, flipped, cmdline)
	p.Kernel = &h2
	other, err := measure.LaunchDigest(p)
	if err != nil {
		t.Fatal(err)
	}
	if digest == other {
		t.Fatal("a flipped initrd byte leaves the launch digest as it was")
	}
	t.Logf("launch digest %s (%d vCPUs, %s, guest features %s)", digest, p.VCPUs, env["VCPU_TYPE"], env["GUEST_FEATURES"])
}

// TestImageInputs: inputs.json names the outputs as they are.
func TestImageInputs(t *testing.T) {
	var in struct {
		Format  string `json:"format"`
		Outputs []struct {
			Name, SHA256 string
		} `json:"outputs"`
	}
	if err := json.Unmarshal(readImageFile(t, "inputs.json"), &in); err != nil {
		t.Fatal(err)
	}
	if in.Format != "cvmtrust-guest-inputs/v1" || len(in.Outputs) != 4 {
		t.Fatalf("inputs.json: format %q, %d outputs", in.Format, len(in.Outputs))
	}
	for _, o := range in.Outputs {
		sum := sha256.Sum256(readImageFile(t, o.Name))
		if hex.EncodeToString(sum[:]) != o.SHA256 {
			t.Errorf("%s differs from inputs.json", o.Name)
		}
	}
}
