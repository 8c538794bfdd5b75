package pins

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func sampleLock() string {
	return `# a comment
mirror http://deb.debian.org/debian/
suite trixie
go     golang.org/toolchain v0.0.1-go1.26.8.linux-amd64 ` + sha + ` 10 golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64
source edk2 2025.02-8 ` + sha + ` 20 pool/main/e/edk2/edk2_2025.02.orig.tar.xz
kernel linux-image-6.12.1-cloud-amd64 6.12.1-1 ` + sha + ` 30 pool/main/l/k.deb
vmm    qemu-system-x86 1:10.0.13 ` + sha + ` 40 pool/main/q/q.deb
root   gcc-14 14.2.0-19 ` + sha + ` 50 pool/main/g/gcc.deb
root   bash 5.2 ` + sha + ` 60 pool/main/b/bash.deb
`
}

func TestParseAndWrite(t *testing.T) {
	l, err := Parse(strings.NewReader(sampleLock()))
	if err != nil {
		t.Fatal(err)
	}
	if l.Mirror != "http://deb.debian.org/debian" || l.Suite != "trixie" {
		t.Errorf("mirror %q suite %q", l.Mirror, l.Suite)
	}
	if r := l.Of(Root); len(r) != 2 || r[0].Name != "gcc-14" || r[1].Size != 60 {
		t.Errorf("root inputs %+v", r)
	}
	var buf bytes.Buffer
	if err := l.Write(&buf, "header"); err != nil {
		t.Fatal(err)
	}
	again, err := Parse(&buf)
	if err != nil {
		t.Fatalf("the written lock does not parse: %v", err)
	}
	if r := again.Of(Root); r[0].Name != "bash" {
		t.Errorf("written root inputs are not sorted by name: %+v", r)
	}
	if len(again.Inputs) != len(l.Inputs) {
		t.Errorf("%d inputs written, %d read", len(again.Inputs), len(l.Inputs))
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ name, old, new string }{
		{"unknown kind", "root   bash", "rot    bash"},
		{"short hash", sha + " 60", "0123 60"},
		{"upper-case hash", "vmm    qemu-system-x86 1:10.0.13 " + sha, "vmm    qemu-system-x86 1:10.0.13 " + strings.ToUpper(sha)},
		{"size", sha + " 50", sha + " -5"},
		{"missing word", "pool/main/b/bash.deb", ""},
		{"no mirror", "mirror http://deb.debian.org/debian/", ""},
		{"no kernel", "kernel linux-image-6.12.1-cloud-amd64 6.12.1-1 " + sha + " 30 pool/main/l/k.deb", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := strings.Replace(sampleLock(), tc.old, tc.new, 1)
			if s == sampleLock() {
				t.Fatal("the case changes nothing")
			}
			if _, err := Parse(strings.NewReader(s)); !errors.Is(err, ErrLock) {
				t.Fatalf("Parse = %v, want ErrLock", err)
			}
		})
	}
}

// TestCommittedLock: guest/pins.lock parses and pins what the build needs.
func TestCommittedLock(t *testing.T) {
	f, err := os.Open("../pins.lock")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, in := range l.Inputs {
		names[in.Name] = true
	}
	for _, want := range []string{"gcc", "nasm", "acpica-tools", "uuid-dev", "python3", "nodejs", "ca-certificates", "edk2", "qemu-system-x86"} {
		if !names[want] {
			t.Errorf("pins.lock does not pin %s", want)
		}
	}
	if k := l.Of(Kernel); len(k) != 1 || !strings.HasSuffix(k[0].Name, "-cloud-amd64") {
		t.Errorf("kernel pins %+v, want one cloud kernel", k)
	}
}

const packagesIndex = `Package: linux-image-cloud-amd64
Version: 6.12.117-1
Architecture: amd64
Depends: linux-image-6.12.117+deb13-cloud-amd64 (= 6.12.117-1)
Filename: pool/main/l/meta.deb
Size: 1000
SHA256: ` + sha + `

Package: linux-image-6.12.117+deb13-cloud-amd64
Version: 6.12.117-1
Architecture: amd64
Description: a kernel
 with a continuation line
Filename: pool/main/l/linux-image.deb
Size: 34671208
SHA256: ` + sha + `

Package: tzdata
Version: 2025b-4
Architecture: all
Filename: pool/main/t/tzdata.deb
Size: 10
SHA256: ` + sha + `
`

const sourcesIndex = `Package: edk2
Version: 2025.02-8+deb13u1
Directory: pool/main/e/edk2
Checksums-Sha256:
 ` + sha + ` 2656 edk2_2025.02-8+deb13u1.dsc
 ` + sha + ` 29646336 edk2_2025.02.orig.tar.xz
 ` + sha + ` 53652 edk2_2025.02-8+deb13u1.debian.tar.xz
`

func TestIndex(t *testing.T) {
	pk, err := ReadIndex(strings.NewReader(packagesIndex))
	if err != nil {
		t.Fatal(err)
	}
	kernel, err := MetapackageTarget(pk, "linux-image-cloud-amd64")
	if err != nil || kernel != "linux-image-6.12.117+deb13-cloud-amd64" {
		t.Fatalf("MetapackageTarget = %q, %v", kernel, err)
	}
	in, err := BinaryInput(pk, Kernel, kernel, "6.12.117-1", "amd64")
	if err != nil || in.Path != "pool/main/l/linux-image.deb" || in.Size != 34671208 {
		t.Fatalf("BinaryInput = %+v, %v", in, err)
	}
	if _, err := BinaryInput(pk, Root, "tzdata", "2025b-4", "amd64"); err != nil {
		t.Errorf("an Architecture: all package is not found: %v", err)
	}
	if _, err := BinaryInput(pk, Root, "tzdata", "2025b-5", "amd64"); err == nil {
		t.Error("another version is found")
	}
	src, err := ReadIndex(strings.NewReader(sourcesIndex))
	if err != nil {
		t.Fatal(err)
	}
	v, err := OnlyVersion(src, "edk2")
	if err != nil {
		t.Fatal(err)
	}
	files, err := SourceInputs(src, "edk2", v)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path != "pool/main/e/edk2/edk2_2025.02.orig.tar.xz" || files[1].Size != 53652 {
		t.Errorf("SourceInputs = %+v, want the two tarballs", files)
	}
	twice, _ := ReadIndex(strings.NewReader(sourcesIndex + "\n" + strings.Replace(sourcesIndex, "deb13u1\n", "deb13u2\n", 1)))
	if _, err := OnlyVersion(twice, "edk2"); err == nil {
		t.Error("OnlyVersion accepts an index with two versions")
	}
}
