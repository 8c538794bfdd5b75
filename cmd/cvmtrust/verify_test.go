package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
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
			assertNoEmptyGotWant(t, out)
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

var emptyGotWant = regexp.MustCompile(`\b(got|want)\s*([,)]|$)|\(\s*\)`)

// assertNoEmptyGotWant fails when text shows a got or want with nothing
// after it, or empty parentheses.
func assertNoEmptyGotWant(t *testing.T, text string) {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if emptyGotWant.MatchString(line) {
			t.Errorf("empty got/want printed: %q", line)
		}
	}
}

func TestFormatGotWant(t *testing.T) {
	for _, tc := range []struct {
		c    verifier.Check
		want string
	}{
		{verifier.Check{Field: "VCEK"}, " (VCEK)"},
		{verifier.Check{}, ""},
		{verifier.Check{Field: "VERSION", Got: "4", Want: "2, 3 or 5"}, " (VERSION: got 4, want 2, 3 or 5)"},
		{verifier.Check{Field: "REPORT_DATA", Got: "ab"}, " (REPORT_DATA: got ab)"},
		{verifier.Check{Want: "zero"}, " (want zero)"},
	} {
		if got := formatGotWant(tc.c); got != tc.want {
			t.Errorf("formatGotWant(%+v) = %q, want %q", tc.c, got, tc.want)
		}
		assertNoEmptyGotWant(t, formatGotWant(tc.c))
	}
}

