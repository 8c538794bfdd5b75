//go:build !js

package release

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestBrowserBuildDeps: the js/wasm build of release links neither
// encoding/asn1 nor cryptobyte (which imports it) nor math/big, whose
// formatting encoding/asn1's initialisation pulls in: about 50 KB of
// brotli-compressed wasm.
func TestBrowserBuildDeps(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/cvmtrust/cvmtrust/measure") {
		t.Fatalf("dependency list looks wrong: %v", deps)
	}
	for _, banned := range []string{"encoding/asn1", "math/big", "golang.org/x/crypto/cryptobyte",
		"golang.org/x/crypto/cryptobyte/asn1", "crypto/x509"} {
		if slices.Contains(deps, banned) {
			t.Errorf("the browser build of release links %s", banned)
		}
	}
}
