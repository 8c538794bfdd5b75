package measure

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/cvmtrust/cvmtrust/internal/endian"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/hex"
)

// SectionType is the type of an OVMF SEV metadata section: it says how the
// VMM hands those pages to SNP_LAUNCH_UPDATE.
type SectionType uint32

// SEV metadata section types (OvmfPkg/ResetVector, QEMU's sev.c).
const (
	SectionSNPSecMem       SectionType = 1    // pre-validated memory: zero pages
	SectionSNPSecrets      SectionType = 2    // the secrets page
	SectionCPUID           SectionType = 3    // the CPUID page
	SectionSVSMCAA         SectionType = 4    // SVSM calling area: zero pages
	SectionSNPKernelHashes SectionType = 0x10 // the SEV hashes table page
)

var sectionNames = map[SectionType]string{
	SectionSNPSecMem:       "SNP_SEC_MEM",
	SectionSNPSecrets:      "SNP_SECRETS",
	SectionCPUID:           "CPUID",
	SectionSVSMCAA:         "SVSM_CAA",
	SectionSNPKernelHashes: "SNP_KERNEL_HASHES",
}

func (t SectionType) String() string {
	if n, ok := sectionNames[t]; ok {
		return n
	}
	return errfmt.Sprintf("SectionType(%#x)", uint32(t))
}

