package measure

// A second, deliberately plain implementation of the launch digest used to
// cross-check the package on inputs the published vectors do not cover. It
// builds PAGE_INFO, the VMSA and the SEV hashes table as packed structs
// written with encoding/binary (so field offsets come from the struct
// layouts of the specs, not from the package's offset constants), and it
// measures the whole OVMF image page by page instead of starting from an
// OVMF hash.

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"testing"
)

// refPageInfo is PAGE_INFO (SEV-SNP firmware ABI, SNP_LAUNCH_UPDATE).
type refPageInfo struct {
	DigestCur  [48]byte
	Contents   [48]byte
	Length     uint16
	PageType   uint8
	ImiPage    uint8
	VMPL3Perms uint8
	VMPL2Perms uint8
	VMPL1Perms uint8
	Reserved   uint8
	GPA        uint64
}

type refSeg struct {
	Selector, Attrib uint16
	Limit            uint32
	Base             uint64
}

// refVMSA is the SEV-ES save area (AMD APM vol. 2, table B-4), packed.
type refVMSA struct {
	ES, CS, SS, DS, FS, GS, GDTR, LDTR, IDTR, TR refSeg
	VMPLSSP                                      [4]uint64
	UCET                                         uint64
	_                                            [2]byte
	VMPL, CPL                                    uint8
	_                                            [4]byte
	EFER                                         uint64
	_                                            [104]byte
	XSS, CR4, CR3, CR0, DR7, DR6, RFLAGS, RIP    uint64
	DR0123, DR0123AddrMask                       [4]uint64
	_                                            [24]byte
	RSP, SCET, SSP, ISSTAddr, RAX, STAR, LSTAR   uint64
	CSTAR, SFMASK, KernelGSBase                  uint64
	SysenterCS, SysenterESP, SysenterEIP, CR2    uint64
	_                                            [32]byte
	GPAT, DbgCtl, BrFrom, BrTo, LastExcpFrom     uint64
	LastExcpTo                                   uint64
	_                                            [80]byte
	PKRU                                         uint32
	_                                            [20]byte
	_                                            uint64
	RCX, RDX, RBX                                uint64
	_                                            uint64
	RBP, RSI, RDI                                uint64
	R8to15                                       [8]uint64
	_                                            [16]byte
	ExitInfo1, ExitInfo2, ExitIntInfo, NRIP      uint64
	SEVFeatures, VIntrCtrl, ExitCode, VirtualTOM uint64
	TLBID, PCPUID, EventInj, XCR0                uint64
	_                                            [16]byte
	X87DP                                        uint64
	MXCSR                                        uint32
	X87FTW, X87FSW, X87FCW, X87FOP, X87DS, X87CS uint16
	X87RIP                                       uint64
	FPRegX87                                     [80]byte
	FPRegXMM, FPRegYMM                           [256]byte
	_                                            [2448]byte
}

type refHashEntry struct {
	GUID [16]byte
	Len  uint16
	Hash [32]byte
}

type refHashTable struct {
	GUID                    [16]byte
	Len                     uint16
	Cmdline, Initrd, Kernel refHashEntry
	_                       [8]byte // padding to 16 bytes
}

