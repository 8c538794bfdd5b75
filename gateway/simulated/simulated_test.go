package simulated

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/verifier"
	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/go-sev-guest/validate"
	"github.com/google/go-sev-guest/verify"
	"github.com/google/go-sev-guest/verify/trust"
)

// Key generation dominates; one source serves every test that does not
// need its own.
var (
	sharedOnce sync.Once
	shared     *Source
	sharedErr  error
)

func sharedSource(t *testing.T) *Source {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = New(Options{}) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// oracle checks a report with go-sev-guest's own verify and validate
// packages, trusting only the chain in chainPEM.
func oracle(t *testing.T, report, vcek, chainPEM []byte, wantReportData, wantMeasurement []byte) error {
	t.Helper()
	pr, err := abi.ReportToProto(report)
	if err != nil {
		return err
	}
	var ders [][]byte
	for rest := chainPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		ders = append(ders, b.Bytes)
	}
	if len(ders) != 2 {
		t.Fatalf("chain has %d certificates, want ASK and ARK", len(ders))
	}
	att := &spb.Attestation{
		Report:           pr,
		CertificateChain: &spb.CertificateChain{VcekCert: vcek, AskCert: ders[0], ArkCert: ders[1]},
	}
	root := trust.AMDRootCertsProduct("Milan")
	if err := root.FromKDSCertBytes(chainPEM); err != nil {
		t.Fatal(err)
	}
	err = verify.SnpAttestation(att, &verify.Options{
		DisableCertFetching: true,
		Now:                 time.Now(),
		TrustedRoots:        map[string][]*trust.AMDRootCerts{"Milan": {root}},
	})
	if err != nil {
		return err
	}
	vmpl := 0
	return validate.SnpAttestation(att, &validate.Options{
		ReportData:  wantReportData,
		Measurement: wantMeasurement,
		VMPL:        &vmpl,
		GuestPolicy: abi.SnpPolicy{SMT: true},
	})
}

func TestReportVerifiesWithGoSevGuest(t *testing.T) {
	s := sharedSource(t)
	var rd [64]byte
	copy(rd[:], "a fresh binding")
	report, certs, err := s.GetReport(context.Background(), rd)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString(DefaultMeasurement)

	// Negative cases first: every one must fail.
	tampered := bytes.Clone(report)
	tampered[0x90] ^= 1
	if oracle(t, tampered, certs.VCEK, []byte(certs.Chain), rd[:], tampered[0x90:0xC0]) == nil {
		t.Error("a report with a changed measurement still verifies")
	}
	other := bytes.Clone(rd[:])
	other[0] ^= 1
	if oracle(t, report, certs.VCEK, []byte(certs.Chain), other, want) == nil {
		t.Error("a report verifies against other REPORT_DATA")
	}
	if oracle(t, report, certs.VCEK, []byte(certs.Chain), rd[:], make([]byte, 48)) == nil {
		t.Error("a report verifies against another measurement")
	}

	if err := oracle(t, report, certs.VCEK, []byte(certs.Chain), rd[:], want); err != nil {
		t.Fatalf("go-sev-guest rejects the simulated report: %v", err)
	}
}

