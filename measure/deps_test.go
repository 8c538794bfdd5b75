package measure

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The browser widget links this package: it must stay standard library only
// (and internal/strictjson, not encoding/json; internal/errfmt, not fmt; internal/endian, not encoding/binary;
// internal/sha2 and internal/hex, not crypto/sha* and encoding/hex; internal/ascii, not strings' Unicode folding) and free of syscall/js so that it builds natively and for js/wasm alike.
func TestImportsStandardLibraryOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			switch path {
			case "github.com/cvmtrust/cvmtrust/internal/strictjson", // the manifest's JSON decoder, shared with the browser build
				"github.com/cvmtrust/cvmtrust/internal/errfmt", "github.com/cvmtrust/cvmtrust/internal/endian", // the error formatter and the byte order
				"github.com/cvmtrust/cvmtrust/internal/sha2", "github.com/cvmtrust/cvmtrust/internal/hex", // SHA-2 and hex without crypto/internal/fips140 and fmt
				"github.com/cvmtrust/cvmtrust/internal/ascii": // case folding without Unicode's tables
				continue
			}
			if path == "encoding/json" {
				t.Errorf("%s imports encoding/json; manifests are read with internal/strictjson", name)
			}
			if strings.Contains(first, ".") || path == "syscall/js" || path == "os" || path == "unsafe" {
				t.Errorf("%s imports %s", name, path)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}
