//go:build !js

package release

import (
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/browserdeps"
)

// TestBrowserBuildDeps: the js/wasm build of release links neither
// encoding/asn1 nor cryptobyte (which imports it) nor math/big, whose
// formatting encoding/asn1's initialisation pulls in: about 50 KB of
// brotli-compressed wasm.
func TestBrowserBuildDeps(t *testing.T) {
	deps := browserdeps.List(t, ".", "github.com/cvmtrust/cvmtrust/measure")
	browserdeps.Refuse(t, "release", deps, "encoding/asn1", "math/big", "golang.org/x/crypto/cryptobyte", "crypto/x509")
}
