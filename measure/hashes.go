package measure

import (
	"github.com/cvmtrust/cvmtrust/internal/endian"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
)

// KernelHashes are the SHA-256 digests QEMU writes into the SEV hashes table
// when it boots a kernel directly (-kernel/-initrd/-append with
// kernel-hashes=on); OVMF checks the loaded files against them, and the
// table's page is part of the launch digest.
type KernelHashes struct {
	Kernel  SHA256 // SHA-256 of the kernel image file
	Initrd  SHA256 // SHA-256 of the initrd file; of no bytes when there is none
	Cmdline SHA256 // SHA-256 of the command line with its NUL terminator
}

// HashKernel computes the SEV hashes table entries from the kernel, initrd
// (nil when there is none) and command line ("" when there is none).
func HashKernel(kernel, initrd []byte, cmdline string) KernelHashes {
	return KernelHashes{
		Kernel:  sha2.Sum256(kernel),
		Initrd:  sha2.Sum256(initrd),
		Cmdline: CmdlineHash(cmdline),
	}
}

// CmdlineHash is the SHA-256 of the kernel command line as QEMU passes it:
// the text followed by a NUL byte (a lone NUL when there is none).
func CmdlineHash(cmdline string) SHA256 {
	return sha2.Sum256(append([]byte(cmdline), 0))
}

// GUIDs of the SEV hashes table (QEMU target/i386/sev.c, OVMF BlobVerifierSevHashes).
var (
	guidHashTableHeader = mustGUID("9438d606-4f22-4cc9-b479-a793d411fd21")
	guidHashCmdline     = mustGUID("97d02dd8-bd20-4c94-aa78-e7714d36ab2a")
	guidHashInitrd      = mustGUID("44baf731-3a2f-4bd7-9af1-41e29169781d")
	guidHashKernel      = mustGUID("4de79437-abd2-427f-b835-d5b172d2045b")
)

const (
	hashEntrySize = 16 + 2 + sha2.Size256
	hashTableSize = 16 + 2 + 3*hashEntrySize
)

// page returns the page QEMU fills: zeros, and at offset the table
// {GUID, u16 length, entries{GUID, u16 length, SHA-256} for cmdline, initrd,
// kernel}, padded to 16 bytes.
func (h *KernelHashes) page(offset uint32) []byte {
	page := make([]byte, pageSize)
	t := page[offset%pageSize:]
	copy(t, guidHashTableHeader[:])
	endian.LittleEndian.PutUint16(t[16:], hashTableSize)
	e := t[18:]
	for _, entry := range []struct {
		guid *[16]byte
		hash *SHA256
	}{{&guidHashCmdline, &h.Cmdline}, {&guidHashInitrd, &h.Initrd}, {&guidHashKernel, &h.Kernel}} {
		copy(e, entry.guid[:])
		endian.LittleEndian.PutUint16(e[16:], hashEntrySize)
		copy(e[18:], entry.hash[:])
		e = e[hashEntrySize:]
	}
	return page
}
