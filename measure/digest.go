package measure

import (
	"github.com/cvmtrust/cvmtrust/internal/endian"
	"github.com/cvmtrust/cvmtrust/internal/hex"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
)

// DigestSize is the size of a launch digest (SHA-384).
const DigestSize = sha2.Size384

// Digest is an SEV-SNP launch digest, or a partial one such as the OVMF hash.
// It marshals to lowercase hex.
type Digest [DigestSize]byte

// String returns the digest in lowercase hex, the form AMD tools print.
func (d Digest) String() string { return hex.Encode(d[:]) }

// MarshalText encodes the digest as lowercase hex.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes 96 hex digits.
func (d *Digest) UnmarshalText(text []byte) error {
	got, err := ParseDigest(string(text))
	if err != nil {
		return err
	}
	*d = got
	return nil
}

// ParseDigest decodes a 48-byte digest written as 96 hex digits.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	b, err := hex.Decode(s)
	if err != nil || len(b) != DigestSize {
		return d, errorf(ErrInvalidParams, "digest %q is not %d hex digits", truncate(s), 2*DigestSize)
	}
	copy(d[:], b)
	return d, nil
}

func truncate(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// Page types of the PAGE_INFO structure (SEV-SNP firmware ABI, SNP_LAUNCH_UPDATE).
const (
	pageTypeNormal     = 0x01
	pageTypeVMSA       = 0x02
	pageTypeZero       = 0x03
	pageTypeUnmeasured = 0x04
	pageTypeSecrets    = 0x05
	pageTypeCPUID      = 0x06
)

const (
	pageSize     = 4096
	pageInfoSize = 0x70
	// vmsaGPA is the address the firmware records for VMSA pages: the
	// all-ones GPA, page aligned and cut to 52 bits.
	vmsaGPA = 0xFFFFFFFFF000
)

// chain is the firmware's running launch digest (GCTX.LD). Every
// SNP_LAUNCH_UPDATE page extends it: LD = SHA-384(PAGE_INFO), where PAGE_INFO
// starts with the current LD.
type chain struct {
	ld   Digest
	info [pageInfoSize]byte
}

func newChain(seed Digest) *chain { return &chain{ld: seed} }

// extend adds one page: contents is SHA-384 of the page for normal and VMSA
// pages, and zero for the others.
func (c *chain) extend(pageType byte, gpa uint64, contents *Digest) {
	info := c.info[:]
	copy(info[0:48], c.ld[:])
	copy(info[48:96], contents[:])
	endian.LittleEndian.PutUint16(info[96:], pageInfoSize)
	info[98] = pageType
	info[99] = 0  // IMI_PAGE
	info[100] = 0 // VMPL3 permissions
	info[101] = 0 // VMPL2 permissions
	info[102] = 0 // VMPL1 permissions
	info[103] = 0 // reserved
	endian.LittleEndian.PutUint64(info[104:], gpa)
	c.ld = sha2.Sum384(info)
}

var zeroContents Digest

// normalPages measures data (a whole number of pages) loaded at gpa.
func (c *chain) normalPages(gpa uint64, data []byte) {
	for off := 0; off < len(data); off += pageSize {
		h := sha2.Sum384(data[off : off+pageSize])
		c.extend(pageTypeNormal, gpa+uint64(off), (*Digest)(&h))
	}
}

// emptyPages measures size bytes at gpa of a page type without contents.
func (c *chain) emptyPages(pageType byte, gpa uint64, size uint64) {
	for off := uint64(0); off < size; off += pageSize {
		c.extend(pageType, gpa+off, &zeroContents)
	}
}
