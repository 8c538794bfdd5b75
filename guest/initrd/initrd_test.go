package initrd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"
)

const sampleList = `
# a comment
dir   /dev            0755 0 0
nod   /dev/console    0600 0 0 c 5 1
dir   /usr            0755 0 0
dir   /usr/bin        0755 0 0
file  /usr/bin/tool   ${BIN}/tool 0755 0 0
file  /init           ${BIN}/init 0700 0 0
slink /bin            usr/bin 0777 0 0
`

func sampleFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"tool": "tool contents", "init": "#!init"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func parseChecked(t *testing.T, list string, vars map[string]string) []Entry {
	t.Helper()
	e, err := Parse(strings.NewReader(list), "sample.list", vars)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ name, list string }{
		{"unknown variable", "file /init ${NOPE}/init 0755 0 0"},
		{"unterminated variable", "file /init ${BIN/init 0755 0 0"},
		{"unknown kind", "pipe /p 0644 0 0"},
		{"too few words", "dir /dev 0755 0"},
		{"too many words", "dir /dev 0755 0 0 0"},
		{"relative name", "dir dev 0755 0 0"},
		{"unclean name", "dir /dev/../etc 0755 0 0"},
		{"root itself", "dir / 0755 0 0"},
		{"mode not octal", "dir /dev 0955 0 0"},
		{"mode too large", "dir /dev 17777 0 0"},
		{"uid not a number", "dir /dev 0755 root 0"},
		{"device type", "nod /dev/x 0600 0 0 p 1 3"},
		{"major too large", "nod /dev/x 0600 0 0 c 4096 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.list), "bad.list", map[string]string{"BIN": "/b"})
			if !errors.Is(err, ErrList) {
				t.Fatalf("Parse = %v, want ErrList", err)
			}
			if !strings.Contains(err.Error(), "bad.list:1") {
				t.Errorf("the error %q does not say where", err)
			}
		})
	}
}

func TestCheckRefuses(t *testing.T) {
	for _, tc := range []struct{ name, list string }{
		{"declared twice", "dir /dev 0755 0 0\ndir /dev 0700 0 0"},
		{"parent not declared", "file /usr/bin/x /b/x 0755 0 0"},
		{"parent is a file", "file /usr /b/x 0755 0 0\nfile /usr/x /b/x 0755 0 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(strings.NewReader(tc.list), "bad.list", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := Check(e); !errors.Is(err, ErrList) {
				t.Fatalf("Check = %v, want ErrList", err)
			}
		})
	}
}

// TestWriteReproducible: the archive depends on the declared contents only,
// not on the list's order, the files' own times and modes, or the day.
func TestWriteReproducible(t *testing.T) {
	dir := sampleFiles(t)
	vars := map[string]string{"BIN": dir}
	var a bytes.Buffer
	listed, err := Write(&a, parseChecked(t, sampleList, vars), 1700000000, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(sampleList), "\n")
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	if err := os.Chtimes(filepath.Join(dir, "tool"), time.Unix(1, 0), time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "tool"), 0o400)
	var b bytes.Buffer
	if _, err := Write(&b, parseChecked(t, strings.Join(lines, "\n"), vars), 1700000000, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two archives of the same declaration differ")
	}
	var names []string
	for _, l := range listed {
		names = append(names, l.Name)
	}
	want := "/bin /dev /dev/console /init /usr /usr/bin /usr/bin/tool"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("listed in order %q, want %q", got, want)
	}
	sum := sha256.Sum256([]byte("tool contents"))
	if l := listed[6]; l.SHA256 != hex.EncodeToString(sum[:]) || l.Size != len("tool contents") || l.Mode != "0755" {
		t.Errorf("listed %+v", l)
	}
}

// TestWriteReadBack reads the archive back with the cpio package and checks
// every field that reaches the guest.
func TestWriteReadBack(t *testing.T) {
	dir := sampleFiles(t)
	var buf bytes.Buffer
	if _, err := Write(&buf, parseChecked(t, sampleList, map[string]string{"BIN": dir}), 42, nil); err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(buf.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]cpio.Record{}
	for i, r := range recs {
		if r.Name == cpio.Trailer {
			continue
		}
		if r.MTime != 42 || r.UID != 0 || r.GID != 0 || r.Ino != uint64(i+1) {
			t.Errorf("%s: mtime %d uid %d gid %d ino %d", r.Name, r.MTime, r.UID, r.GID, r.Ino)
		}
		got[r.Name] = r
	}
	checks := []struct {
		name string
		mode uint64
		body string
	}{
		{"dev", cpio.S_IFDIR | 0o755, ""},
		{"dev/console", cpio.S_IFCHR | 0o600, ""},
		{"init", cpio.S_IFREG | 0o700, "#!init"},
		{"usr/bin/tool", cpio.S_IFREG | 0o755, "tool contents"},
		{"bin", cpio.S_IFLNK | 0o777, "usr/bin"},
	}
	for _, c := range checks {
		r, ok := got[c.name]
		if !ok {
			t.Errorf("%s is missing", c.name)
			continue
		}
		if r.Mode != c.mode {
			t.Errorf("%s: mode %o, want %o", c.name, r.Mode, c.mode)
		}
		if c.body != "" {
			b, _ := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
			if string(b) != c.body {
				t.Errorf("%s holds %q, want %q", c.name, b, c.body)
			}
		}
	}
	if c := got["dev/console"]; c.Rmajor != 5 || c.Rminor != 1 {
		t.Errorf("dev/console is %d:%d, want 5:1", c.Rmajor, c.Rminor)
	}
}

// TestWriteGNUCpio: GNU cpio, where the machine has it, lists the archive
// with the same names and kinds.
func TestWriteGNUCpio(t *testing.T) {
	gnu, err := exec.LookPath("cpio")
	if err != nil {
		t.Skip("GNU cpio is not installed; TestWriteReadBack reads the archive back instead")
	}
	dir := sampleFiles(t)
	var buf bytes.Buffer
	if _, err := Write(&buf, parseChecked(t, sampleList, map[string]string{"BIN": dir}), 42, nil); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gnu, "-t", "--quiet")
	cmd.Stdin = &buf
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "bin\ndev\ndev/console\ninit\nusr\nusr/bin\nusr/bin/tool\n"
	if string(out) != want {
		t.Errorf("cpio -t lists\n%s\nwant\n%s", out, want)
	}
}

func TestWriteRefusesMissingFile(t *testing.T) {
	e := parseChecked(t, "file /init /nonexistent/init 0755 0 0", nil)
	if _, err := Write(io.Discard, e, 0, nil); err == nil || !strings.Contains(err.Error(), "/init") {
		t.Fatalf("Write = %v, want an error naming /init", err)
	}
}

func TestCompressDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	for _, buf := range []*bytes.Buffer{&a, &b} {
		zw, err := Compress(buf)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(bytes.Repeat([]byte("cvmtrust "), 1000))
		zw.Close()
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two compressions differ")
	}
	// The gzip header: no name flag, zero time, OS Unix.
	if h := a.Bytes(); h[3] != 0 || h[4]|h[5]|h[6]|h[7] != 0 || h[9] != 3 {
		t.Errorf("gzip header % x", h[:10])
	}
}
