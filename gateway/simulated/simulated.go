// Package simulated is a development stand-in for the AMD Secure Processor:
// a gateway.ReportSource whose reports are laid out like a real Milan guest's
// (report version 3, CPUID family/model, TCB, chip ID, policy 0x30000,
// VMPL 0) and signed by a VCEK that chains to a fake AMD root generated at
// start, and the revocation list of that root, as AMD's KDS would serve it.
// Its evidence proves nothing about hardware; a verifier accepts it only when
// explicitly told to trust the fake root.
//
// The fake certificates are built with go-sev-guest's test fakes (the same
// shape as AMD's: RSA-PSS ARK and ASK, a P-384 VCEK carrying the KDS
// extensions), with fresh keys for every Source rather than the library's
// published test keys, so nobody else can sign for a simulated root you
// chose to trust. That package links Go's testing package and registers a
// few global flags (-product, -product_name, -test_kds, -test_use_kds) on
// flag.CommandLine; this package is kept apart from package gateway so that
// only programs that want simulation pull it in.
package simulated

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/kds"
	sevtest "github.com/google/go-sev-guest/testing"
)

// DefaultMeasurement is the launch digest the simulated guest reports unless
// told otherwise: that of a published OVMF test fixture, so the demo shows a
// realistic value.
const DefaultMeasurement = "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198"

// The simulated platform: an AMD EPYC Milan B0 (CPUID family 0x19, model
// 0x01, stepping 1) at the TCB and firmware of a Milan host in the field
// with AMD-SB-3019's microcode fix (testdata/snp-reports/teekit-gcp-milan-1),
// so that it meets the floor AMD's security bulletins set for Milan
// (verifier.BulletinFloors), as a page requires by default.
const (
	kdsProduct  = "Milan" // as AMD's KDS names the product in its paths
	productName = "Milan-B0"
	cpuFamily   = 0x19
	cpuModel    = 0x01
	cpuStepping = 0x01
	// Guest policy 0x30000: ABI 0.0, SMT allowed, reserved bit 17 set as the
	// firmware requires; no debugging, no migration agent.
	guestPolicy = 0x30000
	// PLATFORM_INFO: SMT enabled, TSME enabled.
	platformInfo = 0x3
	// Firmware 1.55 build 35.
	fwMajor, fwMinor, fwBuild = 1, 55, 35
)

// DefaultTCB is the simulated platform's TCB unless Options.TCB says
// otherwise: bootloader 4, TEE 0, SNP firmware 27, microcode 0xDE (patch
// 0x0A0011DE).
var DefaultTCB = kds.TCBParts{BlSpl: 4, TeeSpl: 0, SnpSpl: 27, UcodeSpl: 0xDE}

// crlLife is how long a revocation list the source signs stays current. A
// new one is signed once half of it has passed, so that a gateway running
// for weeks never serves a stale one.
const crlLife = 24 * time.Hour

// Options configures a Source.
type Options struct {
	// Measurement is the 48-byte launch digest to report. Nil:
	// DefaultMeasurement.
	Measurement []byte
	// HostData is the 32-byte HOST_DATA to report. Nil: zeros.
	HostData []byte
	// TCB is the platform's TCB (reported, committed, current and launch,
	// and the VCEK's). Nil: DefaultTCB. Tests set an older one to show a
	// verifier refusing firmware below a floor.
	TCB *kds.TCBParts
	// Now is the clock for the certificates' validity. Nil: time.Now.
	Now func() time.Time
}

// Source is a simulated SEV-SNP guest. It is safe for concurrent use.
type Source struct {
	template []byte // a report with everything but REPORT_DATA and the signature
	vcekKey  *ecdsa.PrivateKey
	vcek     []byte // DER
	ask, ark []byte // PEM
	now      func() time.Time

	arkCert *x509.Certificate
	arkKey  *rsa.PrivateKey
	crlMu   sync.Mutex
	crl     []byte    // DER, the last one signed
	crlNum  int64     // its CRL number
	crlNext time.Time // when to sign the next
}

