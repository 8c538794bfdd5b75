// Package simulated is a development stand-in for the AMD Secure Processor:
// a gateway.ReportSource whose reports are laid out like a real Milan guest's
// (report version 3, CPUID family/model, TCB, chip ID, policy 0x30000,
// VMPL 0) and signed by a VCEK that chains to a fake AMD root generated at
// start. Its evidence proves nothing about hardware; a verifier accepts it
// only when explicitly told to trust the fake root.
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
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
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
// 0x01, stepping 1) at a TCB seen on Milan hosts in the field.
const (
	productName = "Milan-B0"
	cpuFamily   = 0x19
	cpuModel    = 0x01
	cpuStepping = 0x01
	// Guest policy 0x30000: ABI 0.0, SMT allowed, reserved bit 17 set as the
	// firmware requires; no debugging, no migration agent.
	guestPolicy = 0x30000
	// PLATFORM_INFO: SMT enabled, TSME enabled.
	platformInfo = 0x3
	// Firmware 1.55 build 21.
	fwMajor, fwMinor, fwBuild = 1, 55, 21
)

var platformTCB = kds.TCBParts{BlSpl: 3, TeeSpl: 0, SnpSpl: 8, UcodeSpl: 115}

// Options configures a Source.
type Options struct {
	// Measurement is the 48-byte launch digest to report. Nil:
	// DefaultMeasurement.
	Measurement []byte
	// HostData is the 32-byte HOST_DATA to report. Nil: zeros.
	HostData []byte
	// Now is the clock for the certificates' validity. Nil: time.Now.
	Now func() time.Time
}

// Source is a simulated SEV-SNP guest. It is safe for concurrent use.
type Source struct {
	template []byte // a report with everything but REPORT_DATA and the signature
	vcekKey  *ecdsa.PrivateKey
	vcek     []byte // DER
	ask, ark []byte // PEM
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
		VcekCustom: sevtest.CertOverride{Extensions: vcekExtensions(chipID)},
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

	return &Source{
		template: r,
		vcekKey:  vcek,
		vcek:     signer.Vcek.Raw,
		ask:      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: signer.Ask.Raw}),
		ark:      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: signer.Ark.Raw}),
	}, nil
}

// vcekExtensions are the KDS extensions of a VCEK for chipID at the
// platform TCB. AMD's KDS puts the 64 hwID bytes directly in the extension
// value, without the OCTET STRING header the fakes add; so does this.
func vcekExtensions(chipID [abi.ChipIDSize]byte) []pkix.Extension {
	exts := sevtest.CustomExtensions(platformTCB, chipID[:], "", productName)
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

// Measurement returns the launch digest the source reports.
func (s *Source) Measurement() []byte { return append([]byte(nil), s.template[0x90:0xC0]...) }
