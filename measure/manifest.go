package measure

import (
	"github.com/cvmtrust/cvmtrust/internal/hex"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
)

// ManifestFormat is the value of Manifest.Format this package reads and writes.
const ManifestFormat = "cvmtrust-launch-manifest/v1"

// maxManifestSize bounds what ParseManifest reads.
const maxManifestSize = 1 << 20

// A Manifest describes a release: where it came from, the digests of its
// artifacts, how it is launched and the launch digest that results. It holds
// everything needed to recompute the digest without the artifacts
// themselves: the OVMF hash and layout, and the SHA-256 digests QEMU puts in
// the SEV hashes table. The format is documented in measure/README.md.
type Manifest struct {
	Format       string `json:"format"`
	Release      string `json:"release"`
	SourceCommit string `json:"source_commit,omitempty"`

	OVMF ManifestOVMF `json:"ovmf"`
	// Kernel is absent when the guest does not boot a kernel directly.
	Kernel *ArtifactDigest `json:"kernel,omitempty"`
	// Initrd is absent when there is none (only with a kernel).
	Initrd *ArtifactDigest `json:"initrd,omitempty"`
	// Cmdline is the kernel command line (only with a kernel); CmdlineSHA256
	// may be given instead, or as well when they agree.
	Cmdline       string  `json:"cmdline,omitempty"`
	CmdlineSHA256 *SHA256 `json:"cmdline_sha256,omitempty"`

	VCPUs int `json:"vcpus"`
	// VCPUType is a QEMU model name such as "EPYC-Milan"; VCPUSig the CPUID
	// signature. QEMU guests need one of them (both must agree); ec2 and gce
	// do not measure it.
	VCPUType      string  `json:"vcpu_type,omitempty"`
	VCPUSig       *uint32 `json:"vcpu_sig,omitempty"`
	VMMType       VMMType `json:"vmm_type"`
	GuestFeatures uint64  `json:"guest_features"`

	// Measurement is the launch digest an attestation report of this release
	// carries.
	Measurement Digest `json:"measurement"`
}

// ManifestOVMF describes the firmware image.
type ManifestOVMF struct {
	// SHA256 of the image file, for auditors comparing it with a build; the
	// launch digest does not use it.
	SHA256 *SHA256 `json:"sha256,omitempty"`
	// Size of the image in bytes, for auditors; not used either.
	Size int64 `json:"size,omitempty"`
	// SNPOVMFHash is OVMFHash of the image.
	SNPOVMFHash Digest `json:"snp_ovmf_hash"`
	Layout
}

// ArtifactDigest is the digest of one artifact file.
type ArtifactDigest struct {
	SHA256 SHA256 `json:"sha256"`
}

// SHA256 is a SHA-256 digest that marshals to lowercase hex.
type SHA256 [sha2.Size256]byte

func (h SHA256) String() string { return hex.Encode(h[:]) }

// MarshalText encodes the digest as lowercase hex.
func (h SHA256) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes 64 hex digits.
func (h *SHA256) UnmarshalText(text []byte) error {
	b, err := hex.Decode(string(text))
	if err != nil || len(b) != sha2.Size256 {
		return errorf(ErrMalformedManifest, "SHA-256 %q is not %d hex digits", truncate(string(text)), 2*sha2.Size256)
	}
	copy(h[:], b)
	return nil
}

// Params returns the launch parameters the manifest states, checking that
// they are complete and consistent.
func (m *Manifest) Params() (Params, error) {
	p := Params{
		OVMFHash:      m.OVMF.SNPOVMFHash,
		Layout:        m.OVMF.Layout,
		VCPUs:         m.VCPUs,
		GuestFeatures: m.GuestFeatures,
	}
	if m.Release == "" {
		return p, errorf(ErrMalformedManifest, "release name is empty")
	}
	if err := p.Layout.validate(ErrMalformedManifest); err != nil {
		return p, err
	}
	vmm, err := ParseVMMType(string(m.VMMType))
	if err != nil {
		return p, err
	}
	p.VMM = vmm
	if m.VCPUs < 1 || m.VCPUs > MaxVCPUs {
		return p, errorf(ErrMalformedManifest, "vcpus %d, want 1 to %d", m.VCPUs, MaxVCPUs)
	}

	switch {
	case m.VCPUType != "":
		if p.VCPUSig, err = VCPUSignature(m.VCPUType); err != nil {
			return p, err
		}
		if m.VCPUSig != nil && *m.VCPUSig != p.VCPUSig {
			return p, errorf(ErrMalformedManifest, "vcpu_sig %#x contradicts vcpu_type %s (%#x)", *m.VCPUSig, m.VCPUType, p.VCPUSig)
		}
	case m.VCPUSig != nil:
		p.VCPUSig = *m.VCPUSig
	case vmm == VMMQEMU:
		return p, errorf(ErrMalformedManifest, "QEMU guests need vcpu_type or vcpu_sig")
	}

	if m.Kernel == nil {
		if m.Initrd != nil || m.Cmdline != "" || m.CmdlineSHA256 != nil {
			return p, errorf(ErrMalformedManifest, "initrd or cmdline without a kernel")
		}
		return p, nil
	}
	h := KernelHashes{Kernel: m.Kernel.SHA256, Cmdline: CmdlineHash(m.Cmdline)}
	if m.Initrd != nil {
		h.Initrd = m.Initrd.SHA256
	} else {
		h.Initrd = sha2.Sum256(nil)
	}
	if m.CmdlineSHA256 != nil {
		if m.Cmdline != "" && *m.CmdlineSHA256 != h.Cmdline {
			return p, errorf(ErrMalformedManifest, "cmdline_sha256 is not the SHA-256 of cmdline plus its NUL")
		}
		h.Cmdline = *m.CmdlineSHA256
	}
	p.Kernel = &h
	return p, nil
}

