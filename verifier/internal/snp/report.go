// Package snp holds the byte layout of the SEV-SNP ATTESTATION_REPORT (AMD SEV
// Secure Nested Paging Firmware ABI Specification, table "ATTESTATION_REPORT
// Structure") and the product-specific decoding of TCB_VERSION.
package snp

import (
	"errors"

	"github.com/cvmtrust/cvmtrust/internal/endian"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
)

// Report layout. Offsets are from the ABI spec; fields added in a later report
// version are noted.
const (
	ReportSize = 0x4A0

	offVersion       = 0x000 // u32
	offGuestSVN      = 0x004 // u32
	offPolicy        = 0x008 // u64
	offFamilyID      = 0x010 // 16 bytes
	offImageID       = 0x020 // 16 bytes
	offVMPL          = 0x030 // u32
	offSignatureAlgo = 0x034 // u32
	offCurrentTCB    = 0x038 // u64
	offPlatformInfo  = 0x040 // u64
	offSignerInfo    = 0x048 // u32: AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY
	offReserved1     = 0x04C // 4 bytes, must be zero
	offReportData    = 0x050 // 64 bytes
	offMeasurement   = 0x090 // 48 bytes
	offHostData      = 0x0C0 // 32 bytes
	offIDKeyDigest   = 0x0E0 // 48 bytes
	offAuthorKeyDig  = 0x110 // 48 bytes
	offReportID      = 0x140 // 32 bytes
	offReportIDMA    = 0x160 // 32 bytes
	offReportedTCB   = 0x180 // u64
	offCPUIDFamily   = 0x188 // u8, version 3+
	offCPUIDModel    = 0x189 // u8, version 3+
	offCPUIDStepping = 0x18A // u8, version 3+
	offChipID        = 0x1A0 // 64 bytes
	offCommittedTCB  = 0x1E0 // u64
	offCurrentBuild  = 0x1E8 // u8 build, minor, major, reserved
	offCommittedBld  = 0x1EC // u8 build, minor, major, reserved
	offLaunchTCB     = 0x1F0 // u64
	offLaunchMit     = 0x1F8 // u64, version 5+
	offCurrentMit    = 0x200 // u64, version 5+

	// SignedLength is how many leading bytes the signature covers.
	SignedLength = 0x2A0
	offSignature = 0x2A0 // 512 bytes: R (72, little-endian), S (72), then zero
	sigComponent = 0x48
)

// SignatureAlgoECDSAP384SHA384 is the only signature algorithm the firmware
// uses for reports.
const SignatureAlgoECDSAP384SHA384 = 1

// Signing keys named by SIGNER_INFO bits 4:2.
const (
	SigningKeyVCEK = 0
	SigningKeyVLEK = 1
	SigningKeyNone = 7
)

// Guest policy bits.
const (
	PolicySMT         = 1 << 16
	PolicyReserved1   = 1 << 17 // must be one
	PolicyMigrateMA   = 1 << 18
	PolicyDebug       = 1 << 19
	PolicyReservedMBZ = uint64(0xFFFFFFFFFC000000) // bits 63:26 must be zero
)

// ErrReport is wrapped by every error Parse returns.
var ErrReport = errors.New("bad attestation report")

// Report is a parsed ATTESTATION_REPORT. Byte fields alias the input.
type Report struct {
	Raw           []byte
	Version       uint32
	GuestSVN      uint32
	Policy        uint64
	FamilyID      []byte
	ImageID       []byte
	VMPL          uint32
	SignatureAlgo uint32
	CurrentTCB    uint64
	PlatformInfo  uint64
	AuthorKeyEn   bool
	MaskChipKey   bool
	SigningKey    uint32
	ReportData    []byte
	Measurement   []byte
	HostData      []byte
	IDKeyDigest   []byte
	AuthorKeyDig  []byte
	ReportID      []byte
	ReportIDMA    []byte
	ReportedTCB   uint64
	// HasCPUID is true for version 3 and later, which name the CPU.
	HasCPUID                               bool
	CPUIDFamily, CPUIDModel, CPUIDStepping uint8
	SignerInfoReserved                     uint32 // bits 31:5 of SIGNER_INFO, must be zero
	ChipID                                 []byte
	CommittedTCB                           uint64
	CurrentVersion                         [3]uint8 // build, minor, major
	CommittedVersion                       [3]uint8
	LaunchTCB                              uint64
	LaunchMitVector                        uint64
	CurrentMitVector                       uint64
}

