//go:build !js

package sigstore

import (
	"bytes"
	"context"
	"encoding/asn1"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/cert"
)

// derCorpus is every certificate, trusted root and timestamp of the
// conformance suite and the real bundles.
type derCorpus struct {
	leaves     []*cert.Certificate
	certs      []*cert.Certificate // leaves and every authority's chain
	timestamps [][]byte
	roots      []*TrustedRoot
}

func loadDERCorpus(t *testing.T) derCorpus {
	var c derCorpus
	seen := map[string]bool{}
	addCert := func(crt *cert.Certificate, leaf bool) {
		if seen[string(crt.Raw)] {
			return
		}
		seen[string(crt.Raw)] = true
		c.certs = append(c.certs, crt)
		if leaf {
			c.leaves = append(c.leaves, crt)
		}
	}
	addBundle := func(data []byte) {
		b, err := parseBundle(data)
		if err != nil {
			return
		}
		for i, crt := range b.certs {
			addCert(crt, i == 0)
		}
		c.timestamps = append(c.timestamps, b.timestamps...)
	}
	addRoot := func(tr *TrustedRoot) {
		c.roots = append(c.roots, tr)
		for _, a := range append(append([]*authority{}, tr.cas...), tr.tsas...) {
			for _, crt := range a.chain {
				addCert(crt, false)
			}
		}
	}
	pg, err := PublicGoodTrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	addRoot(pg)
	for _, cc := range conformanceCases(t) {
		addBundle(cc.bundle)
		if cc.trustedRoot != nil {
			if tr, err := ParseTrustedRoot(cc.trustedRoot); err == nil {
				addRoot(tr)
			}
		}
	}
	for _, rc := range realCases(t) {
		data, _ := rc.load(t)
		addBundle(data)
	}
	if len(c.leaves) < 5 || len(c.timestamps) < 3 {
		t.Fatalf("corpus too small: %d leaves, %d timestamps", len(c.leaves), len(c.timestamps))
	}
	return c
}

// mutate changes one to three bytes of b, or cuts it short.
func mutate(rng *rand.Rand, b []byte) []byte {
	d := bytes.Clone(b)
	for range 1 + rng.IntN(3) {
		if len(d) == 0 {
			break
		}
		i := rng.IntN(len(d))
		switch rng.IntN(4) {
		case 0:
			d[i] = byte(rng.IntN(256))
		case 1:
			d[i] ^= 0x80
		case 2:
			d[i]++
		default:
			d = d[:i]
		}
	}
	return d
}

// variants returns b and mutations of it.
func variants(rng *rand.Rand, b []byte, n int) [][]byte {
	out := [][]byte{b}
	for range n {
		out = append(out, mutate(rng, b))
	}
	return out
}

