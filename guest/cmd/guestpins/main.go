// Command guestpins is the part of scripts/build-guest.sh that reads and
// writes structured files:
//
//	guestpins resolve ...   write guest/pins.lock from the package lists apt verified
//	guestpins inputs ...    write OUT/inputs.json: every input of a build and every output's SHA-256
//	guestpins get KIND      print "NAME VERSION SHA256 SIZE PATH" for each pinned input of KIND
//	guestpins unzip-go ZIP DIR   unpack the Go toolchain module zip as a GOROOT
//	guestpins check-static FILE  refuse a matcher the image cannot run: not a static x86-64 ELF executable
//
// It runs on the build host; nothing it writes is in a measured artifact.
package main

import (
	"archive/zip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cvmtrust/cvmtrust/guest/pins"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: guestpins resolve|inputs|get|unzip-go|check-static ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "resolve":
		err = resolve(os.Args[2:], os.Stdout)
	case "inputs":
		err = inputs(os.Args[2:], os.Stdout)
	case "get":
		err = get(os.Args[2:], os.Stdout)
	case "unzip-go":
		err = unzipGo(os.Args[2:])
	case "check-static":
		if len(os.Args) != 3 {
			err = errors.New("usage: guestpins check-static FILE")
		} else {
			err = checkStatic(os.Args[2])
		}
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "guestpins:", err)
		os.Exit(1)
	}
}

func readLock(name string) (*pins.Lock, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return pins.Parse(f)
}

func get(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	lock := fs.String("lock", "guest/pins.lock", "the pins file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: guestpins get [-lock FILE] KIND")
	}
	l, err := readLock(*lock)
	if err != nil {
		return err
	}
	if fs.Arg(0) == "mirror" {
		_, err := fmt.Fprintln(w, l.Mirror, l.Suite)
		return err
	}
	for _, in := range l.Of(fs.Arg(0)) {
		fmt.Fprintln(w, in.Name, in.Version, in.SHA256, in.Size, in.Path)
	}
	return nil
}

func resolve(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("resolve", flag.ContinueOnError)
	mirror := fs.String("mirror", "", "the Debian mirror URL")
	suite := fs.String("suite", "", "the suite")
	lists := fs.String("lists", "", "apt's lists directory after the resolving run (its Packages and Sources files)")
	root := fs.String("root", "", `file of "PACKAGE VERSION ARCH" lines: the build root as installed`)
	goZip := fs.String("go-zip", "", "the Go toolchain module zip")
	goModule := fs.String("go-module", "", "its module@version")
	kernelMeta := fs.String("kernel-meta", "", "the kernel's metapackage (its one Depends is the kernel package)")
	source := fs.String("source", "", "the firmware's source package")
	vmm := fs.String("vmm", "", "the QEMU package")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *mirror == "" || *suite == "" || *lists == "" || *root == "" || *goZip == "" || *goModule == "" ||
		*kernelMeta == "" || *source == "" || *vmm == "" {
		return errors.New("resolve needs every flag")
	}
	packages, err := readIndexes(*lists, "_Packages")
	if err != nil {
		return err
	}
	sources, err := readIndexes(*lists, "_Sources")
	if err != nil {
		return err
	}
	l := &pins.Lock{Mirror: strings.TrimSuffix(*mirror, "/"), Suite: *suite}
	rootList, err := os.ReadFile(*root)
	if err != nil {
		return err
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(rootList)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			return fmt.Errorf("%s: line %q is not PACKAGE VERSION ARCH", *root, line)
		}
		in, err := pins.BinaryInput(packages, pins.Root, f[0], f[1], f[2])
		if err != nil {
			return err
		}
		l.Inputs = append(l.Inputs, in)
	}
	kernel, err := pins.MetapackageTarget(packages, *kernelMeta)
	if err != nil {
		return err
	}
	for _, b := range []struct{ kind, name string }{{pins.Kernel, kernel}, {pins.VMM, *vmm}} {
		version, err := pins.OnlyVersion(packages, b.name)
		if err != nil {
			return err
		}
		in, err := pins.BinaryInput(packages, b.kind, b.name, version, "amd64")
		if err != nil {
			return err
		}
		l.Inputs = append(l.Inputs, in)
	}
	srcVersion, err := pins.OnlyVersion(sources, *source)
	if err != nil {
		return err
	}
	src, err := pins.SourceInputs(sources, *source, srcVersion)
	if err != nil {
		return err
	}
	l.Inputs = append(l.Inputs, src...)
	sum, size, err := fileSHA256(*goZip)
	if err != nil {
		return err
	}
	mod, ver, ok := strings.Cut(*goModule, "@")
	if !ok {
		return fmt.Errorf("-go-module %q is not module@version", *goModule)
	}
	l.Inputs = append(l.Inputs, pins.Input{Kind: pins.Go, Name: mod, Version: ver, SHA256: sum, Size: size, Path: *goModule})
	return l.Write(w, `The guest image's outside inputs, each by version and SHA-256 (see guest/pins/pins.go for the format).
Written by scripts/build-guest.sh --update-pins; scripts/build-guest.sh refuses any download that differs.`)
}

