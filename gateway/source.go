package gateway

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"

	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/google/go-sev-guest/abi"
	"github.com/google/go-sev-guest/client"
)

// ReportSource asks the platform for an SEV-SNP attestation report. It must be
// safe for concurrent use.
type ReportSource interface {
	// GetReport returns a 1184-byte ATTESTATION_REPORT whose REPORT_DATA is
	// reportData, and whatever endorsement certificates the platform
	// provides (none is fine: the verifier then fetches them).
	GetReport(ctx context.Context, reportData [64]byte) (report []byte, certs protocol.Certs, err error)
}

// SimulatedSource is a ReportSource whose reports are signed by a locally
// generated chain rather than AMD hardware. The gateway serves its ARK at
// GET /simulated/ark.pem so a development page can be told to trust it, and
// its KDS documents under /simulated/kds/ so that the page can check
// revocation against that root as it would against AMD's.
type SimulatedSource interface {
	ReportSource
	// SimulatedARK returns the self-signed root of the fake chain, PEM.
	SimulatedARK() []byte
	// SimulatedKDS returns the document AMD's KDS would serve at path
	// ("/vcek/v1/Milan/crl") for the fake chain; ok is false when there is
	// none.
	SimulatedKDS(path string) (doc []byte, ok bool, err error)
}

// ErrNoSNP is returned by OpenSNP on a machine that is not an SEV-SNP guest.
var ErrNoSNP = errors.New("no SEV-SNP guest interface: neither configfs-tsm (/sys/kernel/config/tsm/report) with provider sev_guest nor /dev/sev-guest is usable; this is not an SEV-SNP Confidential VM (use --simulated for development)")

// SNPSource gets reports from the AMD Secure Processor of the SEV-SNP guest
// this process runs in, through the kernel's configfs-tsm report interface
// or, on older kernels, /dev/sev-guest. When the host has installed a
// certificate table (extended report), the VCEK or VLEK and the ASK/ASVK and
// ARK it holds are passed on.
type SNPSource struct {
	qp   client.LeveledQuoteProvider
	vmpl uint
	// The kernel serialises guest requests anyway; one at a time also keeps
	// configfs-tsm from answering EBUSY under load.
	mu sync.Mutex
}

// OpenSNP finds the SEV-SNP report interface of this guest. Reports are
// requested at the given VMPL: 0 for a guest that runs its own kernel at the
// most privileged level, higher under a paravisor or SVSM that keeps VMPL 0
// for itself. It fails with ErrNoSNP on any other machine; it never falls
// back to simulation.
func OpenSNP(vmpl uint) (*SNPSource, error) {
	if vmpl > 3 {
		return nil, fmt.Errorf("gateway: VMPL %d out of range 0-3", vmpl)
	}
	qp, err := client.GetLeveledQuoteProvider()
	if err != nil || !qp.IsSupported() {
		return nil, ErrNoSNP
	}
	return &SNPSource{qp: qp, vmpl: vmpl}, nil
}

// GetReport asks the firmware for a report at the source's VMPL.
func (s *SNPSource) GetReport(ctx context.Context, reportData [64]byte) ([]byte, protocol.Certs, error) {
	if err := ctx.Err(); err != nil {
		return nil, protocol.Certs{}, err
	}
	s.mu.Lock()
	raw, err := s.qp.GetRawQuoteAtLevel(reportData, s.vmpl)
	s.mu.Unlock()
	if err != nil {
		return nil, protocol.Certs{}, fmt.Errorf("gateway: SEV-SNP guest request failed: %w", err)
	}
	if len(raw) < abi.ReportSize {
		return nil, protocol.Certs{}, fmt.Errorf("gateway: firmware returned %d bytes, want at least %d", len(raw), abi.ReportSize)
	}
	// A copy: the gateway keeps served reports for a while, and the
	// certificate table behind this one need not stay with it.
	report := bytes.Clone(raw[:abi.ReportSize])
	certs, err := certsFromTable(raw[abi.ReportSize:])
	if err != nil {
		// The certificates are untrusted hints; without them the verifier
		// fetches the VCEK itself. A bad table is not worth failing for.
		certs = protocol.Certs{}
	}
	return report, certs, nil
}

// certsFromTable extracts the endorsement key certificate and its chain from
// an extended report's certificate table (SEV-SNP firmware ABI, GUID-keyed
// entries). An empty table yields no certificates.
func certsFromTable(table []byte) (protocol.Certs, error) {
	var certs protocol.Certs
	if len(table) == 0 {
		return certs, nil
	}
	var t abi.CertTable
	if err := t.Unmarshal(table); err != nil {
		return certs, err
	}
	get := func(guid string) []byte {
		b, err := t.GetByGUIDString(guid)
		if err != nil || len(b) == 0 {
			return nil
		}
		return b
	}
	certs.VCEK = get(abi.VcekGUID)
	if certs.VCEK == nil {
		// The table has no entry for the ASVK that signs a VLEK; the
		// verifier supplies the chain for a VLEK itself.
		certs.VLEK = get(abi.VlekGUID)
		return certs, nil
	}
	if ask := get(abi.AskGUID); ask != nil {
		certs.Chain = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ask}))
		if ark := get(abi.ArkGUID); ark != nil {
			certs.Chain += string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ark}))
		}
	}
	return certs, nil
}