func mutations(t *testing.T) int {
	if testing.Short() {
		return 150
	}
	return 1500
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// withExtension returns a copy of c with extension oid set to v.
func withExtension(c *cert.Certificate, oid string, v []byte) *cert.Certificate {
	d := *c
	d.Extensions = maps.Clone(c.Extensions)
	d.Extensions[oid] = v
	return &d
}

// TestCertificateExtensionsSameAsCryptobyte: subjectAltName, basic
// constraints and extended key usage read from real and mutated extension
// values give the same answers as the cryptobyte readers did.
func TestCertificateExtensionsSameAsCryptobyte(t *testing.T) {
	c := loadDERCorpus(t)
	rng := rand.New(rand.NewPCG(11, 12))
	compared := 0
	for _, crt := range c.certs {
		for _, oid := range []string{oidSAN, oidBasicConstraints, oidExtKeyUsage} {
			v, ok := crt.Extensions[oid]
			if !ok {
				continue
			}
			for _, m := range variants(rng, v, mutations(t)/10) {
				compared++
				switch oid {
				case oidSAN:
					a, aerr := parseSAN(m)
					b, berr := parseSANCB(m)
					if !reflect.DeepEqual(a, b) || errString(aerr) != errString(berr) {
						t.Fatalf("parseSAN(%x): %q %v, cryptobyte %q %v", m, a, aerr, b, berr)
					}
				case oidBasicConstraints:
					d := withExtension(crt, oid, m)
					if a, b := isCA(d), isCACB(d); a != b {
						t.Fatalf("isCA(%x): %v, cryptobyte %v", m, a, b)
					}
				case oidExtKeyUsage:
					d := withExtension(crt, oid, m)
					for _, want := range []asn1.ObjectIdentifier{asn1.ObjectIdentifier(oidCodeSigning), asn1.ObjectIdentifier(oidTimeStamping)} {
						if a, b := hasEKU(d, []int(want)), hasEKUCB(d, want); a != b {
							t.Fatalf("hasEKU(%x, %v): %v, cryptobyte %v", m, want, a, b)
						}
					}
				}
			}
		}
	}
	if compared < 100 {
		t.Fatalf("only %d extension values compared", compared)
	}
}

// TestPrecertificateSameAsCryptobyte: the TBS without the SCT extension is
// rebuilt to the same bytes, or refused alike, from real and mutated TBSs.
func TestPrecertificateSameAsCryptobyte(t *testing.T) {
	c := loadDERCorpus(t)
	rng := rand.New(rand.NewPCG(13, 14))
	rebuilt := 0
	for _, crt := range c.leaves {
		for _, m := range variants(rng, crt.RawTBS, mutations(t)) {
			a, aerr := tbsWithout(m, oidSCTList)
			b, berr := tbsWithoutCB(m, oidSCTList)
			if !bytes.Equal(a, b) || errString(aerr) != errString(berr) {
				t.Fatalf("tbsWithout(%x): %x %v, cryptobyte %x %v", m, a, aerr, b, berr)
			}
			if aerr == nil && len(a) < len(m) {
				rebuilt++
			}
		}
	}
	if rebuilt < len(c.leaves) {
		t.Fatalf("only %d precertificates rebuilt without their SCT list", rebuilt)
	}
}

// recordingSigs verifies with Go's crypto and records every call, so that
// two runs can be compared call by call.
type recordingSigs struct{ calls []string }

func (r *recordingSigs) Verify(ctx context.Context, scheme Scheme, hash Hash, spki, msg, sig []byte) error {
	err := GoSignatures{}.Verify(ctx, scheme, hash, spki, msg, sig)
	r.calls = append(r.calls, fmt.Sprintf("%v %v %x %x %x %v", scheme, hash, spki, msg, sig, err))
	return err
}

// TestSCTsSameAsCryptobyte: the embedded SCT lists of real and mutated
// leaves give the same signed data to the same keys, the same count of
// verified SCTs and the same error as with cryptobyte.
func TestSCTsSameAsCryptobyte(t *testing.T) {
	c := loadDERCorpus(t)
	rng := rand.New(rand.NewPCG(15, 16))
	ctx := context.Background()
	verified := 0
	for _, leaf := range c.leaves {
		v, ok := leaf.Extensions[oidSCTList]
		if !ok {
			continue
		}
		for _, tr := range c.roots {
			for _, ca := range tr.cas {
				issuer := ca.chain[0]
				if !bytes.Equal(issuer.RawSubject, leaf.RawIssuer) {
					continue
				}
				for _, m := range variants(rng, v, mutations(t)/10) {
					d := withExtension(leaf, oidSCTList, m)
					var ra, rb recordingSigs
					an, aerr := verifySCTs(ctx, &ra, d, issuer, tr.ctlogs)
					bn, berr := verifySCTsCB(ctx, &rb, d, issuer, tr.ctlogs)
					if an != bn || errString(aerr) != errString(berr) || !reflect.DeepEqual(ra.calls, rb.calls) {
						t.Fatalf("verifySCTs(%x): %d %v, cryptobyte %d %v; %d and %d signature calls", m, an, aerr, bn, berr, len(ra.calls), len(rb.calls))
					}
					verified += an
				}
			}
		}
	}
	if verified == 0 {
		t.Fatal("no SCT verified: the corpus does not reach the signature")
	}
}

// TestTimeStampsSameAsCryptobyte: real and mutated RFC 3161 tokens parse to
// the same fields, or are refused with the same error.
func TestTimeStampsSameAsCryptobyte(t *testing.T) {
	c := loadDERCorpus(t)
	rng := rand.New(rand.NewPCG(17, 18))
	parsed := 0
	for _, ts := range c.timestamps {
		for _, m := range variants(rng, ts, mutations(t)) {
			a, aerr := parseTimeStamp(m)
			b, berr := parseTimeStampCB(m)
			if !reflect.DeepEqual(a, b) || errString(aerr) != errString(berr) {
				t.Fatalf("parseTimeStamp(%x): %+v %v, cryptobyte %+v %v", m, a, aerr, b, berr)
			}
			if aerr == nil {
				parsed++
			}
		}
	}
	if parsed < len(c.timestamps) {
		t.Fatalf("only %d timestamps parsed", parsed)
	}
}

// TestECDSASignaturesSameAsCryptobyte: DER ECDSA signatures of real and
// mutated certificates turn into the same r||s, or are refused alike.
func TestECDSASignaturesSameAsCryptobyte(t *testing.T) {
	c := loadDERCorpus(t)
	rng := rand.New(rand.NewPCG(19, 20))
	converted := 0
	for _, crt := range c.certs {
		if scheme, _ := certAlgorithm(crt.SigAlg); scheme != ECDSA {
			continue
		}
		for _, m := range variants(rng, crt.Signature, mutations(t)/5) {
			for _, size := range []int{32, 48, 66} {
				a, aerr := derToP1363(m, size)
				b, berr := derToP1363CB(m, size)
				if !bytes.Equal(a, b) || errString(aerr) != errString(berr) {
					t.Fatalf("derToP1363(%x, %d): %x %v, cryptobyte %x %v", m, size, a, aerr, b, berr)
				}
				if aerr == nil {
					converted++
				}
			}
		}
	}
	if converted == 0 {
		t.Fatal("no ECDSA signature converted")
	}
}
