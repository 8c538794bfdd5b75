//go:build !js

package verifier

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/browserdeps"
)

// TestBrowserBuildDeps keeps the verifier's js/wasm build lean: certificates
// are parsed with internal/der, signatures are WebCrypto's, and sealing is a
// separate package, so none of these may be linked. encoding/asn1 (which
// cryptobyte imports) links math/big's formatting through its
// initialisation: 50 KB of brotli-compressed wasm.
func TestBrowserBuildDeps(t *testing.T) {
	deps := browserdeps.List(t, ".", "github.com/cvmtrust/cvmtrust/internal/der")
	browserdeps.Refuse(t, "verifier", deps, "crypto/x509", "crypto/rsa", "crypto/ecdsa", "crypto/hpke", "net/http",
		"github.com/google/go-sev-guest/abi", "google.golang.org/protobuf/proto",
		"encoding/asn1", "math/big", "golang.org/x/crypto/cryptobyte")
	// SHA-2 and hex from internal/sha2 and internal/hex: the standard
	// library's sit on the FIPS 140 module (AES, GCM, SHA-3, HMAC, DRBG)
	// or format with fmt.
	browserdeps.Refuse(t, "verifier", deps, "crypto/internal/fips140", "crypto/sha256", "crypto/sha512", "crypto/hmac",
		"crypto/sha3", "crypto/cipher", "encoding/hex")
}

// TestNoSyscallJS: the package itself never touches the JS world (the
// standard library may, for the clock and randomness).
func TestNoSyscallJS(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}: {{join .Imports \" \"}}", "./...")
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if !strings.Contains(string(out), "verifier/internal/snp") {
		t.Fatalf("package list looks wrong: %s", out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if slices.Contains(strings.Fields(line), "syscall/js") {
			t.Errorf("imports syscall/js: %s", line)
		}
	}
}
