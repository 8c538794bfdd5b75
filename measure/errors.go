package measure

import (
	"errors"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/hex"
)

// Errors returned by this package. Match them with errors.Is; the returned
// errors wrap them with the detail (field, offset, value).
var (
	// ErrMalformedOVMF: the OVMF image or one of its tables is truncated,
	// misaligned or inconsistent.
	ErrMalformedOVMF = errors.New("measure: malformed OVMF image")
	// ErrNoFooterTable: the image does not end with OVMF's GUIDed footer
	// table, so it holds no SEV metadata (it is not an OVMF build, or it is
	// truncated).
	ErrNoFooterTable = errors.New("measure: OVMF image has no GUIDed footer table")
	// ErrNoSEVMetadata: the footer table lacks the SEV metadata or the SEV-ES
	// reset block, so the firmware cannot launch an SEV-SNP guest.
	ErrNoSEVMetadata = errors.New("measure: OVMF image has no SEV-SNP metadata")
	// ErrNoKernelHashes: a kernel was given but the firmware has no
	// SNP_KERNEL_HASHES section (or no SEV hashes table entry), so it cannot
	// measure a directly booted kernel. Build OVMF from OvmfPkg/AmdSev.
	ErrNoKernelHashes = errors.New("measure: kernel given but OVMF metadata has no SNP_KERNEL_HASHES section")
	// ErrUnknownVCPUType: the vCPU type is not a known AMD EPYC model.
	ErrUnknownVCPUType = errors.New("measure: unknown vCPU type")
	// ErrUnknownVMMType: the VMM type is not QEMU, ec2 or gce.
	ErrUnknownVMMType = errors.New("measure: unknown VMM type")
	// ErrInvalidParams: a launch parameter is out of range or missing.
	ErrInvalidParams = errors.New("measure: invalid launch parameters")
	// ErrMalformedManifest: a release manifest does not parse or is
	// incomplete or self-contradictory.
	ErrMalformedManifest = errors.New("measure: malformed release manifest")
	// ErrMeasurementMismatch: the recomputed launch digest differs from the
	// one stated. Returned as a *MismatchError.
	ErrMeasurementMismatch = errors.New("measure: launch digest mismatch")
	// ErrArtifactMismatch: an artifact file does not match the digest a
	// manifest states for it. Returned as a *MismatchError.
	ErrArtifactMismatch = errors.New("measure: artifact does not match the manifest")
)

// MismatchError reports a value that differs from the one expected, with both
// values in hex. It matches ErrMeasurementMismatch or ErrArtifactMismatch.
type MismatchError struct {
	Kind  error  // ErrMeasurementMismatch or ErrArtifactMismatch
	Field string // what was compared, e.g. "measurement", "kernel.sha256"
	Got   []byte // recomputed
	Want  []byte // stated
}

func (e *MismatchError) Error() string {
	return errfmt.Sprintf("%v: %s: got %s, want %s", e.Kind, e.Field, hex.Encode(e.Got), hex.Encode(e.Want))
}

// Is lets errors.Is match the sentinel in Kind.
func (e *MismatchError) Is(target error) bool { return target == e.Kind }

func errorf(sentinel error, format string, args ...any) error {
	return errfmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