// MarshalText writes the section type by name, e.g. "SNP_SEC_MEM".
func (t SectionType) MarshalText() ([]byte, error) {
	if _, ok := sectionNames[t]; !ok {
		return nil, errorf(ErrMalformedOVMF, "unknown SEV metadata section type %#x", uint32(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads a section type name, e.g. "SNP_SEC_MEM".
func (t *SectionType) UnmarshalText(text []byte) error {
	for k, n := range sectionNames {
		if n == string(text) {
			*t = k
			return nil
		}
	}
	return errorf(ErrMalformedManifest, "unknown SEV metadata section type %q", truncate(string(text)))
}

// Section is one SEV metadata section descriptor of the OVMF image.
type Section struct {
	GPA  uint32      `json:"gpa"`
	Size uint32      `json:"size"`
	Type SectionType `json:"type"`
}

// Layout is what the launch digest needs from an OVMF image besides the
// image's own pages: the SEV metadata sections, the SEV-ES reset vector and
// the address of the SEV hashes table. It comes from ParseOVMF, or from a
// release manifest when the image itself is not at hand.
type Layout struct {
	// ResetEIP is the address where application processors start (the
	// SEV-ES reset block of the footer table).
	ResetEIP uint32 `json:"sev_es_reset_eip"`
	// HashesTableGPA is the address of the SEV hashes table, or 0 when the
	// image has none. Only its offset within the page is measured.
	HashesTableGPA uint32 `json:"sev_hashes_table_gpa,omitempty"`
	// Sections are the SEV metadata sections, in image order.
	Sections []Section `json:"sections"`
}

// Limits that keep hostile inputs (a manifest from the network) cheap.
const (
	maxOVMFSize     = 1 << 32 // the image ends at 4 GiB
	maxSections     = 64
	maxSectionPages = 1 << 14 // 64 MiB of metadata pages in all
)

// GUIDs of OVMF's footer table, in their on-disk (mixed-endian) byte order.
var (
	guidFooterTable    = mustGUID("96b582de-1fb2-45f7-baea-a366c55a082d")
	guidSEVESReset     = mustGUID("00f771de-1a7e-4fcb-890e-68c77e2fb44e")
	guidSEVMetadata    = mustGUID("dc886566-984a-4798-a75e-5585a7bf67cc")
	guidSEVHashTableRV = mustGUID("7255371f-3a3b-4b04-927b-1da6efa8d454")
)

// ParseOVMF reads the GUIDed footer table at the end of an OVMF image (the
// image is mapped so that it ends at 4 GiB) and the SEV metadata it points
// to. It does not hash the image: see OVMFHash.
func ParseOVMF(image []byte) (Layout, error) {
	var l Layout
	if err := checkImageSize(len(image)); err != nil {
		return l, err
	}
	table, err := footerTable(image)
	if err != nil {
		return l, err
	}

	reset, ok := table[guidSEVESReset]
	if !ok {
		return l, errorf(ErrNoSEVMetadata, "no SEV-ES reset block in the footer table")
	}
	if len(reset) < 4 {
		return l, errorf(ErrMalformedOVMF, "SEV-ES reset block is %d bytes, want at least 4", len(reset))
	}
	l.ResetEIP = endian.LittleEndian.Uint32(reset)

	if ht, ok := table[guidSEVHashTableRV]; ok {
		if len(ht) < 8 {
			return l, errorf(ErrMalformedOVMF, "SEV hashes table entry is %d bytes, want at least 8", len(ht))
		}
		// Builds without the table (OvmfPkgX64) carry the entry with address 0.
		l.HashesTableGPA = endian.LittleEndian.Uint32(ht)
	}

	meta, ok := table[guidSEVMetadata]
	if !ok {
		return l, errorf(ErrNoSEVMetadata, "no SEV metadata entry in the footer table")
	}
	if len(meta) < 4 {
		return l, errorf(ErrMalformedOVMF, "SEV metadata entry is %d bytes, want at least 4", len(meta))
	}
	l.Sections, err = metadataSections(image, endian.LittleEndian.Uint32(meta))
	if err != nil {
		return l, err
	}
	return l, l.validate(ErrMalformedOVMF)
}

func checkImageSize(n int) error {
	if n == 0 || n%pageSize != 0 || uint64(n) > maxOVMFSize {
		return errorf(ErrMalformedOVMF, "image is %d bytes, want a non-zero multiple of %d up to 4 GiB", n, pageSize)
	}
	return nil
}

// footerTable returns the entries of the footer table by GUID. The table
// ends 32 bytes before the end of the image (the reset vector follows it);
// each entry is its data followed by a 2-byte length (data+18) and its GUID,
// and the table is read backwards from the footer entry.
func footerTable(image []byte) (map[[16]byte][]byte, error) {
	const entryHeader = 2 + 16
	end := len(image) - 32
	if end < entryHeader || !bytes.Equal(image[end-16:end], guidFooterTable[:]) {
		return nil, ErrNoFooterTable
	}
	total := int(endian.LittleEndian.Uint16(image[end-entryHeader:]))
	if total < entryHeader || total > end {
		return nil, errorf(ErrMalformedOVMF, "footer table length %d out of range", total)
	}
	tbl := image[end-total : end-entryHeader]
	entries := make(map[[16]byte][]byte)
	for len(tbl) > 0 {
		if len(tbl) < entryHeader {
			return nil, errorf(ErrMalformedOVMF, "footer table has %d stray bytes", len(tbl))
		}
		var guid [16]byte
		copy(guid[:], tbl[len(tbl)-16:])
		size := int(endian.LittleEndian.Uint16(tbl[len(tbl)-entryHeader:]))
		if size < entryHeader || size > len(tbl) {
			return nil, errorf(ErrMalformedOVMF, "footer table entry %s has length %d out of range", guidString(guid), size)
		}
		if _, dup := entries[guid]; dup {
			return nil, errorf(ErrMalformedOVMF, "footer table entry %s appears twice", guidString(guid))
		}
		entries[guid] = tbl[len(tbl)-size : len(tbl)-entryHeader]
		tbl = tbl[:len(tbl)-size]
	}
	return entries, nil
}

// metadataSections reads the SEV metadata ("ASEV" header, then 12-byte
// descriptors) that starts offsetFromEnd bytes before the end of the image.
func metadataSections(image []byte, offsetFromEnd uint32) ([]Section, error) {
	const headerSize, descSize = 16, 12
	if uint64(offsetFromEnd) > uint64(len(image)) || offsetFromEnd < headerSize {
		return nil, errorf(ErrMalformedOVMF, "SEV metadata offset %#x out of range", offsetFromEnd)
	}
	m := image[len(image)-int(offsetFromEnd):]
	if string(m[0:4]) != "ASEV" {
		return nil, errorf(ErrMalformedOVMF, "SEV metadata signature is %q, want \"ASEV\"", m[0:4])
	}
	length := endian.LittleEndian.Uint32(m[4:])
	version := endian.LittleEndian.Uint32(m[8:])
	count := endian.LittleEndian.Uint32(m[12:])
	if version != 1 {
		return nil, errorf(ErrMalformedOVMF, "SEV metadata version %d, want 1", version)
	}
	if uint64(length) > uint64(len(m)) || length < headerSize || count > maxSections ||
		uint64(count)*descSize > uint64(length-headerSize) {
		return nil, errorf(ErrMalformedOVMF, "SEV metadata length %d with %d sections does not fit", length, count)
	}
	sections := make([]Section, count)
	for i := range sections {
		d := m[headerSize+i*descSize:]
		sections[i] = Section{
			GPA:  endian.LittleEndian.Uint32(d[0:]),
			Size: endian.LittleEndian.Uint32(d[4:]),
			Type: SectionType(endian.LittleEndian.Uint32(d[8:])),
		}
	}
	return sections, nil
}

// validate checks what the launch digest relies on; bad is the sentinel to
// report (the image or a manifest).
func (l *Layout) validate(bad error) error {
	if len(l.Sections) > maxSections {
		return errorf(bad, "%d SEV metadata sections, at most %d", len(l.Sections), maxSections)
	}
	if l.ResetEIP == 0 {
		return errorf(bad, "SEV-ES reset address is 0")
	}
	if off := l.HashesTableGPA % pageSize; off > pageSize-hashTableSize {
		return errorf(bad, "SEV hashes table at %#x crosses a page boundary", l.HashesTableGPA)
	}
	pages := uint64(0)
	for i, s := range l.Sections {
		if _, ok := sectionNames[s.Type]; !ok {
			return errorf(bad, "section %d has unknown type %#x", i, uint32(s.Type))
		}
		if s.GPA%pageSize != 0 || s.Size == 0 || s.Size%pageSize != 0 {
			return errorf(bad, "section %d (%v) at %#x size %#x is not whole pages", i, s.Type, s.GPA, s.Size)
		}
		if s.Type == SectionSNPKernelHashes && s.Size != pageSize {
			return errorf(bad, "SNP_KERNEL_HASHES section is %#x bytes, want one page", s.Size)
		}
		pages += uint64(s.Size / pageSize)
	}
	if pages > maxSectionPages {
		return errorf(bad, "SEV metadata sections cover %d pages, at most %d", pages, maxSectionPages)
	}
	return nil
}

// String writes the layout in the words of the manifest, addresses in hex,
// for error messages: reset_eip 0xffffff00, hashes_table_gpa 0x80b000,
// sections [SNP_SEC_MEM 0x800000+0x9000 ...].
func (l Layout) String() string {
	b := []byte("reset_eip ")
	b = appendHex(b, l.ResetEIP)
	b = append(b, ", hashes_table_gpa "...)
	b = appendHex(b, l.HashesTableGPA)
	b = append(b, ", sections ["...)
	for i, s := range l.Sections {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, s.Type.String()...)
		b = append(b, ' ')
		b = appendHex(b, s.GPA)
		b = append(b, '+')
		b = appendHex(b, s.Size)
	}
	return string(append(b, ']'))
}

func appendHex(b []byte, v uint32) []byte {
	return strconv.AppendUint(append(b, "0x"...), uint64(v), 16)
}

func (l *Layout) equal(o *Layout) bool {
	return l.ResetEIP == o.ResetEIP && l.HashesTableGPA == o.HashesTableGPA && slices.Equal(l.Sections, o.Sections)
}

func (l *Layout) has(t SectionType) bool {
	for _, s := range l.Sections {
		if s.Type == t {
			return true
		}
	}
	return false
}

// OVMFHash returns the launch digest after the firmware measured the OVMF
// image's pages, loaded so that the image ends at 4 GiB: the value
// sev-snp-measure prints with --mode snp:ovmf-hash. Release tooling
// publishes it so that a client can finish the launch digest without the
// image (see Params.OVMFHash).
func OVMFHash(image []byte) (Digest, error) {
	if err := checkImageSize(len(image)); err != nil {
		return Digest{}, err
	}
	c := newChain(Digest{})
	c.normalPages(maxOVMFSize-uint64(len(image)), image)
	return c.ld, nil
}

// mustGUID converts a GUID literal to the byte order EFI stores: the first
// three groups little-endian, the rest as written.
func mustGUID(s string) [16]byte {
	// The dashes dropped by hand: strings.ReplaceAll would link
	// strings.Replace (5 KB of code) into the browser build for this alone.
	digits := make([]byte, 0, 32)
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			digits = append(digits, s[i])
		}
	}
	raw, err := hex.Decode(string(digits))
	if err != nil || len(raw) != 16 {
		panic("measure: bad GUID literal " + s)
	}
	var g [16]byte
	g[0], g[1], g[2], g[3] = raw[3], raw[2], raw[1], raw[0]
	g[4], g[5] = raw[5], raw[4]
	g[6], g[7] = raw[7], raw[6]
	copy(g[8:], raw[8:])
	return g
}

func guidString(g [16]byte) string {
	return errfmt.Sprintf("%08x-%04x-%04x-%x-%x",
		endian.LittleEndian.Uint32(g[0:]), endian.LittleEndian.Uint16(g[4:]),
		endian.LittleEndian.Uint16(g[6:]), g[8:10], g[10:])
}
