package initrd

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// Listed is one entry as written, for the listing that goes beside the
// archive: what an auditor compares without unpacking it.
type Listed struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	Mode string `json:"mode"`
	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`
	// Size and SHA256 are those of a file's contents, or a symlink's target.
	Size   int    `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// Device is "c MAJOR MINOR" or "b MAJOR MINOR".
	Device string `json:"device,omitempty"`
}

// MaxFileSize bounds one file: the whole image is unpacked into the guest's
// memory, so a file this large is a mistake in the list.
const MaxFileSize = 256 << 20

// Write writes the entries (which Check accepts) as a newc archive to w (uncompressed), sorted by
// name, each with modification time mtime, and returns what it wrote in that
// order. File contents come from readFile (os.ReadFile when nil).
func Write(w io.Writer, entries []Entry, mtime uint64, readFile func(string) ([]byte, error)) ([]Listed, error) {
	if readFile == nil {
		readFile = os.ReadFile
	}
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	cw := cpio.Newc.Writer(w)
	listed := make([]Listed, 0, len(sorted))
	for i, e := range sorted {
		l := Listed{Kind: e.Kind, Name: e.Name, Mode: fmt.Sprintf("%04o", e.Mode), UID: e.UID, GID: e.GID}
		info := cpio.Info{
			Ino:   uint64(i + 1),
			NLink: 1,
			MTime: mtime,
			UID:   uint64(e.UID),
			GID:   uint64(e.GID),
			Name:  strings.TrimPrefix(e.Name, "/"),
			Mode:  uint64(e.Mode),
		}
		var contents []byte
		switch e.Kind {
		case Dir:
			info.Mode |= cpio.S_IFDIR
			info.NLink = 2
		case File:
			b, err := readLimited(readFile, e.Source)
			if err != nil {
				return nil, fmt.Errorf("initrd: %s (%s): %w", e.Name, e.At, err)
			}
			info.Mode |= cpio.S_IFREG
			contents = b
		case Symlink:
			info.Mode |= cpio.S_IFLNK
			contents = []byte(e.Source)
		case Device:
			info.Mode |= cpio.S_IFCHR
			kind := "c"
			if e.BlockDevice {
				info.Mode, kind = info.Mode&^cpio.S_IFCHR|cpio.S_IFBLK, "b"
			}
			info.Rmajor, info.Rminor = uint64(e.Major), uint64(e.Minor)
			l.Device = fmt.Sprintf("%s %d %d", kind, e.Major, e.Minor)
		default:
			return nil, fmt.Errorf("%w: %s has unknown kind %q", ErrList, e.Name, e.Kind)
		}
		rec := cpio.Record{Info: info}
		if e.Kind == File || e.Kind == Symlink {
			rec = cpio.StaticRecord(contents, info)
			sum := sha256.Sum256(contents)
			l.Size, l.SHA256 = len(contents), hex.EncodeToString(sum[:])
		}
		if err := cw.WriteRecord(rec); err != nil {
			return nil, fmt.Errorf("initrd: writing %s: %w", e.Name, err)
		}
		listed = append(listed, l)
	}
	if err := cpio.WriteTrailer(cw); err != nil {
		return nil, fmt.Errorf("initrd: writing the trailer: %w", err)
	}
	return listed, nil
}

func readLimited(readFile func(string) ([]byte, error), name string) ([]byte, error) {
	if fi, err := os.Stat(name); err == nil && fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s is %d bytes, over the %d a file may have", name, fi.Size(), MaxFileSize)
	}
	return readFile(name)
}

// Compress returns a writer that gzips what is written to it into w the same
// way every time: the best compression, no name, no modification time, and
// the operating system byte of Unix. The kernel unpacks it
// (CONFIG_RD_GZIP). Close it to finish the stream.
func Compress(w io.Writer) (io.WriteCloser, error) {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.OS = 3 // Unix; the zero time and empty name are already the defaults
	return zw, nil
}