func TestReportLooksLikeMilan(t *testing.T) {
	s := sharedSource(t)
	report, certs, err := s.GetReport(context.Background(), [64]byte{})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := abi.ReportToProto(report)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Version < 3 || pr.Policy != 0x30000 || pr.Vmpl != 0 || pr.SignerInfo != 0 {
		t.Errorf("version %d policy %#x vmpl %d signer info %#x; want >=3, 0x30000, 0, 0", pr.Version, pr.Policy, pr.Vmpl, pr.SignerInfo)
	}
	if p := abi.SevProductFromCpuid1Eax(pr.Cpuid1EaxFms); p.Name != spb.SevProduct_SEV_PRODUCT_MILAN {
		t.Errorf("CPUID %#x is product %v, want Milan", pr.Cpuid1EaxFms, p.Name)
	}
	cert, err := x509.ParseCertificate(certs.VCEK)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := kds.VcekCertificateExtensions(cert)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ext.HWID, pr.ChipId) {
		t.Errorf("VCEK hwID %x, report CHIP_ID %x", ext.HWID, pr.ChipId)
	}
	if uint64(ext.TCBVersion) != pr.ReportedTcb {
		t.Errorf("VCEK TCB %#x, report REPORTED_TCB %#x", uint64(ext.TCBVersion), pr.ReportedTcb)
	}
	if ext.ProductName != "Milan-B0" {
		t.Errorf("VCEK product name %q, want Milan-B0", ext.ProductName)
	}
	// Two reports for the same data carry fresh signatures but the same
	// platform fields.
	again, _, err := s.GetReport(context.Background(), [64]byte{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(report[:0x2A0], again[:0x2A0]) || bytes.Equal(report, again) {
		t.Error("reports for the same data should differ only in their signature")
	}
}

func TestOptions(t *testing.T) {
	if _, err := New(Options{Measurement: make([]byte, 47)}); err == nil {
		t.Error("a 47-byte measurement is accepted")
	}
	if _, err := New(Options{HostData: make([]byte, 31)}); err == nil {
		t.Error("31 bytes of host data are accepted")
	}
	m := bytes.Repeat([]byte{0xab}, 48)
	s, err := New(Options{Measurement: m})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Measurement(), m) {
		t.Errorf("measurement %x, want %x", s.Measurement(), m)
	}
	// A second source has its own root: the first one's chain does not
	// vouch for it.
	report, certs, err := s.GetReport(context.Background(), [64]byte{})
	if err != nil {
		t.Fatal(err)
	}
	if err := oracle(t, report, certs.VCEK, sharedSource(t).Chain(), make([]byte, 64), m); err == nil {
		t.Error("a report verifies under another simulated root")
	}
}

// kdsOf serves what src's simulated KDS serves, as verifier.Fetcher.
type kdsOf struct{ src *Source }

func (k kdsOf) Fetch(_ context.Context, path string) ([]byte, error) {
	doc, ok, err := k.src.SimulatedKDS(path)
	if err == nil && !ok {
		err = errors.New("not found: " + path)
	}
	return doc, err
}

// verifyWithDefaults verifies a report of src as a page does by default
// (the bulletins' TCB floor, revocation required), trusting src's root and
// fetching the CRL from kds.
func verifyWithDefaults(t *testing.T, src *Source, kds verifier.Fetcher) (*verifier.Result, error) {
	t.Helper()
	roots, err := verifier.AMDRoots().WithSimulated(src.SimulatedARK())
	if err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(verifier.Options{Roots: roots, Fetcher: kds})
	if err != nil {
		t.Fatal(err)
	}
	report, certs, err := src.GetReport(context.Background(), [64]byte{})
	if err != nil {
		t.Fatal(err)
	}
	vmpl := 0
	return v.Verify(context.Background(), verifier.Evidence{Report: report, VCEK: certs.VCEK, Chain: []byte(certs.Chain)},
		verifier.Expectation{Measurements: [][]byte{src.Measurement()}, VMPL: &vmpl, BulletinTCBFloor: true, RequireRevocationCheck: true})
}