func refPack(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type refGuest struct {
	t  testing.TB
	ld [48]byte
}

func (g *refGuest) page(pageType uint8, gpa uint64, contents [48]byte) {
	info := refPack(g.t, refPageInfo{DigestCur: g.ld, Contents: contents, Length: 0x70, PageType: pageType, GPA: gpa})
	if len(info) != 0x70 {
		g.t.Fatalf("PAGE_INFO is %d bytes", len(info))
	}
	g.ld = sha512.Sum384(info)
}

type refInput struct {
	image               []byte
	kernel, initrd      []byte // kernel nil: no direct boot
	cmdline             string
	vcpus               int
	sig                 uint32
	vmm                 VMMType
	features            uint64
	hashesGPA, resetEIP uint32
	sections            []Section
}

func refVMSAPage(t testing.TB, eip uint32, in refInput) []byte {
	v := refVMSA{
		CS:   refSeg{0xf000, 0x9b, 0xffff, uint64(eip &^ 0xffff)},
		SS:   refSeg{0, 0x93, 0xffff, 0},
		TR:   refSeg{0, 0x8b, 0xffff, 0},
		EFER: 0x1000, CR4: 0x40, CR0: 0x10, DR7: 0x400, DR6: 0xffff0ff0, RFLAGS: 2,
		RIP: uint64(eip & 0xffff), GPAT: 0x0007040600070406, RDX: uint64(in.sig),
		SEVFeatures: in.features, XCR0: 1, MXCSR: 0x1f80, X87FCW: 0x37f,
	}
	v.ES, v.DS, v.FS, v.GS = refSeg{0, 0x93, 0xffff, 0}, refSeg{0, 0x93, 0xffff, 0}, refSeg{0, 0x93, 0xffff, 0}, refSeg{0, 0x93, 0xffff, 0}
	v.GDTR, v.IDTR, v.LDTR = refSeg{Limit: 0xffff}, refSeg{Limit: 0xffff}, refSeg{0, 0x82, 0xffff, 0}
	switch in.vmm {
	case VMMEC2:
		if eip == 0xfffffff0 {
			v.CS.Attrib = 0x9a
		}
		v.SS.Attrib, v.TR.Attrib = 0x92, 0x83
		v.RDX, v.MXCSR, v.X87FCW = 0x600, 0, 0
	case VMMGCE:
		v.RDX, v.MXCSR, v.X87FCW, v.GPAT = 0x600, 0, 0, 0x70106
	}
	p := refPack(t, v)
	if len(p) != 4096 {
		t.Fatalf("VMSA is %d bytes", len(p))
	}
	return p
}

func refLaunchDigest(t testing.TB, in refInput) [48]byte {
	g := &refGuest{t: t}
	base := uint64(1<<32) - uint64(len(in.image))
	for off := 0; off < len(in.image); off += 4096 {
		g.page(1, base+uint64(off), sha512.Sum384(in.image[off:off+4096]))
	}
	var zero [48]byte
	for _, s := range in.sections {
		for off := uint64(0); off < uint64(s.Size); off += 4096 {
			gpa := uint64(s.GPA) + off
			switch {
			case s.Type == SectionSNPSecMem && in.vmm == VMMGCE:
				g.page(4, gpa, zero)
			case s.Type == SectionSNPSecMem || s.Type == SectionSVSMCAA:
				g.page(3, gpa, zero)
			case s.Type == SectionSNPSecrets:
				g.page(5, gpa, zero)
			case s.Type == SectionCPUID && in.vmm != VMMEC2:
				g.page(6, gpa, zero)
			case s.Type == SectionSNPKernelHashes && in.kernel == nil:
				g.page(3, gpa, zero)
			case s.Type == SectionSNPKernelHashes:
				entry := func(guid string, data []byte) refHashEntry {
					return refHashEntry{mustGUID(guid), 50, sha256.Sum256(data)}
				}
				table := refPack(t, refHashTable{
					GUID:    mustGUID("9438d606-4f22-4cc9-b479-a793d411fd21"),
					Len:     168,
					Cmdline: entry("97d02dd8-bd20-4c94-aa78-e7714d36ab2a", append([]byte(in.cmdline), 0)),
					Initrd:  entry("44baf731-3a2f-4bd7-9af1-41e29169781d", in.initrd),
					Kernel:  entry("4de79437-abd2-427f-b835-d5b172d2045b", in.kernel),
				})
				page := make([]byte, 4096)
				copy(page[in.hashesGPA&0xfff:], table)
				g.page(1, gpa, sha512.Sum384(page))
			}
		}
	}
	if in.vmm == VMMEC2 {
		for _, s := range in.sections {
			if s.Type == SectionCPUID {
				g.page(6, uint64(s.GPA), zero)
			}
		}
	}
	bsp := sha512.Sum384(refVMSAPage(t, 0xfffffff0, in))
	ap := sha512.Sum384(refVMSAPage(t, in.resetEIP, in))
	for i := 0; i < in.vcpus; i++ {
		if i == 0 {
			g.page(2, 0xfffffffff000, bsp)
		} else {
			g.page(2, 0xfffffffff000, ap)
		}
	}
	return g.ld
}
