package simulated

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"os"
	"testing"
	"time"
)

func leafOf(t *testing.T, bundleJSON []byte) *x509.Certificate {
	t.Helper()
	var v struct {
		VerificationMaterial struct {
			Certificate struct {
				RawBytes []byte `json:"rawBytes"`
			} `json:"certificate"`
		} `json:"verificationMaterial"`
	}
	if err := json.Unmarshal(bundleJSON, &v); err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(v.VerificationMaterial.Certificate.RawBytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var oidFulcioArc = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1}

func isFulcioExtension(oid asn1.ObjectIdentifier) bool {
	return len(oid) == len(oidFulcioArc)+1 && oid[:len(oidFulcioArc)].Equal(oidFulcioArc)
}

// A simulated leaf is laid out like a certificate public-good Fulcio issued
// to a GitHub Actions workflow: same extensions in the same order with the
// same criticality and the same encodings (raw bytes for .1.1–.1.6, DER
// UTF8String from .1.8), empty subject, ten minutes' validity, ECDSA P-256
// key signed with ECDSA-SHA384. The real certificate predates .1.22, which
// Fulcio has added since; the simulated one has it, last of the arc.
func TestLeafHasFulciosLayout(t *testing.T) {
	raw, err := os.ReadFile("testdata/fulcio-github-actions-leaf.pem")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	real, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sim := leafOf(t, kind{"0.3", false, false, false}.sign(t, instance(t), testIdentity(), BreakNone))

	var simExts []string
	for _, e := range sim.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 22}) {
			continue
		}
		simExts = append(simExts, describe(e.Id, e.Critical, e.Value))
	}
	var realExts []string
	for _, e := range real.Extensions {
		realExts = append(realExts, describe(e.Id, e.Critical, e.Value))
	}
	if len(simExts) != len(realExts) {
		t.Fatalf("extensions:\n sim  %v\n real %v", simExts, realExts)
	}
	for i := range realExts {
		if simExts[i] != realExts[i] {
			t.Errorf("extension %d: simulated %s, Fulcio %s", i, simExts[i], realExts[i])
		}
	}
	if len(sim.RawSubject) != 2 || string(sim.RawSubject) != string(real.RawSubject) {
		t.Errorf("subject %x, Fulcio's %x", sim.RawSubject, real.RawSubject)
	}
	if d := sim.NotAfter.Sub(sim.NotBefore); d != real.NotAfter.Sub(real.NotBefore) || d != 10*time.Minute {
		t.Errorf("validity %v, Fulcio's %v", d, real.NotAfter.Sub(real.NotBefore))
	}
	if sim.SignatureAlgorithm != real.SignatureAlgorithm || sim.KeyUsage != real.KeyUsage ||
		len(sim.ExtKeyUsage) != 1 || sim.ExtKeyUsage[0] != real.ExtKeyUsage[0] {
		t.Errorf("signature algorithm %v key usage %v %v; Fulcio's %v %v %v",
			sim.SignatureAlgorithm, sim.KeyUsage, sim.ExtKeyUsage, real.SignatureAlgorithm, real.KeyUsage, real.ExtKeyUsage)
	}
	simKey, ok := sim.PublicKey.(*ecdsa.PublicKey)
	if !ok || simKey.Curve != elliptic.P256() {
		t.Errorf("leaf key %T", sim.PublicKey)
	}
}

// describe names an extension by OID and criticality, and for Sigstore's
// arc by its encoding: DER UTF8String or raw bytes.
func describe(oid asn1.ObjectIdentifier, critical bool, value []byte) string {
	s := oid.String()
	if critical {
		s += " critical"
	}
	if isFulcioExtension(oid) {
		var str string
		if rest, err := asn1.UnmarshalWithParams(value, &str, "utf8"); err == nil && len(rest) == 0 {
			s += " utf8"
		} else {
			s += " raw"
		}
	}
	return s
}
