package release

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The browser build links this package: it may import the standard library
// (not os, unsafe or syscall/js), measure, internal/strictjson, internal/errfmt and internal/hex, and only
// the native statement writer may import encoding/json.
func TestImports(t *testing.T) {
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
			switch {
			case path == "github.com/cvmtrust/cvmtrust/measure", path == "github.com/cvmtrust/cvmtrust/internal/strictjson",
				path == "github.com/cvmtrust/cvmtrust/internal/errfmt", path == "github.com/cvmtrust/cvmtrust/internal/hex":
			case strings.Contains(first, "."), path == "os", path == "unsafe", path == "syscall/js":
				t.Errorf("%s imports %s", name, path)
			case path == "encoding/json" && (name != "statement_encode.go" || !strings.Contains(string(src), "//go:build !js")):
				t.Errorf("%s imports encoding/json; only the native statement writer (statement_encode.go, !js) may", name)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no files checked")
	}
}
