//go:build !(js && wasm)

package main

import (
	"go/build/constraint"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/browserdeps"
)

// TestEveryFileIsJSWasm keeps the native build free of syscall/js: every
// non-test file of this package must build only for js/wasm.
func TestEveryFileIsJSWasm(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil {
			t.Fatal(err)
		}
		var expr constraint.Expr
		for _, g := range f.Comments {
			if g.Pos() > f.Package {
				break
			}
			for _, c := range g.List {
				if constraint.IsGoBuild(c.Text) {
					if expr, err = constraint.Parse(c.Text); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
				}
			}
		}
		if expr == nil {
			t.Errorf("%s has no //go:build line; want js && wasm", name)
			continue
		}
		tags := func(want map[string]bool) func(string) bool { return func(tag string) bool { return want[tag] } }
		if !expr.Eval(tags(map[string]bool{"js": true, "wasm": true})) ||
			expr.Eval(tags(map[string]bool{"linux": true, "amd64": true})) ||
			expr.Eval(tags(map[string]bool{"wasip1": true, "wasm": true})) {
			t.Errorf("%s: //go:build %s, want exactly js && wasm", name, expr)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no source files found")
	}
}

// TestBrowserBuildLeavesOutHeavyPackages checks what the browser binary
// links: signatures go through WebCrypto, certificates through
// verifier/internal/der and sealing is in the page (hpke-js), so none of
// these may creep in (each costs tens to hundreds of KB, and go-sev-guest
// does not build for js/wasm at all). encoding/asn1 links math/big through
// its initialisation; golang.org/x/crypto/cryptobyte imports it.
func TestBrowserBuildLeavesOutHeavyPackages(t *testing.T) {
	deps := browserdeps.List(t, ".", "github.com/cvmtrust/cvmtrust/verifier", "syscall/js")
	for _, want := range []string{"github.com/cvmtrust/cvmtrust/sigstore", "github.com/cvmtrust/cvmtrust/release/provenance"} {
		if !slices.Contains(deps, want) {
			t.Errorf("the browser build does not link %s: release provenance is not in it", want)
		}
	}
	// encoding/json's decoder alone is about 100 KB of brotli; manifests,
	// statements and bundles are read with internal/strictjson. regexp and
	// its Unicode tables are as much.
	browserdeps.Refuse(t, "the widget", deps,
		"net/http", "crypto/x509", "crypto/tls", "crypto/rsa", "crypto/ecdsa", "encoding/json", "regexp",
		"crypto/hpke", "crypto/ecdh", "crypto/mlkem", "encoding/asn1", "math/big",
		"golang.org/x/crypto/cryptobyte", "github.com/cvmtrust/cvmtrust/protocol/seal",
		"google.golang.org/protobuf", "github.com/google/go-sev-guest", "github.com/sigstore")
	// SHA-2 and hex come from internal/sha2 and internal/hex: crypto/sha256
	// and crypto/sha512 sit on the FIPS 140 module, whose initialisation
	// links DRBG, AES-GCM, SHA-3 and HMAC (96 KB of brotli on an empty Go
	// wasm), and encoding/hex's error formats with fmt. The receipt's HMAC
	// is checked with WebCrypto.
	browserdeps.Refuse(t, "the widget", deps,
		"crypto/internal/fips140", "crypto/sha256", "crypto/sha512", "crypto/sha3", "crypto/hmac", "crypto/cipher",
		"crypto/aes", "crypto/rand", "crypto/internal/sysrand", "encoding/hex")
}

// TestBrowserBuildHasNoReflection: no fmt, reflect, os or safejs (see
// browserdeps.NoReflection), whatever brings them back; the error names the
// import chain.
func TestBrowserBuildHasNoReflection(t *testing.T) {
	graph := browserdeps.Imports(t, ".")
	browserdeps.RefuseReachable(t, "the widget", graph, "github.com/cvmtrust/cvmtrust/wasm", browserdeps.NoReflection, nil)
}
