package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cvmtrust/cvmtrust/measure"
	"github.com/cvmtrust/cvmtrust/release"
)

func init() {
	register("measure", "compute or check an SEV-SNP launch digest", runMeasure)
}

const measureUsage = `usage: cvmtrust measure [flags]

Prints the SEV-SNP launch digest (the MEASUREMENT of an attestation report) of
a guest launched from these artifacts, and nothing else. Flags are named like
sev-snp-measure's.

  cvmtrust measure --ovmf OVMF.fd --vcpus 4 --vcpu-type EPYC-Milan \
      --kernel vmlinuz --initrd initrd.img --append "console=ttyS0" --guest-features 0x21
  cvmtrust measure --mode snp:ovmf-hash --ovmf OVMF.fd      # the OVMF hash only
  cvmtrust measure --manifest release.json [--ovmf F --kernel F --initrd F]
      # recompute a release manifest's measurement; with files, also check
      # they are the manifest's artifacts (exit 1 on any difference)
  cvmtrust measure ... --release v1.2.3 --source-commit SHA \
      --write-manifest release.json --write-statement release.intoto.json
      # also write the release manifest, and the in-toto statement CI signs
      # (docs/release-provenance.md); its subjects are the files given
      # to --ovmf, --kernel and --initrd, by base name

Exit status: 0 success, 1 manifest does not match, 2 unusable input.

flags:
`

type measureFlags struct {
	mode, vcpuType, vcpuSig, vmmType, ovmf, kernel, initrd, appendCmd string
	guestFeatures, ovmfHash, outputFormat, manifest                   string
	writeManifest, writeStatement, release, sourceCommit              string
	vcpus                                                             int
	family, model, stepping                                           int
	set                                                               map[string]bool
}

func runMeasure(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("measure", measureUsage, stderr)
	var f measureFlags
	fs.StringVar(&f.mode, "mode", "snp", "snp (launch digest) or snp:ovmf-hash (the OVMF hash only)")
	fs.IntVar(&f.vcpus, "vcpus", 0, "number of vCPUs")
	fs.StringVar(&f.vcpuType, "vcpu-type", "", "QEMU vCPU model: "+strings.Join(measure.VCPUTypes(), ", "))
	fs.StringVar(&f.vcpuSig, "vcpu-sig", "", "vCPU signature (CPUID 1 EAX), decimal or 0x-hex")
	fs.IntVar(&f.family, "vcpu-family", -1, "vCPU family (with --vcpu-model and --vcpu-stepping)")
	fs.IntVar(&f.model, "vcpu-model", -1, "vCPU model")
	fs.IntVar(&f.stepping, "vcpu-stepping", -1, "vCPU stepping")
	fs.StringVar(&f.vmmType, "vmm-type", "QEMU", "QEMU, ec2 or gce")
	fs.StringVar(&f.ovmf, "ovmf", "", "OVMF firmware image `file`")
	fs.StringVar(&f.kernel, "kernel", "", "kernel `file` booted directly (measured through the SEV hashes table)")
	fs.StringVar(&f.initrd, "initrd", "", "initrd `file` (with --kernel)")
	fs.StringVar(&f.appendCmd, "append", "", "kernel command line (with --kernel)")
	fs.StringVar(&f.guestFeatures, "guest-features", "0x1", "SEV_FEATURES of the vCPUs, decimal or 0x-hex (QEMU 9+ default: 0x21)")
	fs.StringVar(&f.ovmfHash, "snp-ovmf-hash", "", "precomputed OVMF hash (96 hex digits) used instead of hashing --ovmf")
	fs.StringVar(&f.outputFormat, "output-format", "hex", "hex or base64")
	fs.StringVar(&f.manifest, "manifest", "", "release manifest `file` to recompute and check")
	fs.StringVar(&f.writeManifest, "write-manifest", "", "also write a release manifest for this launch to `file`")
	fs.StringVar(&f.writeStatement, "write-statement", "", "also write the release's in-toto statement (the manifest as predicate, the artifacts as subjects) to `file`")
	fs.StringVar(&f.release, "release", "", "release name for --write-manifest and --write-statement")
	fs.StringVar(&f.sourceCommit, "source-commit", "", "source commit for --write-manifest and --write-statement")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })

	var digest []byte
	var err error
	switch {
	case f.set["manifest"]:
		digest, err = f.checkManifest()
	case f.mode == "snp:ovmf-hash":
		digest, err = f.ovmfHashOnly()
	case f.mode == "snp":
		digest, err = f.launchDigest()
	default:
		err = fmt.Errorf("--mode %q not supported (snp or snp:ovmf-hash)", f.mode)
	}
	if err != nil {
		if errors.Is(err, measure.ErrMeasurementMismatch) || errors.Is(err, measure.ErrArtifactMismatch) {
			fmt.Fprintln(stderr, measureMessage(err))
			return exitRejected
		}
		return measureUsageError(stderr, err)
	}
	switch f.outputFormat {
	case "hex":
		fmt.Fprintf(stdout, "%x\n", digest)
	case "base64":
		fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(digest))
	default:
		return measureUsageError(stderr, fmt.Errorf("--output-format %q: want hex or base64", f.outputFormat))
	}
	return exitOK
}