// New generates a fake AMD chain (fresh RSA-4096 ARK and ASK, P-384 VCEK)
// and a fixed simulated platform. It takes about a second, mostly RSA key
// generation.
func New(opts Options) (*Source, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	measurement := opts.Measurement
	if measurement == nil {
		measurement, _ = hex.DecodeString(DefaultMeasurement)
	}
	if len(measurement) != abi.MeasurementSize {
		return nil, fmt.Errorf("simulated: measurement must be %d bytes, got %d", abi.MeasurementSize, len(measurement))
	}
	hostData := opts.HostData
	if hostData == nil {
		hostData = make([]byte, abi.HostDataSize)
	}
	if len(hostData) != abi.HostDataSize {
		return nil, fmt.Errorf("simulated: host data must be %d bytes, got %d", abi.HostDataSize, len(hostData))
	}

	platformTCB := DefaultTCB
	if opts.TCB != nil {
		platformTCB = *opts.TCB
	}
	var chipID [abi.ChipIDSize]byte
	rand.Read(chipID[:])
	tcb, err := kds.ComposeTCBParts(platformTCB)
	if err != nil {
		return nil, fmt.Errorf("simulated: %w", err)
	}

	ark, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		return nil, err
	}
	ask, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		return nil, err
	}
	vcek, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	created := now().Add(-time.Hour)
	b := &sevtest.AmdSignerBuilder{
		// The builder also certifies an ASVK; it is not served, so it
		// shares the ASK's key rather than cost another RSA key.
		Keys:             &sevtest.AmdKeys{Ark: ark, Ask: ask, Asvk: ask, Vcek: vcek},
		ProductName:      productName,
		ArkCreationTime:  created,
		AskCreationTime:  created,
		AsvkCreationTime: created,
		VcekCreationTime: created,
		// A VCEK names the chip and the TCB it was issued for; a verifier
		// compares both with the report.
		VcekCustom: sevtest.CertOverride{Extensions: vcekExtensions(platformTCB, chipID)},
	}
	signer, err := b.TestOnlyCertChain()
	if err != nil {
		return nil, fmt.Errorf("simulated: building the fake AMD chain: %w", err)
	}

	r := make([]byte, abi.ReportSize)
	binary.LittleEndian.PutUint32(r[0x00:], abi.ReportVersion3)
	binary.LittleEndian.PutUint64(r[0x08:], guestPolicy)
	binary.LittleEndian.PutUint32(r[0x34:], abi.SignEcdsaP384Sha384)
	binary.LittleEndian.PutUint64(r[0x38:], uint64(tcb)) // CURRENT_TCB
	binary.LittleEndian.PutUint64(r[0x40:], platformInfo)
	// SIGNER_INFO 0: signed by the VCEK, chip ID not masked.
	copy(r[0x90:0xC0], measurement)
	copy(r[0xC0:0xE0], hostData)
	rand.Read(r[0x140:0x160]) // REPORT_ID: this guest's
	for i := 0x160; i < 0x180; i++ {
		r[i] = 0xff // REPORT_ID_MA: no migration agent
	}
	binary.LittleEndian.PutUint64(r[0x180:], uint64(tcb)) // REPORTED_TCB
	r[0x188], r[0x189], r[0x18A] = cpuFamily, cpuModel, cpuStepping
	copy(r[0x1A0:0x1E0], chipID[:])
	binary.LittleEndian.PutUint64(r[0x1E0:], uint64(tcb)) // COMMITTED_TCB
	r[0x1E8], r[0x1E9], r[0x1EA] = fwBuild, fwMinor, fwMajor
	r[0x1EC], r[0x1ED], r[0x1EE] = fwBuild, fwMinor, fwMajor
	binary.LittleEndian.PutUint64(r[0x1F0:], uint64(tcb)) // LAUNCH_TCB
	if err := abi.ValidateReportFormat(r); err != nil {
		return nil, fmt.Errorf("simulated: report layout: %w", err)
	}

	s := &Source{
		template: r,
		vcekKey:  vcek,
		vcek:     signer.Vcek.Raw,
		ask:      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: signer.Ask.Raw}),
		ark:      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: signer.Ark.Raw}),
		now:      now,
		arkCert:  signer.Ark,
		arkKey:   ark,
	}
	// Signed once now, so that a source that cannot sign its CRL fails here.
	if _, err := s.CRL(); err != nil {
		return nil, err
	}
	return s, nil
}