// TestMeetsThePageDefaults: a simulated report verifies under the defaults a
// page has (the bulletins' TCB floor for Milan, revocation checked against
// the simulated KDS's CRL); an older platform, and another root's CRL, fail.
func TestMeetsThePageDefaults(t *testing.T) {
	src := sharedSource(t)
	other, err := New(Options{TCB: &kds.TCBParts{BlSpl: 3, SnpSpl: 8, UcodeSpl: 115}})
	if err != nil {
		t.Fatal(err)
	}

	// Negative cases first.
	_, err = verifyWithDefaults(t, other, kdsOf{other})
	if rej, ok := errors.AsType[*verifier.RejectedError](err); !ok || !errors.Is(err, verifier.ErrTCBTooLow) {
		t.Errorf("a platform at microcode 115 passes the bulletins' floor: %v", err)
	} else if f := rej.Result.TCBFloor; f == nil || f.Floor.Microcode != 0xDB || rej.Result.Revocation != "checked" {
		t.Errorf("floor %+v, revocation %q; want microcode 0xDB from the bulletins, revocation checked", f, rej.Result.Revocation)
	}
	if _, err := verifyWithDefaults(t, src, kdsOf{other}); !errors.Is(err, verifier.ErrBadCRL) {
		t.Errorf("another simulated root's CRL is accepted: %v", err)
	}
	if _, err := verifyWithDefaults(t, src, nil); !errors.Is(err, verifier.ErrRevocationUnchecked) {
		t.Errorf("no CRL at all passes the revocation check: %v", err)
	}

	res, err := verifyWithDefaults(t, src, kdsOf{src})
	if err != nil {
		t.Fatalf("a simulated report fails a page's defaults: %v", err)
	}
	if res.Revocation != "checked" || res.TCBFloor == nil || res.TCBFloor.Line != string(verifier.LineMilan) {
		t.Errorf("revocation %q, floor %+v; want checked, Milan's", res.Revocation, res.TCBFloor)
	}
}

// TestSimulatedKDS: the CRL is the fake ARK's (issuer, RSA-PSS signature),
// current, revokes nothing, and is signed anew once half its life has
// passed; no other path is served.
func TestSimulatedKDS(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	src, err := New(Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/vcek/v1/Genoa/crl", "/vcek/v1/Milan/cert_chain", "/vcek/v1/Milan/crl/", "vcek/v1/Milan/crl", ""} {
		if doc, ok, err := src.SimulatedKDS(p); ok || doc != nil || err != nil {
			t.Errorf("SimulatedKDS(%q) = %d bytes, %v, %v; want nothing", p, len(doc), ok, err)
		}
	}
	read := func() *x509.RevocationList {
		t.Helper()
		doc, ok, err := src.SimulatedKDS("/vcek/v1/Milan/crl")
		if !ok || err != nil {
			t.Fatalf("no CRL: %v, %v", ok, err)
		}
		crl, err := x509.ParseRevocationList(doc)
		if err != nil {
			t.Fatal(err)
		}
		return crl
	}
	ark, _ := pem.Decode(src.SimulatedARK())
	arkCert, err := x509.ParseCertificate(ark.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	first := read()
	if err := first.CheckSignatureFrom(arkCert); err != nil {
		t.Errorf("the CRL is not signed by the ARK: %v", err)
	}
	if first.SignatureAlgorithm != x509.SHA384WithRSAPSS || len(first.RevokedCertificateEntries) != 0 ||
		now.Before(first.ThisUpdate) || !now.Before(first.NextUpdate) {
		t.Errorf("CRL %v, %d revoked, %v .. %v; want RSA-PSS SHA-384, none revoked, current at %v",
			first.SignatureAlgorithm, len(first.RevokedCertificateEntries), first.ThisUpdate, first.NextUpdate, now)
	}
	now = now.Add(crlLife/2 - time.Minute)
	if again := read(); !bytes.Equal(again.Raw, first.Raw) {
		t.Error("the CRL was signed again before half its life")
	}
	now = now.Add(2 * time.Minute)
	renewed := read()
	if renewed.Number.Cmp(first.Number) <= 0 || !renewed.NextUpdate.After(first.NextUpdate) || now.Before(renewed.ThisUpdate) {
		t.Errorf("after half its life: CRL number %v (was %v), next update %v (was %v)", renewed.Number, first.Number, renewed.NextUpdate, first.NextUpdate)
	}
}
