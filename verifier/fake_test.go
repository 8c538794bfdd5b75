package verifier

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/cert"
)

// fakeChain is a self-made AMD-like hierarchy: ARK → ASK → VCEK, laid out
// as AMD KDS issues them, for tests that need to sign what real hardware
// would. Builders change one field at a time through the options.
type fakeChain struct {
	arkKey, askKey *rsa.PrivateKey
	vcekKey        *ecdsa.PrivateKey
	ark, ask, vcek []byte // DER
	product        string
	chipID         [64]byte
	tcb            fakeTCB
}

type fakeTCB struct{ bl, tee, snp, ucode, fmc uint8 }

// RSA key generation is slow; tests share a few keys.
var fakeKeys = sync.OnceValue(func() [3]*rsa.PrivateKey {
	var ks [3]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

var fakeEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func amdName(cn string) pkix.Name {
	return pkix.Name{OrganizationalUnit: []string{"Engineering"}, Country: []string{"US"}, Locality: []string{"Santa Clara"},
		Province: []string{"CA"}, Organization: []string{"Advanced Micro Devices"}, CommonName: cn}
}

type chainOpt func(*chainSpec)

type chainSpec struct {
	product        string
	askIssuerKey   int // index into fakeKeys of the key that signs the ASK
	askKeyIndex    int // index into fakeKeys of the ASK's own key
	vcekExtensions func(exts []pkix.Extension) []pkix.Extension
	vcekNotAfter   time.Time
	tcb            *fakeTCB // the platform's TCB; nil: bl 4, tee 0, snp 22, ucode 213 (fmc 1 on Turin)
}

func intExt(oid asn1.ObjectIdentifier, v uint8) pkix.Extension {
	b, _ := asn1.Marshal(int(v))
	return pkix.Extension{Id: oid, Value: b}
}

func newFakeChain(t testing.TB, opts ...chainOpt) *fakeChain {
	t.Helper()
	spec := chainSpec{product: "Milan", askKeyIndex: 1, vcekNotAfter: fakeEpoch.AddDate(7, 0, 0)}
	for _, o := range opts {
		o(&spec)
	}
	keys := fakeKeys()
	fc := &fakeChain{arkKey: keys[0], askKey: keys[spec.askKeyIndex], product: spec.product,
		tcb: fakeTCB{bl: 4, tee: 0, snp: 22, ucode: 213}}
	if spec.product == "Turin" {
		fc.tcb.fmc = 1
	}
	if spec.tcb != nil {
		fc.tcb = *spec.tcb
	}
	for i := range 8 {
		fc.chipID[i] = byte(0xA0 + i)
	}
	if spec.product != "Turin" {
		for i := 8; i < 64; i++ {
			fc.chipID[i] = byte(i)
		}
	}
	var err error
	fc.vcekKey, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pss := x509.SHA384WithRSAPSS
	arkTmpl := &x509.Certificate{SerialNumber: big.NewInt(0x10000), Subject: amdName("ARK-" + spec.product),
		NotBefore: fakeEpoch.AddDate(-1, 0, 0), NotAfter: fakeEpoch.AddDate(25, 0, 0), SignatureAlgorithm: pss,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	if fc.ark, err = x509.CreateCertificate(rand.Reader, arkTmpl, arkTmpl, &fc.arkKey.PublicKey, fc.arkKey); err != nil {
		t.Fatal(err)
	}
	askTmpl := &x509.Certificate{SerialNumber: big.NewInt(0x10001), Subject: amdName("SEV-" + spec.product),
		NotBefore: fakeEpoch.AddDate(-1, 0, 0), NotAfter: fakeEpoch.AddDate(25, 0, 0), SignatureAlgorithm: pss,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	arkCert, _ := x509.ParseCertificate(fc.ark)
	// The ARK's name with the signing key under test: a different key makes
	// an ASK that claims the ARK as issuer but is not signed by it.
	arkCert.PublicKey = keys[spec.askIssuerKey].Public()
	if fc.ask, err = x509.CreateCertificate(rand.Reader, askTmpl, arkCert, &fc.askKey.PublicKey, keys[spec.askIssuerKey]); err != nil {
		t.Fatal(err)
	}
	askCert, _ := x509.ParseCertificate(fc.ask)
	exts := []pkix.Extension{
		intExt(asn1.ObjectIdentifier(cert.OIDBlSPL), fc.tcb.bl), intExt(asn1.ObjectIdentifier(cert.OIDTeeSPL), fc.tcb.tee),
		intExt(asn1.ObjectIdentifier(cert.OIDSnpSPL), fc.tcb.snp), intExt(asn1.ObjectIdentifier(cert.OIDUcodeSPL), fc.tcb.ucode),
	}
	hwid := fc.chipID[:]
	if spec.product == "Turin" {
		exts = append(exts, intExt(asn1.ObjectIdentifier(cert.OIDFmcSPL), fc.tcb.fmc))
		hwid = fc.chipID[:8]
	}
	exts = append(exts, pkix.Extension{Id: asn1.ObjectIdentifier(cert.OIDHWID), Value: hwid})
	if spec.vcekExtensions != nil {
		exts = spec.vcekExtensions(exts)
	}
	vcekTmpl := &x509.Certificate{SerialNumber: big.NewInt(0), Subject: amdName("SEV-VCEK"),
		NotBefore: fakeEpoch.AddDate(0, -1, 0), NotAfter: spec.vcekNotAfter, SignatureAlgorithm: pss,
		ExtraExtensions: exts}
	if fc.vcek, err = x509.CreateCertificate(rand.Reader, vcekTmpl, askCert, &fc.vcekKey.PublicKey, fc.askKey); err != nil {
		t.Fatal(err)
	}
	return fc
}

func (fc *fakeChain) chainPEM() []byte {
	return append(pemCert(fc.ask), pemCert(fc.ark)...)
}

// roots trusts the fake ARK as a simulated root.
func (fc *fakeChain) roots(t testing.TB) *Roots {
	t.Helper()
	r, err := AMDRoots().WithSimulated(fc.ark)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (fc *fakeChain) verifier(t testing.TB) *Verifier {
	t.Helper()
	return fc.verifierAt(t, fakeEpoch)
}

func (fc *fakeChain) verifierAt(t testing.TB, at time.Time) *Verifier {
	t.Helper()
	v, err := New(Options{Roots: fc.roots(t), Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fakeReport is a report body to be signed; fields are set by the test.
type fakeReport struct {
	raw [1184]byte
}

var fakeMeasurement = func() []byte {
	m := make([]byte, 48)
	for i := range m {
		m[i] = byte(0x30 + i)
	}
	return m
}()

// newReport returns a version 3 report for the chain's chip and TCB, with
// policy 0x30000, VMPL 0 and the fake measurement.
func (fc *fakeChain) newReport() *fakeReport {
	r := &fakeReport{}
	b := r.raw[:]
	binary.LittleEndian.PutUint32(b[0x00:], 3)
	binary.LittleEndian.PutUint64(b[0x08:], 0x30000)
	binary.LittleEndian.PutUint32(b[0x34:], 1)
	tcb := fc.tcbValue()
	for _, off := range []int{0x38, 0x180, 0x1E0, 0x1F0} {
		binary.LittleEndian.PutUint64(b[off:], tcb)
	}
	copy(b[0x90:], fakeMeasurement)
	switch fc.product {
	case "Milan":
		b[0x188], b[0x189], b[0x18A] = 0x19, 0x01, 0x01
	case "Genoa":
		b[0x188], b[0x189], b[0x18A] = 0x19, 0x11, 0x01
	case "Turin":
		b[0x188], b[0x189], b[0x18A] = 0x1A, 0x02, 0x00
	}
	copy(b[0x1A0:], fc.chipID[:])
	return r
}

func (fc *fakeChain) tcbValue() uint64 {
	t := fc.tcb
	if fc.product == "Turin" {
		return uint64(t.fmc) | uint64(t.bl)<<8 | uint64(t.tee)<<16 | uint64(t.snp)<<24 | uint64(t.ucode)<<56
	}
	return uint64(t.bl) | uint64(t.tee)<<8 | uint64(t.snp)<<48 | uint64(t.ucode)<<56
}

// sign signs the report with the chain's VCEK, storing R and S little-endian.
func (fc *fakeChain) sign(t testing.TB, r *fakeReport) []byte {
	t.Helper()
	digest := sha512.Sum384(r.raw[:0x2A0])
	rr, ss, err := ecdsa.Sign(rand.Reader, fc.vcekKey, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	out := r.raw
	for i := range 0x200 {
		out[0x2A0+i] = 0
	}
	putLE := func(off int, v *big.Int) {
		be := v.FillBytes(make([]byte, 48))
		for i := range 48 {
			out[off+i] = be[47-i]
		}
	}
	putLE(0x2A0, rr)
	putLE(0x2A0+0x48, ss)
	return out[:]
}

func (fc *fakeChain) evidence(report []byte) Evidence {
	return Evidence{Report: report, VCEK: fc.vcek, Chain: fc.chainPEM()}
}

// crl returns a CRL signed by key (the ARK's by default) revoking serials.
func (fc *fakeChain) crl(t testing.TB, key *rsa.PrivateKey, thisUpdate, nextUpdate time.Time, serials ...*big.Int) []byte {
	t.Helper()
	arkCert, _ := x509.ParseCertificate(fc.ark)
	var entries []x509.RevocationListEntry
	for _, s := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: thisUpdate})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		SignatureAlgorithm: x509.SHA384WithRSAPSS, Number: big.NewInt(1), ThisUpdate: thisUpdate, NextUpdate: nextUpdate,
		RevokedCertificateEntries: entries,
	}, arkCert, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

var _ crypto.Signer = (*rsa.PrivateKey)(nil)