func caseByID(t *testing.T, id string) cliCase {
	t.Helper()
	for _, c := range loadCLICases(t) {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no case %s", id)
	return cliCase{}
}

// TestVerifyCLITurinTCBLayout: a Turin report given its VCEK as --vlek is
// rejected, and the TCB it prints is the report's, decoded in Turin's
// layout (the certificate did not establish the product; the report's
// CPUID does), in text and in JSON.
func TestVerifyCLITurinTCBLayout(t *testing.T) {
	c := caseByID(t, "oak-turin")
	dir := filepath.Join(snpReports, c.ID)
	args := []string{"--report", filepath.Join(dir, "report.bin"), "--vlek", filepath.Join(dir, "vcek.der"),
		"--chain", filepath.Join(dir, "chain.pem"), "--measurement", c.Measurement, "--at", "2026-01-01T00:00:00Z"}
	code, out, errOut := runVerifyCLI(args...)
	if code != exitRejected || !strings.Contains(out, "FAIL report.signingKey") {
		t.Fatalf("exit %d, want %d with FAIL report.signingKey:\n%s%s", code, exitRejected, out, errOut)
	}
	for _, want := range []string{"product      Turin (VLEK, report v5)", "reported TCB bl=1 tee=0 snp=2 ucode=71 fmc=0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	assertNoEmptyGotWant(t, out)
	code, out, _ = runVerifyCLI(append(args, "--json")...)
	var res verifier.Result
	if code != exitRejected || json.Unmarshal([]byte(out), &res) != nil || res.Report == nil {
		t.Fatalf("--json: exit %d\n%s", code, out)
	}
	tcb := res.Report.ReportedTCB
	if res.Product != "Turin" || tcb.Bootloader != 1 || tcb.TEE != 0 || tcb.SNP != 2 || tcb.Microcode != 71 || tcb.FMC == nil || *tcb.FMC != 0 {
		t.Errorf("--json: product %q reportedTcb %+v, want Turin bl=1 tee=0 snp=2 ucode=71 fmc=0", res.Product, tcb)
	}
}

// assertOneLineExit2 checks the shape of unusable input: exit 2, nothing on
// stdout, one line on stderr with no empty got/want.
func assertOneLineExit2(t *testing.T, code int, out, errOut string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
	if code != exitUsage || out != "" || len(lines) != 1 || lines[0] == "" {
		t.Fatalf("exit %d (want %d), stdout %q, stderr %q: want one line on stderr", code, exitUsage, out, errOut)
	}
	assertNoEmptyGotWant(t, errOut)
}

// TestVerifyCLINotVerifiable: when verification cannot take place — the
// KDS proxy is down and the VCEK is not given, or a certificate file is not
// a certificate — the exit is 2 with one line, not a rejection.
func TestVerifyCLINotVerifiable(t *testing.T) {
	c := caseByID(t, "oak-genoa")
	dir := filepath.Join(snpReports, c.ID)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/"
	ln.Close()
	report := filepath.Join(dir, "report.bin")
	t.Run("KDS down, no VCEK", func(t *testing.T) {
		code, out, errOut := runVerifyCLI("--report", report, "--kds", down, "--measurement", c.Measurement)
		assertOneLineExit2(t, code, out, errOut)
		if !strings.Contains(errOut, "did not take place") {
			t.Errorf("stderr %q does not say verification did not take place", errOut)
		}
	})
	t.Run("--vcek is a report", func(t *testing.T) {
		code, out, errOut := runVerifyCLI("--report", report, "--vcek", report, "--measurement", c.Measurement)
		assertOneLineExit2(t, code, out, errOut)
		if !strings.Contains(errOut, "--vcek "+report+" is not a certificate") {
			t.Errorf("stderr %q does not name the file", errOut)
		}
	})
	t.Run("--chain is a report", func(t *testing.T) {
		code, out, errOut := runVerifyCLI("--report", report, "--vcek", filepath.Join(dir, "vcek.der"), "--chain", report, "--measurement", c.Measurement)
		assertOneLineExit2(t, code, out, errOut)
	})
}

func TestVerifyCLIAtMessage(t *testing.T) {
	c := caseByID(t, "oak-genoa")
	code, out, errOut := runVerifyCLI(c.args("--measurement", c.Measurement, "--at", "yesterday")...)
	assertOneLineExit2(t, code, out, errOut)
	if strings.Contains(errOut, "Z07:00") || !strings.Contains(errOut, "2026-01-02T15:04:05Z") {
		t.Errorf("stderr %q: want a plain message with an example, not Go's layout string", errOut)
	}
	// A date is a time too.
	code, out, errOut = runVerifyCLI(append(c.args("--measurement", c.Measurement), "--at", "2025-12-06")...)
	if code != exitOK {
		t.Errorf("--at 2025-12-06: exit %d\n%s%s", code, out, errOut)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "verify"}, {"verify", "-h"}, {"verify", "--help"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitOK || errb.Len() != 0 || !strings.HasPrefix(out.String(), "usage: cvmtrust verify") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want verify's usage on stdout", args, code, out.String(), errb.String())
		}
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitOK || errb.Len() != 0 || !strings.Contains(out.String(), "commands:") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want the command list on stdout", args, code, out.String(), errb.String())
		}
	}
	// Not asked for: usage is an error, on stderr.
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != exitUsage || out.Len() != 0 || !strings.Contains(errb.String(), "commands:") {
		t.Errorf("no arguments: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"help", "no-such"}, &out, &errb); code != exitUsage || out.Len() != 0 {
		t.Errorf("help no-such: exit %d, stdout %q", code, out.String())
	}
}

// TestVerifyUsageNamesEveryFlag: the synopsis of verify -h names every
// flag, and no flag shows a meaningless default.
func TestVerifyUsageNamesEveryFlag(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"verify", "-h"}, &out, io.Discard); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	synopsis, defaults, ok := strings.Cut(out.String(), "\nflags:\n")
	if !ok {
		t.Fatalf("no flags section:\n%s", out.String())
	}
	names := regexp.MustCompile(`(?m)^  -(\S+)`).FindAllStringSubmatch(defaults, -1)
	if len(names) < 15 {
		t.Fatalf("only %d flags listed:\n%s", len(names), defaults)
	}
	for _, n := range names {
		if !strings.Contains(synopsis, "--"+n[1]) {
			t.Errorf("the synopsis does not mention --%s", n[1])
		}
	}
	if strings.Contains(defaults, "(default -1)") || !strings.Contains(defaults, "-simulated-root") {
		t.Errorf("flags section:\n%s", defaults)
	}
}

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != exitOK || errb.Len() != 0 {
		t.Fatalf("exit %d stderr %q", code, errb.String())
	}
	for _, want := range []string{"module ", "version ", "revision ", "go        " + runtime.Version()} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPrintVersion(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/cvmtrust/cvmtrust", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	var b bytes.Buffer
	printVersion(&b, info)
	want := "module    github.com/cvmtrust/cvmtrust\nversion   v1.4.0\nrevision  0123abcd (2026-01-02T03:04:05Z), with uncommitted changes\ngo        go1.26.8\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	printVersion(&b, &debug.BuildInfo{})
	if strings.Count(b.String(), "unknown") != 4 {
		t.Errorf("no build information: %q, want unknown four times", b.String())
	}
}

// TestVersionOfBuiltBinary builds cvmtrust and checks that version prints
// what the Go toolchain recorded in the binary (go version -m): the
// module, the VCS revision when the build stamped one, and the Go version.
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; run without -short")
	}
	bin := filepath.Join(t.TempDir(), "cvmtrust")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	revision := "unknown"
	if m := regexp.MustCompile(`(?m)^\s*build\s+vcs\.revision=(\S+)`).FindSubmatch(meta); m != nil {
		revision = string(m[1])
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"module    github.com/cvmtrust/cvmtrust\n", "revision  " + revision, "go        " + runtime.Version() + "\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("version output lacks %q:\n%s\ngo version -m:\n%s", want, out, meta)
		}
	}
}