func measureUsageError(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, measureMessage(err))
	return exitUsage
}

// measureMessage is the one-line reason printed for err.
func measureMessage(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if strings.HasPrefix(msg, "measure: ") { // the package's own errors
		return "cvmtrust " + msg
	}
	return "cvmtrust measure: " + msg
}

// only fails when a flag outside allowed was set.
func (f *measureFlags) only(why string, allowed ...string) error {
	ok := map[string]bool{"output-format": true}
	for _, a := range allowed {
		ok[a] = true
	}
	for name := range f.set {
		if !ok[name] {
			return fmt.Errorf("--%s cannot be used %s", name, why)
		}
	}
	return nil
}

func (f *measureFlags) ovmfHashOnly() ([]byte, error) {
	if err := f.only("with --mode snp:ovmf-hash", "mode", "ovmf"); err != nil {
		return nil, err
	}
	image, err := readMeasureInput("--ovmf", f.ovmf)
	if err != nil {
		return nil, err
	}
	h, err := measure.OVMFHash(image)
	return h[:], err
}

func (f *measureFlags) checkManifest() ([]byte, error) {
	if err := f.only("with --manifest", "manifest", "ovmf", "kernel", "initrd"); err != nil {
		return nil, err
	}
	raw, err := readMeasureInput("--manifest", f.manifest)
	if err != nil {
		return nil, err
	}
	m, err := measure.ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	if err := m.Verify(); err != nil {
		return nil, err
	}
	var a measure.Artifacts
	for _, in := range []struct {
		flag, path string
		dst        *[]byte
	}{{"--ovmf", f.ovmf, &a.OVMF}, {"--kernel", f.kernel, &a.Kernel}, {"--initrd", f.initrd, &a.Initrd}} {
		if in.path == "" {
			continue
		}
		if *in.dst, err = readMeasureInput(in.flag, in.path); err != nil {
			return nil, err
		}
	}
	if err := m.CheckArtifacts(a); err != nil {
		return nil, err
	}
	return m.Measurement[:], nil
}

func (f *measureFlags) launchDigest() ([]byte, error) {
	if f.set["release"] || f.set["source-commit"] {
		if !f.set["write-manifest"] && !f.set["write-statement"] {
			return nil, errors.New("--release and --source-commit need --write-manifest or --write-statement")
		}
	}
	image, err := readMeasureInput("--ovmf", f.ovmf)
	if err != nil {
		return nil, err
	}
	var p measure.Params
	if f.ovmfHash != "" {
		if p.OVMFHash, err = measure.ParseDigest(f.ovmfHash); err != nil {
			return nil, fmt.Errorf("--snp-ovmf-hash: %w", err)
		}
		if p.Layout, err = measure.ParseOVMF(image); err != nil {
			return nil, err
		}
	} else if p, err = measure.FirmwareFromOVMF(image); err != nil {
		return nil, err
	}
	if !f.set["vcpus"] {
		return nil, errors.New("--vcpus is required")
	}
	p.VCPUs = f.vcpus
	if p.VMM, err = measure.ParseVMMType(f.vmmType); err != nil {
		return nil, err
	}
	if p.GuestFeatures, err = strconv.ParseUint(f.guestFeatures, 0, 64); err != nil {
		return nil, fmt.Errorf("--guest-features %q is not a number", f.guestFeatures)
	}
	if p.VCPUSig, err = f.signature(p.VMM); err != nil {
		return nil, err
	}
	if f.kernel != "" {
		kernel, err := readMeasureInput("--kernel", f.kernel)
		if err != nil {
			return nil, err
		}
		var initrd []byte
		if f.initrd != "" {
			if initrd, err = readMeasureInput("--initrd", f.initrd); err != nil {
				return nil, err
			}
		}
		h := measure.HashKernel(kernel, initrd, f.appendCmd)
		p.Kernel = &h
	} else if f.set["initrd"] || f.set["append"] {
		return nil, errors.New("--initrd and --append need --kernel")
	}
	d, err := measure.LaunchDigest(p)
	if err != nil {
		return nil, err
	}
	if f.writeManifest != "" || f.writeStatement != "" {
		if err := f.saveManifest(p, image); err != nil {
			return nil, err
		}
	}
	return d[:], nil
}

