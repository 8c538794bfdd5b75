// Command mkinitrd writes the guest image's initrd from declared lists (the
// format of package initrd): a gzipped newc archive, and beside it a JSON
// listing of every entry with the SHA-256 of its contents.
//
//	mkinitrd -o initrd.img -contents initrd.contents.json -mtime $SOURCE_DATE_EPOCH \
//	    -var KVER=6.12.117+deb13-cloud-amd64 -var BUILD=/build/out guest/initrd.list more.list
//
// Nothing is written unless the whole archive is: each output goes to a
// temporary file beside it first.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cvmtrust/cvmtrust/guest/initrd"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkinitrd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkinitrd", flag.ContinueOnError)
	out := fs.String("o", "", "the initrd to write (gzipped newc)")
	contents := fs.String("contents", "", "the JSON listing to write")
	mtime := fs.String("mtime", "", "modification time of every entry, in seconds since 1970 (SOURCE_DATE_EPOCH)")
	vars := map[string]string{}
	fs.Func("var", "NAME=VALUE for ${NAME} in the lists; repeatable", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return errors.New("want NAME=VALUE")
		}
		vars[k] = v
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *contents == "" || *mtime == "" || fs.NArg() == 0 {
		return errors.New("usage: mkinitrd -o FILE -contents FILE -mtime SECONDS [-var NAME=VALUE]... LIST...")
	}
	t, err := strconv.ParseUint(*mtime, 10, 32)
	if err != nil {
		return fmt.Errorf("-mtime %q is not a number of seconds", *mtime)
	}
	var entries []initrd.Entry
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		e, err := initrd.Parse(f, filepath.Base(name), vars)
		f.Close()
		if err != nil {
			return err
		}
		entries = append(entries, e...)
	}
	if err := initrd.Check(entries); err != nil {
		return err
	}
	var listed []initrd.Listed
	err = writeAtomically(*out, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		zw, err := initrd.Compress(bw)
		if err != nil {
			return err
		}
		if listed, err = initrd.Write(zw, entries, t, nil); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	return writeAtomically(*contents, func(f *os.File) error {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		return enc.Encode(listed)
	})
}

// writeAtomically writes name through a temporary file in its directory,
// renamed over it only when write succeeded.
func writeAtomically(name string, write func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