// Recompute returns the launch digest of the release from the manifest's
// OVMF hash, layout, artifact digests and launch settings.
func (m *Manifest) Recompute() (Digest, error) {
	p, err := m.Params()
	if err != nil {
		return Digest{}, err
	}
	return LaunchDigest(p)
}

// Verify recomputes the launch digest and checks that it equals
// Measurement; a difference is a *MismatchError matching
// ErrMeasurementMismatch. It checks that the manifest is consistent, not
// that its artifacts are the published ones: see CheckArtifacts.
func (m *Manifest) Verify() error {
	got, err := m.Recompute()
	if err != nil {
		return err
	}
	if got != m.Measurement {
		return &MismatchError{Kind: ErrMeasurementMismatch, Field: "measurement", Got: got[:], Want: m.Measurement[:]}
	}
	return nil
}

// Artifacts are release files to check against a manifest; nil fields are
// not checked.
type Artifacts struct {
	OVMF   []byte
	Kernel []byte
	Initrd []byte
}

// CheckArtifacts checks that the given files are the ones the manifest
// describes: the OVMF image's hash, layout and (when stated) SHA-256, and the
// kernel's and initrd's SHA-256. A difference is a *MismatchError matching
// ErrArtifactMismatch.
func (m *Manifest) CheckArtifacts(a Artifacts) error {
	if a.OVMF != nil {
		p, err := FirmwareFromOVMF(a.OVMF)
		if err != nil {
			return err
		}
		if p.OVMFHash != m.OVMF.SNPOVMFHash {
			return &MismatchError{Kind: ErrArtifactMismatch, Field: "ovmf.snp_ovmf_hash", Got: p.OVMFHash[:], Want: m.OVMF.SNPOVMFHash[:]}
		}
		if !p.Layout.equal(&m.OVMF.Layout) {
			return errorf(ErrArtifactMismatch, "OVMF layout: got %v, want %v", p.Layout, m.OVMF.Layout)
		}
		if m.OVMF.SHA256 != nil {
			if sum := sha2.Sum256(a.OVMF); SHA256(sum) != *m.OVMF.SHA256 {
				return &MismatchError{Kind: ErrArtifactMismatch, Field: "ovmf.sha256", Got: sum[:], Want: m.OVMF.SHA256[:]}
			}
		}
	}
	for _, f := range []struct {
		name   string
		data   []byte
		stated *ArtifactDigest
	}{{"kernel", a.Kernel, m.Kernel}, {"initrd", a.Initrd, m.Initrd}} {
		if f.data == nil {
			continue
		}
		if f.stated == nil {
			return errorf(ErrArtifactMismatch, "%s given but the manifest has none", f.name)
		}
		if sum := sha2.Sum256(f.data); SHA256(sum) != f.stated.SHA256 {
			return &MismatchError{Kind: ErrArtifactMismatch, Field: f.name + ".sha256", Got: sum[:], Want: f.stated.SHA256[:]}
		}
	}
	return nil
}

// NewManifest describes a release launched with p; Measurement is computed.
// Fill in SourceCommit, VCPUType, the OVMF file's SHA256 and Size, and
// Cmdline (instead of CmdlineSHA256) as known.
func NewManifest(release string, p Params) (*Manifest, error) {
	d, err := LaunchDigest(p)
	if err != nil {
		return nil, err
	}
	vmm, _ := p.vmm()
	m := &Manifest{
		Format:        ManifestFormat,
		Release:       release,
		OVMF:          ManifestOVMF{SNPOVMFHash: p.OVMFHash, Layout: p.Layout},
		VCPUs:         p.VCPUs,
		VMMType:       vmm,
		GuestFeatures: p.GuestFeatures,
		Measurement:   d,
	}
	if vmm == VMMQEMU {
		sig := p.VCPUSig
		m.VCPUSig = &sig
	}
	if p.Kernel != nil {
		m.Kernel = &ArtifactDigest{SHA256: p.Kernel.Kernel}
		if p.Kernel.Initrd != sha2.Sum256(nil) {
			m.Initrd = &ArtifactDigest{SHA256: p.Kernel.Initrd}
		}
		if p.Kernel.Cmdline != CmdlineHash("") {
			c := p.Kernel.Cmdline
			m.CmdlineSHA256 = &c
		}
	}
	return m, nil
}
