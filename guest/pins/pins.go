// Package pins reads and writes guest/pins.lock, the one file that names
// every outside input of the guest image by version and SHA-256: the Debian
// packages of the build root, the kernel package, the edk2 source package,
// the Go toolchain, and the QEMU package a real launch must use.
//
// Each line is one input, six words separated by blanks:
//
//	KIND NAME VERSION SHA256 SIZE PATH
//
// KIND is root (a package of the build root), kernel, source (a file of a
// Debian source package; NAME is the source package), go (the toolchain
// module zip from the Go module proxy; PATH is module@version) or vmm (the
// QEMU package an SEV-SNP host must run; it is checked, not downloaded).
// PATH is the file's path below the Debian mirror. The file starts with
// "mirror URL" and "suite NAME" lines; # starts a comment.
package pins

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Kinds of input.
const (
	Root   = "root"
	Kernel = "kernel"
	Source = "source"
	Go     = "go"
	VMM    = "vmm"
)

// Input is one pinned input.
type Input struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Path    string `json:"path"`
}

// Lock is the whole file.
type Lock struct {
	Mirror, Suite string
	Inputs        []Input
}

// ErrLock means the file is malformed.
var ErrLock = errors.New("pins: malformed pins.lock")

// Parse reads a lock file.
func Parse(r io.Reader) (*Lock, error) {
	l := &Lock{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		w := strings.Fields(line)
		switch {
		case len(w) == 2 && w[0] == "mirror":
			l.Mirror = strings.TrimSuffix(w[1], "/")
		case len(w) == 2 && w[0] == "suite":
			l.Suite = w[1]
		case len(w) == 6:
			in := Input{Kind: w[0], Name: w[1], Version: w[2], SHA256: w[3], Path: w[5]}
			if !slices.Contains([]string{Root, Kernel, Source, Go, VMM}, in.Kind) {
				return nil, fmt.Errorf("%w: line %d: unknown kind %q", ErrLock, n, in.Kind)
			}
			if len(in.SHA256) != 64 || strings.Trim(in.SHA256, "0123456789abcdef") != "" {
				return nil, fmt.Errorf("%w: line %d: %q is not a SHA-256 in lower-case hex", ErrLock, n, in.SHA256)
			}
			size, err := strconv.ParseInt(w[4], 10, 64)
			if err != nil || size <= 0 {
				return nil, fmt.Errorf("%w: line %d: size %q", ErrLock, n, w[4])
			}
			in.Size = size
			l.Inputs = append(l.Inputs, in)
		default:
			return nil, fmt.Errorf("%w: line %d: want KIND NAME VERSION SHA256 SIZE PATH", ErrLock, n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if l.Mirror == "" || l.Suite == "" {
		return nil, fmt.Errorf("%w: no mirror or suite line", ErrLock)
	}
	for _, k := range []string{Root, Kernel, Source, Go, VMM} {
		if len(l.Of(k)) == 0 {
			return nil, fmt.Errorf("%w: no %s input", ErrLock, k)
		}
	}
	return l, nil
}

// Of returns the inputs of one kind, in file order.
func (l *Lock) Of(kind string) []Input {
	var out []Input
	for _, in := range l.Inputs {
		if in.Kind == kind {
			out = append(out, in)
		}
	}
	return out
}

// Write writes the lock in its canonical form: kinds in a fixed order,
// sorted by name within each, columns aligned.
func (l *Lock) Write(w io.Writer, header string) error {
	bw := bufio.NewWriter(w)
	for line := range strings.SplitSeq(strings.TrimSpace(header), "\n") {
		fmt.Fprintf(bw, "# %s\n", strings.TrimSpace(strings.TrimPrefix(line, "#")))
	}
	fmt.Fprintf(bw, "mirror %s\nsuite %s\n", l.Mirror, l.Suite)
	for _, k := range []string{Go, Source, Kernel, VMM, Root} {
		ins := l.Of(k)
		slices.SortStableFunc(ins, func(a, b Input) int { return strings.Compare(a.Name, b.Name) })
		fmt.Fprintln(bw)
		for _, in := range ins {
			fmt.Fprintf(bw, "%-6s %-34s %-36s %s %9d %s\n", in.Kind, in.Name, in.Version, in.SHA256, in.Size, in.Path)
		}
	}
	return bw.Flush()
}