// vcekExtensions are the KDS extensions of a VCEK for chipID at tcb.
// AMD's KDS puts the 64 hwID bytes directly in the extension value, without
// the OCTET STRING header the fakes add; so does this.
func vcekExtensions(tcb kds.TCBParts, chipID [abi.ChipIDSize]byte) []pkix.Extension {
	exts := sevtest.CustomExtensions(tcb, chipID[:], "", productName)
	for i := range exts {
		if exts[i].Id.Equal(kds.OidHwid) {
			exts[i].Value = chipID[:]
		}
	}
	return exts
}

// GetReport implements gateway.ReportSource: it fills in REPORT_DATA and
// signs the report with the VCEK, as the AMD Secure Processor would.
func (s *Source) GetReport(ctx context.Context, reportData [64]byte) ([]byte, protocol.Certs, error) {
	r := append([]byte(nil), s.template...)
	copy(r[0x50:0x90], reportData[:])
	digest := sha512.Sum384(abi.SignedComponent(r))
	sr, ss, err := ecdsa.Sign(rand.Reader, s.vcekKey, digest[:])
	if err != nil {
		return nil, protocol.Certs{}, err
	}
	if err := abi.SetSignature(sr, ss, r); err != nil {
		return nil, protocol.Certs{}, err
	}
	return r, protocol.Certs{VCEK: s.VCEK(), Chain: string(s.Chain())}, nil
}

// SimulatedARK returns the fake AMD root (PEM), the one thing a verifier
// must be told to trust to accept this source's reports.
func (s *Source) SimulatedARK() []byte { return append([]byte(nil), s.ark...) }

// Chain returns the fake ASK then ARK, PEM, as AMD's KDS cert_chain.
func (s *Source) Chain() []byte { return append(append([]byte(nil), s.ask...), s.ark...) }

// VCEK returns the fake VCEK certificate, DER.
func (s *Source) VCEK() []byte { return append([]byte(nil), s.vcek...) }

// CRL returns the fake ARK's certificate revocation list, DER, as AMD's
// KDS serves a product's at /vcek/v1/Milan/crl: issued and signed by the
// ARK (RSA-PSS with SHA-384), current, revoking nothing.
func (s *Source) CRL() ([]byte, error) {
	s.crlMu.Lock()
	defer s.crlMu.Unlock()
	now := s.now()
	if s.crl != nil && now.Before(s.crlNext) {
		return append([]byte(nil), s.crl...), nil
	}
	s.crlNum++
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		SignatureAlgorithm: x509.SHA384WithRSAPSS,
		Number:             big.NewInt(s.crlNum),
		ThisUpdate:         now.Add(-time.Hour),
		NextUpdate:         now.Add(crlLife),
	}, s.arkCert, s.arkKey)
	if err != nil {
		return nil, fmt.Errorf("simulated: signing the CRL: %w", err)
	}
	s.crl, s.crlNext = crl, now.Add(crlLife/2)
	return append([]byte(nil), crl...), nil
}

// SimulatedKDS returns what AMD's KDS would serve at path (such as
// "/vcek/v1/Milan/crl") for the fake chain: the CRL, the only document a
// verifier needs beside the certificates the evidence carries. ok is false
// for any other path.
func (s *Source) SimulatedKDS(path string) (doc []byte, ok bool, err error) {
	if path != "/vcek/v1/"+kdsProduct+"/crl" {
		return nil, false, nil
	}
	doc, err = s.CRL()
	return doc, true, err
}

// Measurement returns the launch digest the source reports.
func (s *Source) Measurement() []byte { return append([]byte(nil), s.template[0x90:0xC0]...) }
