package verifier

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/verifier/internal/snp"
)

// realCase is one real report from testdata/snp-reports with its facts.
type realCase struct {
	ID            string `json:"id"`
	Product       string `json:"product"`
	ReportVersion int    `json:"report_version"`
	Signer        string `json:"signer"`
	ChipID        string `json:"chip_id"`
	Measurement   string `json:"measurement"`
	ReportData    string `json:"report_data"`
	Policy        string `json:"policy"`
	ReportedTCB   string `json:"reported_tcb"`
	VMPL          int    `json:"vmpl"`
	NotBefore     string `json:"cert_not_before"`
	NotAfter      string `json:"cert_not_after"`

	dir                     string
	report, ek, chain       []byte
	notBefore, notAfter     time.Time
	measurement, reportData []byte
}

const caseTimeLayout = "Jan _2 15:04:05 2006 MST"

func loadRealCases(t testing.TB) []*realCase {
	t.Helper()
	dirs, err := filepath.Glob("../testdata/snp-reports/*/case.json")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no real reports found: %v", err)
	}
	var cases []*realCase
	for _, f := range dirs {
		c := &realCase{dir: filepath.Dir(f)}
		mustRead := func(name string) []byte {
			b, err := os.ReadFile(filepath.Join(c.dir, name))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		if err := json.Unmarshal(mustRead("case.json"), c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c.report = mustRead("report.bin")
		if c.Signer == "VLEK" {
			c.ek = mustRead("vlek.der")
		} else {
			c.ek = mustRead("vcek.der")
		}
		c.chain = mustRead("chain.pem")
		if c.notBefore, err = time.Parse(caseTimeLayout, c.NotBefore); err != nil {
			t.Fatal(err)
		}
		if c.notAfter, err = time.Parse(caseTimeLayout, c.NotAfter); err != nil {
			t.Fatal(err)
		}
		c.measurement, _ = hex.DecodeString(c.Measurement)
		c.reportData, _ = hex.DecodeString(c.ReportData)
		cases = append(cases, c)
	}
	return cases
}

// evidence returns the case's evidence with its certificates.
func (c *realCase) evidence() Evidence {
	ev := Evidence{Report: c.report, Chain: c.chain}
	if c.Signer == "VLEK" {
		ev.VLEK = c.ek
	} else {
		ev.VCEK = c.ek
	}
	return ev
}

// inWindow is a time inside every certificate of the case's chain.
func (c *realCase) inWindow() time.Time { return c.notBefore.Add(24 * time.Hour) }

func (c *realCase) expectation() Expectation {
	vmpl := c.VMPL
	return Expectation{Measurements: [][]byte{c.measurement}, ReportData: c.reportData, VMPL: &vmpl}
}

func verifierAt(t testing.TB, at time.Time) *Verifier {
	t.Helper()
	v, err := New(Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func productOf(c *realCase) snp.Product { return snp.Product(c.Product) }

func leUint64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
