package verifier

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/cert"
	"github.com/cvmtrust/cvmtrust/verifier/internal/snp"
)

// TestPinnedRootsMatchSources checks the embedded chains against the ones
// that came with the real reports (AMD KDS cert_chain) and against
// go-sev-guest's copies in the module cache.
func TestPinnedRootsMatchSources(t *testing.T) {
	r, err := loadAMDRoots()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range loadRealCases(t) {
		certs, err := cert.ParseAll(c.chain)
		if err != nil {
			t.Fatal(err)
		}
		pr := r.products[snp.Product(c.Product)]
		inter := pr.ask
		if c.Signer == "VLEK" {
			inter = pr.asvk
		}
		if !bytes.Equal(certs[0].Raw, inter.Raw) || !bytes.Equal(certs[1].Raw, pr.arks[0].cert.Raw) {
			t.Errorf("%s: chain differs from the pinned %s %s chain", c.ID, c.Product, c.Signer)
		}
	}
	for _, p := range snp.Products {
		pr := r.products[p]
		if pr.ask.SubjectCN != "SEV-"+string(p) || pr.asvk.SubjectCN != "SEV-VLEK-"+string(p) || pr.arks[0].cert.SubjectCN != "ARK-"+string(p) {
			t.Errorf("%s: unexpected names %q %q %q", p, pr.ask.SubjectCN, pr.asvk.SubjectCN, pr.arks[0].cert.SubjectCN)
		}
		if pr.arks[0].simulated {
			t.Errorf("%s: pinned ARK marked simulated", p)
		}
	}
}

func TestWithSimulatedRejectsBadRoots(t *testing.T) {
	fc := newFakeChain(t)
	for name, in := range map[string][]byte{
		"garbage":         []byte("nope"),
		"two":             append(pemCert(fc.ark), pemCert(fc.ark)...),
		"not self-issued": fc.ask,
		"not an ARK name": fc.vcek,
	} {
		if _, err := AMDRoots().WithSimulated(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	r, err := AMDRoots().WithSimulated(pemCert(fc.ark))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.products[snp.Milan].arks); n != 2 {
		t.Fatalf("Milan has %d ARKs, want pinned + simulated", n)
	}
	if n := len(AMDRoots().products[snp.Milan].arks); n != 1 {
		t.Fatalf("WithSimulated changed the pinned roots: %d ARKs", n)
	}
}

// TestRootsFilesNamed keeps the embedded files and the fingerprints in step.
func TestRootsFilesNamed(t *testing.T) {
	files, _ := filepath.Glob("amdroots/*.pem")
	if len(files) != 2*len(snp.Products) {
		t.Fatalf("%d root files, want %d", len(files), 2*len(snp.Products))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if !strings.HasPrefix(string(b), "-----BEGIN CERTIFICATE-----") {
			t.Errorf("%s is not PEM", f)
		}
	}
}