// Parse decodes a report. It checks only the size: version, reserved fields
// and signature are for the caller to check, so that each can be reported
// as its own finding.
func Parse(b []byte) (*Report, error) {
	if len(b) != ReportSize {
		return nil, errfmt.Errorf("%w: %d bytes, want %d", ErrReport, len(b), ReportSize)
	}
	le32 := func(o int) uint32 { return endian.LittleEndian.Uint32(b[o:]) }
	le64 := func(o int) uint64 { return endian.LittleEndian.Uint64(b[o:]) }
	r := &Report{
		Raw:           b,
		Version:       le32(offVersion),
		GuestSVN:      le32(offGuestSVN),
		Policy:        le64(offPolicy),
		FamilyID:      b[offFamilyID:offImageID],
		ImageID:       b[offImageID:offVMPL],
		VMPL:          le32(offVMPL),
		SignatureAlgo: le32(offSignatureAlgo),
		CurrentTCB:    le64(offCurrentTCB),
		PlatformInfo:  le64(offPlatformInfo),
		ReportData:    b[offReportData:offMeasurement],
		Measurement:   b[offMeasurement:offHostData],
		HostData:      b[offHostData:offIDKeyDigest],
		IDKeyDigest:   b[offIDKeyDigest:offAuthorKeyDig],
		AuthorKeyDig:  b[offAuthorKeyDig:offReportID],
		ReportID:      b[offReportID:offReportIDMA],
		ReportIDMA:    b[offReportIDMA:offReportedTCB],
		ReportedTCB:   le64(offReportedTCB),
		ChipID:        b[offChipID:offCommittedTCB],
		CommittedTCB:  le64(offCommittedTCB),
		LaunchTCB:     le64(offLaunchTCB),
	}
	signer := le32(offSignerInfo)
	r.SignerInfoReserved = signer >> 5
	r.AuthorKeyEn = signer&1 != 0
	r.MaskChipKey = signer&2 != 0
	r.SigningKey = (signer >> 2) & 7
	copy(r.CurrentVersion[:], b[offCurrentBuild:offCurrentBuild+3])
	copy(r.CommittedVersion[:], b[offCommittedBld:offCommittedBld+3])
	if r.Version >= 3 {
		r.HasCPUID = true
		r.CPUIDFamily, r.CPUIDModel, r.CPUIDStepping = b[offCPUIDFamily], b[offCPUIDModel], b[offCPUIDStepping]
	}
	if r.Version >= 5 {
		r.LaunchMitVector = le64(offLaunchMit)
		r.CurrentMitVector = le64(offCurrentMit)
	}
	return r, nil
}

// Signed returns the bytes the signature covers.
func (r *Report) Signed() []byte { return r.Raw[:SignedLength] }

// KnownVersion reports whether the report's layout is one this package
// knows: versions 2, 3 and 5 (4 was never issued).
func (r *Report) KnownVersion() bool {
	return r.Version == 2 || r.Version == 3 || r.Version == 5
}

// FirstNonZeroReserved returns the offset of the first reserved byte that is
// not zero, or -1. Which bytes are reserved depends on the version.
func (r *Report) FirstNonZeroReserved() int {
	zero := [][2]int{
		{offReserved1, offReportData},
		{offCurrentBuild + 3, offCurrentBuild + 4},
		{offCommittedBld + 3, offCommittedBld + 4},
		{offSignature + 2*sigComponent, ReportSize},
	}
	if r.HasCPUID {
		zero = append(zero, [2]int{offCPUIDStepping + 1, offChipID})
	} else {
		zero = append(zero, [2]int{offCPUIDFamily, offChipID})
	}
	if r.Version >= 5 {
		zero = append(zero, [2]int{offCurrentMit + 8, SignedLength})
	} else {
		zero = append(zero, [2]int{offLaunchMit, SignedLength})
	}
	first := -1
	for _, z := range zero {
		for i := z[0]; i < z[1]; i++ {
			if r.Raw[i] != 0 {
				if first < 0 || i < first {
					first = i
				}
				break
			}
		}
	}
	return first
}

// SignatureP1363 returns the signature as r||s, each 48 bytes big-endian,
// the form WebCrypto takes. The report stores each as 72 bytes
// little-endian; a component with bits above 384 is an error.
func (r *Report) SignatureP1363() ([]byte, error) {
	out := make([]byte, 96)
	for c := range 2 {
		le := r.Raw[offSignature+c*sigComponent : offSignature+(c+1)*sigComponent]
		for _, x := range le[48:] {
			if x != 0 {
				return nil, errfmt.Errorf("%w: signature component wider than 384 bits", ErrReport)
			}
		}
		for i := range 48 {
			out[c*48+i] = le[47-i]
		}
	}
	return out, nil
}
