//go:build !js

package sigstore

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/browserdeps"
)

// TestBrowserBuildDeps keeps the js/wasm build lean: JSON through
// strictjson, certificates, timestamps and SCTs through internal/der,
// signatures from WebCrypto. cryptobyte imports encoding/asn1, whose
// initialisation links math/big (about 50 KB of brotli-compressed wasm);
// nothing else on the browser path links math/big.
func TestBrowserBuildDeps(t *testing.T) {
	deps := browserdeps.List(t, ".", "github.com/cvmtrust/cvmtrust/internal/der", "github.com/cvmtrust/cvmtrust/internal/strictjson")
	browserdeps.Refuse(t, "sigstore", deps, "encoding/json", "crypto/x509", "crypto/rsa", "crypto/ecdsa", "crypto/ed25519",
		"net/http", "net/url", "google.golang.org/protobuf/proto", "github.com/sigstore", "regexp",
		"encoding/asn1", "math/big", "golang.org/x/crypto/cryptobyte")
	// SHA-2 and hex from internal/sha2 and internal/hex: the standard
	// library's sit on the FIPS 140 module (AES, GCM, SHA-3, HMAC, DRBG)
	// or format with fmt.
	browserdeps.Refuse(t, "sigstore", deps, "crypto/internal/fips140", "crypto/sha256", "crypto/sha512", "crypto/hmac",
		"crypto/sha3", "crypto/cipher", "encoding/hex")
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
