//go:build !js

package sigstore

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestBrowserBuildDeps keeps the js/wasm build lean: JSON through
// strictjson, certificates, timestamps and SCTs through internal/der,
// signatures from WebCrypto. cryptobyte imports encoding/asn1, whose
// initialisation links math/big (about 50 KB of brotli-compressed wasm);
// nothing else on the browser path links math/big.
func TestBrowserBuildDeps(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, want := range []string{"github.com/cvmtrust/cvmtrust/internal/der", "github.com/cvmtrust/cvmtrust/internal/strictjson"} {
		if !slices.Contains(deps, want) {
			t.Fatalf("dependency list looks wrong, %s missing: %v", want, deps)
		}
	}
	for _, banned := range []string{"encoding/json", "crypto/x509", "crypto/rsa", "crypto/ecdsa", "crypto/ed25519",
		"net/http", "net/url", "google.golang.org/protobuf/proto", "github.com/sigstore/sigstore-go/pkg/verify",
		"github.com/sigstore/sigstore-go/pkg/bundle", "regexp",
		"encoding/asn1", "math/big", "golang.org/x/crypto/cryptobyte", "golang.org/x/crypto/cryptobyte/asn1"} {
		if slices.Contains(deps, banned) {
			t.Errorf("the browser build of sigstore links %s", banned)
		}
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/sigstore/") {
			t.Errorf("the browser build of sigstore links %s", d)
		}
	}
}

// TestNoSyscallJS: the package itself never touches the JS world.
func TestNoSyscallJS(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}: {{join .Imports \" \"}}", ".")
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if !strings.Contains(string(out), "internal/cert") {
		t.Fatalf("package list looks wrong: %s", out)
	}
	if slices.Contains(strings.Fields(string(out)), "syscall/js") {
		t.Errorf("imports syscall/js: %s", out)
	}
}
