package verifier

import (
	_ "embed"
	"strings"
	"sync"

	"github.com/cvmtrust/cvmtrust/internal/cert"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/hex"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
	"github.com/cvmtrust/cvmtrust/verifier/internal/snp"
)

// The pinned AMD certificate chains, one file per product and endorsement key
// type, each holding the intermediate (ASK for VCEKs, ASVK for VLEKs) and the
// ARK. They are what AMD KDS serves at /vcek/v1/{product}/cert_chain and
// /vlek/v1/{product}/cert_chain (https://kdsintf.amd.com); the same chains
// ship with github.com/google/go-sev-guest (verify/trust) and with the real
// reports in testdata/snp-reports, and a test checks all three agree.
//
// One variable per file rather than an embed.FS: reading an embed.FS links
// io/fs, path and embed's directory code (about 5 KB of brotli in the browser
// build) for six fixed names.
var (
	//go:embed amdroots/milan_vcek.pem
	milanVCEK []byte
	//go:embed amdroots/milan_vlek.pem
	milanVLEK []byte
	//go:embed amdroots/genoa_vcek.pem
	genoaVCEK []byte
	//go:embed amdroots/genoa_vlek.pem
	genoaVLEK []byte
	//go:embed amdroots/turin_vcek.pem
	turinVCEK []byte
	//go:embed amdroots/turin_vlek.pem
	turinVLEK []byte
)

// amdRootFile returns the pinned chain of a product and signer ("vcek" or
// "vlek").
func amdRootFile(p snp.Product, signer string) ([]byte, error) {
	files := map[snp.Product][2][]byte{
		snp.Milan: {milanVCEK, milanVLEK},
		snp.Genoa: {genoaVCEK, genoaVLEK},
		snp.Turin: {turinVCEK, turinVLEK},
	}
	f, ok := files[p]
	switch {
	case !ok:
		return nil, errfmt.Errorf("no pinned AMD roots for %s", string(p))
	case signer == "vcek":
		return f[0], nil
	case signer == "vlek":
		return f[1], nil
	}
	return nil, errfmt.Errorf("no pinned AMD roots for signer %q", signer)
}

// arkFingerprints pins the SHA-256 of each ARK's DER, so that a change to the
// embedded files cannot go unnoticed.
var arkFingerprints = map[snp.Product]string{
	snp.Milan: "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
	snp.Genoa: "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
	snp.Turin: "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
}

// trustedARK is a root key the verifier accepts for a product.
type trustedARK struct {
	cert      *cert.Certificate
	simulated bool
}

type productRoots struct {
	arks []trustedARK
	// pinned intermediates, used when the evidence carries no chain
	ask, asvk *cert.Certificate
}

// Roots is a set of trusted AMD root keys (ARK) and intermediates (ASK,
// ASVK) per product. A Roots is immutable once built.
type Roots struct {
	products map[snp.Product]*productRoots
	// err is set when the embedded roots failed to load (a corrupt binary);
	// New and WithSimulated report it rather than panicking in a page.
	err error
}

// AMDRoots returns the pinned AMD roots for Milan, Genoa and Turin.
func AMDRoots() *Roots {
	return pinnedRoots()
}

// The embedded roots are parsed once; Roots is immutable, so sharing is safe.
var pinnedRoots = sync.OnceValue(func() *Roots {
	r, err := loadAMDRoots()
	if err != nil {
		return &Roots{err: errfmt.Errorf("embedded AMD roots: %w", err)}
	}
	return r
})

func loadAMDRoots() (*Roots, error) {
	r := &Roots{products: map[snp.Product]*productRoots{}}
	for _, p := range snp.Products {
		pr := &productRoots{}
		for _, signer := range []string{"vcek", "vlek"} {
			data, err := amdRootFile(p, signer)
			if err != nil {
				return nil, err
			}
			certs, err := cert.ParseAll(data)
			if err != nil {
				return nil, err
			}
			if len(certs) != 2 {
				return nil, errfmt.Errorf("%s %s chain has %d certificates, want 2", p, signer, len(certs))
			}
			ark := certs[1]
			sum := sha2.Sum256(ark.Raw)
			if hex.Encode(sum[:]) != arkFingerprints[p] {
				return nil, errfmt.Errorf("%s ARK fingerprint mismatch", p)
			}
			if signer == "vcek" {
				pr.ask = certs[0]
				pr.arks = []trustedARK{{cert: ark}}
			} else {
				pr.asvk = certs[0]
			}
		}
		r.products[p] = pr
	}
	return r, nil
}

// WithSimulated returns a copy of r that also trusts the given self-signed
// ARK (PEM or DER), such as the one the gateway's simulated mode generates.
// Its product comes from its subject name ("ARK-Milan"). Evidence that
// chains to it verifies with Result.Simulated set: it proves nothing about
// hardware and is for development and tests only.
func (r *Roots) WithSimulated(ark []byte) (*Roots, error) {
	if r.err != nil {
		return nil, r.err
	}
	certs, err := cert.ParseAll(ark)
	if err != nil {
		return nil, errfmt.Errorf("simulated root: %w", err)
	}
	if len(certs) != 1 {
		return nil, errfmt.Errorf("simulated root: want exactly one certificate, got %d", len(certs))
	}
	c := certs[0]
	p, ok := productFromName(c.SubjectCN, "ARK-")
	if !ok {
		return nil, errfmt.Errorf("simulated root: subject %q does not name a known product as ARK-<product>", c.SubjectCN)
	}
	if string(c.RawIssuer) != string(c.RawSubject) {
		return nil, errfmt.Errorf("simulated root: not self-issued")
	}
	out := &Roots{products: map[snp.Product]*productRoots{}}
	for prod, pr := range r.products {
		cp := *pr
		cp.arks = append([]trustedARK(nil), pr.arks...)
		if prod == p {
			cp.arks = append(cp.arks, trustedARK{cert: c, simulated: true})
		}
		out.products[prod] = &cp
	}
	return out, nil
}

// productFromName reads a product from a common name such as "ARK-Milan",
// "SEV-Milan" or "SEV-VLEK-Milan" given its prefix.
func productFromName(cn, prefix string) (snp.Product, bool) {
	rest, ok := strings.CutPrefix(cn, prefix)
	if !ok {
		return "", false
	}
	for _, p := range snp.Products {
		if rest == string(p) {
			return p, true
		}
	}
	return "", false
}
