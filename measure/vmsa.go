package measure

import "github.com/cvmtrust/cvmtrust/internal/endian"

// VMMType names the hypervisor that launches the guest. They differ in the
// initial register state of the vCPUs (the VMSA pages) and in the order of
// the pages they measure.
type VMMType string

// VMM types, spelled as sev-snp-measure's --vmm-type.
const (
	VMMQEMU VMMType = "QEMU" // QEMU/KVM
	VMMEC2  VMMType = "ec2"  // Amazon EC2
	VMMGCE  VMMType = "gce"  // Google Compute Engine
)

// ParseVMMType accepts QEMU, ec2 or gce (case-insensitive).
func ParseVMMType(s string) (VMMType, error) {
	for _, t := range []VMMType{VMMQEMU, VMMEC2, VMMGCE} {
		if equalFoldASCII(string(t), s) {
			return t, nil
		}
	}
	return "", errorf(ErrUnknownVMMType, "%q (want QEMU, ec2 or gce)", truncate(s))
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// Offsets in the VMSA (AMD APM volume 2, table B-4, "VMSA layout, state
// save area for SEV-ES").
const (
	vmsaES      = 0x000 // segments: selector u16, attrib u16, limit u32, base u64
	vmsaCS      = 0x010
	vmsaSS      = 0x020
	vmsaDS      = 0x030
	vmsaFS      = 0x040
	vmsaGS      = 0x050
	vmsaGDTR    = 0x060
	vmsaLDTR    = 0x070
	vmsaIDTR    = 0x080
	vmsaTR      = 0x090
	vmsaEFER    = 0x0D0
	vmsaCR4     = 0x148
	vmsaCR0     = 0x158
	vmsaDR7     = 0x160
	vmsaDR6     = 0x168
	vmsaRFLAGS  = 0x170
	vmsaRIP     = 0x178
	vmsaGPAT    = 0x268
	vmsaRDX     = 0x310
	vmsaSEVFeat = 0x3B0
	vmsaXCR0    = 0x3E8
	vmsaMXCSR   = 0x408
	vmsaX87FCW  = 0x410
)

// bspEIP is the x86 reset vector, where the bootstrap processor starts.
const bspEIP = 0xFFFFFFF0

// vmsaPage builds the initial VMSA of a vCPU starting at eip as the VMM
// type sets it up (KVM's reset state with SEV-ES adjustments).
func vmsaPage(eip uint32, sevFeatures uint64, vcpuSig uint32, vmm VMMType) []byte {
	csAttr, ssAttr, trAttr := uint16(0x9B), uint16(0x93), uint16(0x8B)
	rdx := uint64(vcpuSig)
	mxcsr, fcw := uint32(0x1F80), uint16(0x37F)
	gPAT := uint64(0x0007040600070406) // the PAT MSR's reset value
	switch vmm {
	case VMMEC2:
		if eip == bspEIP {
			csAttr = 0x9A
		}
		ssAttr, trAttr = 0x92, 0x83
		rdx, mxcsr, fcw = 0x600, 0, 0
	case VMMGCE:
		rdx, mxcsr, fcw = 0x600, 0, 0
		gPAT = 0x00070106
	}

	p := make([]byte, pageSize)
	le := endian.LittleEndian
	seg := func(off int, selector, attrib uint16, limit uint32, base uint64) {
		le.PutUint16(p[off:], selector)
		le.PutUint16(p[off+2:], attrib)
		le.PutUint32(p[off+4:], limit)
		le.PutUint64(p[off+8:], base)
	}
	seg(vmsaES, 0, 0x93, 0xFFFF, 0)
	seg(vmsaCS, 0xF000, csAttr, 0xFFFF, uint64(eip&0xFFFF0000))
	seg(vmsaSS, 0, ssAttr, 0xFFFF, 0)
	seg(vmsaDS, 0, 0x93, 0xFFFF, 0)
	seg(vmsaFS, 0, 0x93, 0xFFFF, 0)
	seg(vmsaGS, 0, 0x93, 0xFFFF, 0)
	seg(vmsaGDTR, 0, 0, 0xFFFF, 0)
	seg(vmsaLDTR, 0, 0x82, 0xFFFF, 0)
	seg(vmsaIDTR, 0, 0, 0xFFFF, 0)
	seg(vmsaTR, 0, trAttr, 0xFFFF, 0)
	le.PutUint64(p[vmsaEFER:], 0x1000) // EFER.SVME, set by KVM
	le.PutUint64(p[vmsaCR4:], 0x40)    // CR4.MCE, set by KVM
	le.PutUint64(p[vmsaCR0:], 0x10)    // CR0.ET
	le.PutUint64(p[vmsaDR7:], 0x400)
	le.PutUint64(p[vmsaDR6:], 0xFFFF0FF0)
	le.PutUint64(p[vmsaRFLAGS:], 0x2)
	le.PutUint64(p[vmsaRIP:], uint64(eip&0xFFFF))
	le.PutUint64(p[vmsaGPAT:], gPAT)
	le.PutUint64(p[vmsaRDX:], rdx)
	le.PutUint64(p[vmsaSEVFeat:], sevFeatures)
	le.PutUint64(p[vmsaXCR0:], 0x1)
	le.PutUint32(p[vmsaMXCSR:], mxcsr)
	le.PutUint16(p[vmsaX87FCW:], fcw)
	return p
}
