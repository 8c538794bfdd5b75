// Package initrd writes the guest image's initial RAM disk: a newc cpio
// archive, byte for byte the same for the same declared contents, whoever
// builds it and wherever.
//
// # The list
//
// What goes in is declared, one entry a line, in the format of the Linux
// kernel's usr/gen_init_cpio (so a kernel developer reads it at sight), of
// which it takes four kinds:
//
//	dir   NAME MODE UID GID
//	file  NAME SOURCE MODE UID GID
//	nod   NAME MODE UID GID c|b MAJOR MINOR
//	slink NAME TARGET MODE UID GID
//
// Blank lines and lines starting with # are ignored. ${VAR} in a line is
// replaced by the value given to Parse; an unknown variable is an error, so a
// typo cannot silently drop a file. NAME is absolute; every directory that
// holds an entry must itself be declared (the kernel does not make missing
// parents), and no name may be declared twice.
//
// # Reproducibility
//
// The archive holds the entries sorted by name (so the order of the list does
// not matter), with inode numbers counted from 1 in that order, the one
// modification time given to Write, one link each, and device numbers 0: the
// bytes depend only on the names, modes, owners and contents. Files are read
// whole into memory, hashed, and written from that copy, so the listing
// Write returns describes exactly the bytes in the archive.
package initrd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Kind is the type of an entry.
type Kind string

// The kinds of entry a list declares.
const (
	Dir     Kind = "dir"
	File    Kind = "file"
	Device  Kind = "nod"
	Symlink Kind = "slink"
)

// Entry is one declared line.
type Entry struct {
	Kind Kind
	// Name is the absolute path in the guest.
	Name string
	// Source is the host file whose contents a File entry takes, or the
	// target of a Symlink.
	Source   string
	Mode     uint32 // permission bits only
	UID, GID uint32
	// BlockDevice, Major and Minor describe a Device entry.
	BlockDevice  bool
	Major, Minor uint32
	// At is where the entry was declared ("FILE:LINE"), for error messages.
	At string
}

// ErrList means the list is not a valid declaration.
var ErrList = errors.New("initrd: bad list")

// fields is the number of words of each kind of line.
var fields = map[Kind]int{Dir: 5, File: 6, Device: 8, Symlink: 6}

// Parse reads a list named name (for error messages), replacing ${VAR} with
// vars[VAR]. Check the entries of every list together with Check.
func Parse(r io.Reader, name string, vars map[string]string) ([]Entry, error) {
	var entries []Entry
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		at := fmt.Sprintf("%s:%d", name, n)
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line, err := expand(line, vars)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrList, at, err)
		}
		e, err := parseLine(strings.Fields(line))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrList, at, err)
		}
		e.At = at
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("initrd: reading %s: %w", name, err)
	}
	return entries, nil
}

// Check refuses a name declared twice and an entry whose directory is not
// declared as a dir.
func Check(entries []Entry) error {
	first := map[string]Entry{}
	for _, e := range entries {
		if d, dup := first[e.Name]; dup {
			return fmt.Errorf("%w: %s: %s is already declared at %s", ErrList, e.At, e.Name, d.At)
		}
		first[e.Name] = e
	}
	for _, e := range entries {
		dir := path.Dir(e.Name)
		if dir != "/" && first[dir].Kind != Dir {
			return fmt.Errorf("%w: %s: %s is in %s, which is not declared as a dir", ErrList, e.At, e.Name, dir)
		}
	}
	return nil
}

func parseLine(w []string) (Entry, error) {
	if len(w) == 0 {
		return Entry{}, errors.New("empty line")
	}
	e := Entry{Kind: Kind(w[0])}
	want, ok := fields[e.Kind]
	if !ok {
		return Entry{}, fmt.Errorf("unknown kind %q (want dir, file, nod or slink)", w[0])
	}
	if len(w) != want {
		return Entry{}, fmt.Errorf("%s takes %d words, got %d", e.Kind, want, len(w))
	}
	e.Name = w[1]
	if !path.IsAbs(e.Name) || path.Clean(e.Name) != e.Name || e.Name == "/" {
		return Entry{}, fmt.Errorf("name %q is not a clean absolute path below /", e.Name)
	}
	rest := w[2:]
	if e.Kind == File || e.Kind == Symlink {
		e.Source, rest = w[2], w[3:]
	}
	var err error
	if e.Mode, err = number(rest[0], 8, 0o7777, "mode"); err != nil {
		return Entry{}, err
	}
	if e.UID, err = number(rest[1], 10, 1<<32-1, "uid"); err != nil {
		return Entry{}, err
	}
	if e.GID, err = number(rest[2], 10, 1<<32-1, "gid"); err != nil {
		return Entry{}, err
	}
	if e.Kind == Device {
		switch rest[3] {
		case "c":
		case "b":
			e.BlockDevice = true
		default:
			return Entry{}, fmt.Errorf("device type %q is not c or b", rest[3])
		}
		if e.Major, err = number(rest[4], 10, 4095, "major"); err != nil {
			return Entry{}, err
		}
		if e.Minor, err = number(rest[5], 10, 1<<20-1, "minor"); err != nil {
			return Entry{}, err
		}
	}
	return e, nil
}

func number(s string, base int, max uint64, what string) (uint32, error) {
	v, err := strconv.ParseUint(s, base, 32)
	if err != nil || v > max {
		return 0, fmt.Errorf("%s %q is not a number up to %s", what, s, strconv.FormatUint(max, base))
	}
	return uint32(v), nil
}

// expand replaces every ${NAME} in s with vars[NAME].
func expand(s string, vars map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", errors.New("${ without }")
		}
		name := s[i+2 : i+j]
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("unknown variable ${%s}", name)
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
}
