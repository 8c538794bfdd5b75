package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/verifier"
)

const snpReports = "../../testdata/snp-reports"

type cliCase struct {
	ID          string `json:"id"`
	Signer      string `json:"signer"`
	Measurement string `json:"measurement"`
	ReportData  string `json:"report_data"`
	VMPL        int    `json:"vmpl"`
	Product     string `json:"product"`
}

func loadCLICases(t *testing.T) []cliCase {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(snpReports, "*", "case.json"))
	if len(files) == 0 {
		t.Fatal("no real reports")
	}
	var out []cliCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c cliCase
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// args returns the verify arguments for a real case at a time inside its
// certificate window (2025-12-06, inside every window but the VLEK's; the
// VLEK is verified on 2025-06-01).
func (c cliCase) args(extra ...string) []string {
	dir := filepath.Join(snpReports, c.ID)
	at := "2025-12-06T00:00:00Z"
	key := []string{"--vcek", filepath.Join(dir, "vcek.der")}
	if c.Signer == "VLEK" {
		at = "2025-06-01T00:00:00Z"
		key = []string{"--vlek", filepath.Join(dir, "vlek.der")}
	}
	a := append([]string{"--report", filepath.Join(dir, "report.bin")}, key...)
	a = append(a, "--chain", filepath.Join(dir, "chain.pem"), "--at", at)
	return append(a, extra...)
}

func runVerifyCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"verify"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestVerifyCLIRealReports(t *testing.T) {
	for _, c := range loadCLICases(t) {
		t.Run(c.ID, func(t *testing.T) {
			code, out, errOut := runVerifyCLI(c.args("--measurement", c.Measurement, "--report-data", c.ReportData, "--vmpl", strconv.Itoa(c.VMPL))...)
			if code != exitOK || !strings.HasPrefix(out, "VERIFIED\n") || errOut != "" {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if strings.Contains(out, "SIMULATED") {
				t.Errorf("a real report printed SIMULATED")
			}
		})
	}
}

func TestVerifyCLIRejections(t *testing.T) {
	var vlek, genoa cliCase
	for _, c := range loadCLICases(t) {
		switch c.ID {
		case "trustee-snp-vlek-milan-aws":
			vlek = c
		case "oak-genoa":
			genoa = c
		}
	}
	wrongM := strings.Repeat("ab", 48)
	tests := []struct {
		name     string
		args     []string
		wantFail string
	}{
		{"VLEK expired today", func() []string {
			a := vlek.args()
			return append(a[:len(a)-2], "--measurement", vlek.Measurement) // no --at: verify now
		}(), "validity.vlek"},
		{"wrong measurement", genoa.args("--measurement", wrongM), "measurement"},
		{"wrong report data", genoa.args("--measurement", genoa.Measurement, "--report-data", strings.Repeat("00", 64)), "reportData"},
		{"wrong VMPL", genoa.args("--measurement", genoa.Measurement, "--vmpl", "2"), "vmpl"},
		{"TCB floor", genoa.args("--measurement", genoa.Measurement, "--min-tcb", "snp=250"), "tcb.reported"},
		{"before the VCEK was issued", append(genoa.args("--measurement", genoa.Measurement), "--at", "2020-01-01T00:00:00Z"), "validity.vcek"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := runVerifyCLI(tc.args...)
			if code != exitRejected || !strings.HasPrefix(out, "REJECTED\n") || !strings.Contains(out, "FAIL "+tc.wantFail) {
				t.Fatalf("exit %d, want %d with FAIL %s:\n%s", code, exitRejected, tc.wantFail, out)
			}
			code, out, _ = runVerifyCLI(append(tc.args, "--json")...)
			var res verifier.Result
			if code != exitRejected || json.Unmarshal([]byte(out), &res) != nil || res.Verified || res.MediaType != verifier.MediaType {
				t.Fatalf("--json: exit %d, output %s", code, out)
			}
			found := false
			for _, c := range res.Failed() {
				found = found || c.Name == tc.wantFail
			}
			if !found {
				t.Errorf("--json: %s not among the failed checks", tc.wantFail)
			}
		})
	}
}

func TestVerifyCLIUnusableInput(t *testing.T) {
	c := loadCLICases(t)[0]
	dir := filepath.Join(snpReports, c.ID)
	notReport := filepath.Join(t.TempDir(), "short.bin")
	if err := os.WriteFile(notReport, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := []string{"--measurement", c.Measurement}
	tests := map[string][]string{
		"no report":           append([]string{"--vcek", filepath.Join(dir, "vcek.der")}, m...),
		"missing file":        append([]string{"--report", filepath.Join(dir, "nope.bin"), "--vcek", filepath.Join(dir, "vcek.der")}, m...),
		"not a report":        append([]string{"--report", notReport, "--vcek", filepath.Join(dir, "vcek.der")}, m...),
		"no key":              append([]string{"--report", filepath.Join(dir, "report.bin")}, m...),
		"both keys":           append([]string{"--report", filepath.Join(dir, "report.bin"), "--vcek", "a", "--vlek", "b"}, m...),
		"no measurement":      {"--report", filepath.Join(dir, "report.bin"), "--vcek", filepath.Join(dir, "vcek.der")},
		"short measurement":   {"--measurement", "abcd"},
		"not hex":             {"--measurement", strings.Repeat("zz", 48)},
		"unsafe and explicit": append(c.args("--any-measurement-unsafe"), m...),
		"bad flag":            {"--no-such-flag"},
		"bad time":            c.args("--measurement", c.Measurement, "--at", "yesterday"),
		"bad report data":     c.args("--measurement", c.Measurement, "--report-data", "12"),
		"bad vmpl":            c.args("--measurement", c.Measurement, "--vmpl", "7"),
		"bad min-tcb":         c.args("--measurement", c.Measurement, "--min-tcb", "snp=999"),
		"unknown min-tcb":     c.args("--measurement", c.Measurement, "--min-tcb", "xyz=1"),
		"bad simulated root":  c.args("--measurement", c.Measurement, "--simulated-root", notReport),
		"stray argument":      append(c.args("--measurement", c.Measurement), "extra"),
		"bad KDS URL":         c.args("--measurement", c.Measurement, "--kds", "ftp://example"),
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runVerifyCLI(args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != exitUsage || out != "" || len(lines) != 1 || lines[0] == "" {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q: want one line on stderr", code, exitUsage, out, errOut)
			}
		})
	}
}

func TestVerifyCLIAnyMeasurementUnsafe(t *testing.T) {
	c := loadCLICases(t)[0]
	code, out, _ := runVerifyCLI(c.args("--any-measurement-unsafe")...)
	if code != exitOK || !strings.Contains(out, "skip measurement: UNSAFE") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// TestVerifyCLIKDSDown: with certificates in hand, a KDS proxy that is down
// costs only the revocation check, the output says so, and it is quick.
func TestVerifyCLIKDSDown(t *testing.T) {
	c := loadCLICases(t)[0]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	start := time.Now()
	code, out, errOut := runVerifyCLI(c.args("--measurement", c.Measurement, "--kds", "http://"+addr)...)
	if code != exitOK || !strings.Contains(out, "revocation   not checked: CRL could not be fetched") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v with the proxy down", d)
	}
}