func readIndexes(dir, suffix string) ([]pins.Paragraph, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("no *%s file in %s", suffix, dir)
	}
	var all []pins.Paragraph
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			return nil, err
		}
		p, err := pins.ReadIndex(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		all = append(all, p...)
	}
	return all, nil
}

func fileSHA256(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Inputs is OUT/inputs.json.
type Inputs struct {
	Format string `json:"format"`
	// Source is the commit built, and whether the tree had changes on top.
	Source struct {
		Commit          string `json:"commit"`
		Dirty           bool   `json:"dirty"`
		SourceDateEpoch int64  `json:"source_date_epoch"`
	} `json:"source"`
	Mirror string        `json:"debian_mirror"`
	Suite  string        `json:"debian_suite"`
	Inputs []pins.Input  `json:"inputs"`
	Files  []namedSHA256 `json:"files"`
	// Outputs are the artifacts this build wrote.
	Outputs []namedSHA256 `json:"outputs"`
}

type namedSHA256 struct {
	Name   string `json:"name"`
	Role   string `json:"role,omitempty"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

func inputs(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("inputs", flag.ContinueOnError)
	lock := fs.String("lock", "guest/pins.lock", "the pins file")
	commit := fs.String("commit", "", "the source commit")
	dirty := fs.Bool("dirty", false, "the tree had uncommitted changes")
	epoch := fs.Int64("source-date-epoch", 0, "SOURCE_DATE_EPOCH of the build")
	var files, outputs []string
	fs.Func("file", "ROLE=PATH of a file that went in (go.sum, package-lock.json, the matcher); repeatable", func(s string) error { files = append(files, s); return nil })
	fs.Func("output", "PATH of an artifact written; repeatable", func(s string) error { outputs = append(outputs, s); return nil })
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := readLock(*lock)
	if err != nil {
		return err
	}
	var in Inputs
	in.Format = "cvmtrust-guest-inputs/v1"
	in.Source.Commit, in.Source.Dirty, in.Source.SourceDateEpoch = *commit, *dirty, *epoch
	in.Mirror, in.Suite, in.Inputs = l.Mirror, l.Suite, l.Inputs
	for _, f := range files {
		role, p, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("-file %q is not ROLE=PATH", f)
		}
		sum, size, err := fileSHA256(p)
		if err != nil {
			return err
		}
		in.Files = append(in.Files, namedSHA256{Name: filepath.Base(p), Role: role, SHA256: sum, Size: size})
	}
	for _, p := range outputs {
		sum, size, err := fileSHA256(p)
		if err != nil {
			return err
		}
		in.Outputs = append(in.Outputs, namedSHA256{Name: filepath.Base(p), SHA256: sum, Size: size})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(in)
}

// unzipGo unpacks the toolchain module zip (golang.org/toolchain@VERSION)
// into dir as a GOROOT. Module zips carry no file modes, so the programs
// under bin/ and pkg/tool/ are made executable, as the go command does when
// it switches toolchains itself.
func unzipGo(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: guestpins unzip-go ZIP DIR")
	}
	zr, err := zip.OpenReader(args[0])
	if err != nil {
		return err
	}
	defer zr.Close()
	dir := args[1]
	tmp := dir + ".part"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	for _, f := range zr.File {
		// Every name starts with module@version/.
		_, afterAt, ok := strings.Cut(f.Name, "@")
		_, rel, ok2 := strings.Cut(afterAt, "/")
		if !ok || !ok2 || rel == "" || !filepath.IsLocal(rel) || strings.HasSuffix(f.Name, "/") {
			continue
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(rel, "bin/") || strings.HasPrefix(rel, "pkg/tool/") {
			mode = 0o755
		}
		dst := filepath.Join(tmp, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := extractFile(f, dst, mode); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

func extractFile(f *zip.File, dst string, mode os.FileMode) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// checkStatic refuses what the image cannot run: the image has no C library
// and no dynamic loader, and its kernel is x86-64.
func checkStatic(name string) error {
	f, err := elf.Open(name)
	if err != nil {
		return fmt.Errorf("%s is not an ELF executable: %w", name, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || f.Class != elf.ELFCLASS64 {
		return fmt.Errorf("%s is for %v, not x86-64", name, f.Machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s is an ELF %v, not an executable", name, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; the image has no libraries or loader: link it statically", name)
		}
	}
	return nil
}