// signature picks the vCPU signature from exactly one of the ways to give it.
func (f *measureFlags) signature(vmm measure.VMMType) (uint32, error) {
	fms := f.set["vcpu-family"] || f.set["vcpu-model"] || f.set["vcpu-stepping"]
	n := 0
	for _, given := range []bool{f.vcpuType != "", f.vcpuSig != "", fms} {
		if given {
			n++
		}
	}
	switch {
	case n > 1:
		return 0, errors.New("give only one of --vcpu-type, --vcpu-sig, --vcpu-family/--vcpu-model/--vcpu-stepping")
	case n == 0 && vmm == measure.VMMQEMU:
		return 0, errors.New("QEMU guests need --vcpu-type, --vcpu-sig or --vcpu-family/--vcpu-model/--vcpu-stepping")
	case f.vcpuType != "":
		return measure.VCPUSignature(f.vcpuType)
	case f.vcpuSig != "":
		sig, err := strconv.ParseUint(f.vcpuSig, 0, 32)
		if err != nil {
			return 0, fmt.Errorf("--vcpu-sig %q is not a 32-bit number", f.vcpuSig)
		}
		return uint32(sig), nil
	case fms:
		if f.family < 0 || f.model < 0 || f.stepping < 0 {
			return 0, errors.New("--vcpu-family, --vcpu-model and --vcpu-stepping go together")
		}
		return measure.CPUSignature(uint32(f.family), uint32(f.model), uint32(f.stepping))
	}
	return 0, nil
}

// saveManifest writes the release manifest and statement asked for. The
// statement is built before anything is written, so that a refusal leaves
// no file behind.
func (f *measureFlags) saveManifest(p measure.Params, image []byte) error {
	if f.release == "" {
		return errors.New("--write-manifest and --write-statement need --release")
	}
	m, err := measure.NewManifest(f.release, p)
	if err != nil {
		return err
	}
	m.SourceCommit = f.sourceCommit
	sum := measure.SHA256(sha256.Sum256(image))
	m.OVMF.SHA256, m.OVMF.Size = &sum, int64(len(image))
	if f.vcpuType != "" {
		m.VCPUType, m.VCPUSig = f.vcpuType, nil
	}
	if p.Kernel != nil {
		m.Cmdline, m.CmdlineSHA256 = f.appendCmd, nil
		if f.initrd != "" && m.Initrd == nil {
			m.Initrd = &measure.ArtifactDigest{SHA256: p.Kernel.Initrd}
		}
	}
	var statement []byte
	if f.writeStatement != "" {
		names := release.ArtifactNames{OVMF: filepath.Base(f.ovmf)}
		if f.kernel != "" {
			names.Kernel = filepath.Base(f.kernel)
		}
		if f.initrd != "" {
			names.Initrd = filepath.Base(f.initrd)
		}
		if statement, err = release.NewStatement(m, names); err != nil {
			return fmt.Errorf("--write-statement: %w", err)
		}
	}
	if f.writeManifest != "" {
		out, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(f.writeManifest, append(out, '\n'), 0o644); err != nil {
			return err
		}
	}
	if f.writeStatement != "" {
		return os.WriteFile(f.writeStatement, append(statement, '\n'), 0o644)
	}
	return nil
}

func readMeasureInput(flagName, path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("%s is required", flagName)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	return b, nil
}
