package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/kdsclient"
	"github.com/cvmtrust/cvmtrust/verifier"
)

func init() {
	register("verify", "verify an SEV-SNP attestation report against the pinned AMD roots", runVerify)
}

// hexList collects repeated --measurement flags.
type hexList [][]byte

func (h *hexList) String() string { return fmt.Sprint(len(*h)) }
func (h *hexList) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		b, err := hex.DecodeString(strings.TrimSpace(part))
		if err != nil {
			return fmt.Errorf("not hex: %q", part)
		}
		if len(b) != 48 {
			return fmt.Errorf("measurement must be 48 bytes (96 hex digits), got %d bytes", len(b))
		}
		*h = append(*h, b)
	}
	return nil
}

// verifyFlags is the parsed command line of cvmtrust verify.
type verifyFlags struct {
	report, vcek, vlek, chain, crl, at, reportData, minTCB, simulatedRoot, kds string
	measurements                                                               hexList
	anyMeasurement, jsonOut                                                    bool
	vmpl                                                                       int
}

const verifyUsage = `usage: cvmtrust verify --report FILE (--vcek FILE | --vlek FILE | --kds URL) [--chain FILE]
                       [--crl FILE] [--at RFC3339] (--measurement HEX ... | --any-measurement-unsafe)
                       [--report-data HEX] [--min-tcb bl=N,tee=N,snp=N,ucode=N,fmc=N] [--vmpl N] [--json]

Verifies an SEV-SNP attestation report against the pinned AMD roots.
Exit status: 0 verified, 1 rejected (the failed checks are printed),
2 unusable input.

flags:
`

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", verifyUsage, stderr)
	var f verifyFlags
	fs.StringVar(&f.report, "report", "", "attestation report `file` (1184 bytes)")
	fs.StringVar(&f.vcek, "vcek", "", "VCEK certificate `file` (PEM or DER)")
	fs.StringVar(&f.vlek, "vlek", "", "VLEK certificate `file` (PEM or DER)")
	fs.StringVar(&f.chain, "chain", "", "ASK/ASVK (+ ARK) `file`; default: the pinned AMD chain")
	fs.StringVar(&f.crl, "crl", "", "AMD CRL `file` for the product (DER or PEM)")
	fs.StringVar(&f.at, "at", "", "verify as of this RFC 3339 `time` (default now)")
	fs.Var(&f.measurements, "measurement", "allowed launch measurement, 96 hex digits (repeatable, or comma-separated)")
	fs.BoolVar(&f.anyMeasurement, "any-measurement-unsafe", false, "UNSAFE: accept any launch measurement (the guest may run any code)")
	fs.StringVar(&f.reportData, "report-data", "", "expected REPORT_DATA, 128 hex digits")
	fs.StringVar(&f.minTCB, "min-tcb", "", "TCB floor, e.g. bl=3,tee=0,snp=8,ucode=115,fmc=0")
	fs.IntVar(&f.vmpl, "vmpl", -1, "expected VMPL (0-3)")
	fs.StringVar(&f.simulatedRoot, "simulated-root", "", "also trust this simulated ARK `file` (development only; the result says SIMULATED)")
	fs.StringVar(&f.kds, "kds", "", "KDS proxy base `URL` to fetch a missing VCEK and the CRL from (fails fast; revocation is reported as not checked when it is down)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the result as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	v, ev, exp, err := f.build()
	if err != nil {
		return usageError(stderr, "%v", err)
	}
	res, err := v.Verify(context.Background(), ev, exp)
	var rej *verifier.RejectedError
	switch {
	case err == nil:
	case errors.As(err, &rej):
		res = rej.Result
	default:
		return usageError(stderr, "%v", err)
	}
	if f.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return usageError(stderr, "%v", err)
		}
	} else {
		printResult(stdout, res)
	}
	if !res.Verified {
		return exitRejected
	}
	return exitOK
}

// newFlagSet returns the flag set of subcommand name, whose -h prints
// header and then the flags.
func newFlagSet(name, header string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("cvmtrust "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, header) }
	return fs
}

// parseFlags parses args; done is true when the command must exit with
// code at once. -h prints the usage and exits 0. A bad flag prints one
// line, "cvmtrust NAME: reason", and exits 2; so does a stray argument.
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	stderr := fs.Output()
	usage := fs.Usage
	fs.SetOutput(io.Discard) // the flag package's own message is replaced below
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		fs.PrintDefaults()
		return exitOK, true
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return exitUsage, true
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, true
	}
	return 0, false
}

func usageError(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "cvmtrust: "+format+"\n", a...)
	return exitUsage
}

// build turns the flags into a verifier, evidence and expectation, reading
// every file. Any error here is unusable input (exit 2).
func (f *verifyFlags) build() (*verifier.Verifier, verifier.Evidence, verifier.Expectation, error) {
	var ev verifier.Evidence
	var exp verifier.Expectation
	if f.report == "" {
		return nil, ev, exp, errors.New("--report is required")
	}
	if f.vcek != "" && f.vlek != "" || f.vcek == "" && f.vlek == "" && f.kds == "" {
		return nil, ev, exp, errors.New("give exactly one of --vcek or --vlek (or --kds to fetch the VCEK)")
	}
	if len(f.measurements) == 0 && !f.anyMeasurement {
		return nil, ev, exp, errors.New("give --measurement HEX (or, to skip the check, --any-measurement-unsafe)")
	}
	if len(f.measurements) > 0 && f.anyMeasurement {
		return nil, ev, exp, errors.New("--measurement and --any-measurement-unsafe contradict each other")
	}
	var err error
	read := func(name, path string, dst *[]byte) {
		if err != nil || path == "" {
			return
		}
		if *dst, err = os.ReadFile(path); err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		}
	}
	read("--report", f.report, &ev.Report)
	read("--vcek", f.vcek, &ev.VCEK)
	read("--vlek", f.vlek, &ev.VLEK)
	read("--chain", f.chain, &ev.Chain)
	read("--crl", f.crl, &ev.CRL)
	var simRoot []byte
	read("--simulated-root", f.simulatedRoot, &simRoot)
	if err != nil {
		return nil, ev, exp, err
	}
	if len(ev.Report) != 1184 {
		return nil, ev, exp, fmt.Errorf("--report: %d bytes is not an attestation report (want 1184)", len(ev.Report))
	}

	exp.Measurements = f.measurements
	exp.AnyMeasurementUnsafe = f.anyMeasurement
	if f.reportData != "" {
		if exp.ReportData, err = hex.DecodeString(f.reportData); err != nil || len(exp.ReportData) != 64 {
			return nil, ev, exp, errors.New("--report-data must be 128 hex digits")
		}
	}
	if f.vmpl != -1 {
		if f.vmpl < 0 || f.vmpl > 3 {
			return nil, ev, exp, errors.New("--vmpl must be 0..3")
		}
		exp.VMPL = &f.vmpl
	}
	if exp.MinTCB, err = parseTCBFloor(f.minTCB); err != nil {
		return nil, ev, exp, err
	}

	opts := verifier.Options{}
	if f.at != "" {
		at, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return nil, ev, exp, fmt.Errorf("--at: %v", err)
		}
		opts.Now = func() time.Time { return at }
	}
	if f.kds != "" {
		client, err := kdsclient.New(f.kds, kdsclient.Options{})
		if err != nil {
			return nil, ev, exp, fmt.Errorf("--kds: %w", err)
		}
		opts.Fetcher = client
	}
	if simRoot != nil {
		if opts.Roots, err = verifier.AMDRoots().WithSimulated(simRoot); err != nil {
			return nil, ev, exp, fmt.Errorf("--simulated-root: %w", err)
		}
	}
	v, err := verifier.New(opts)
	return v, ev, exp, err
}

// parseTCBFloor reads "bl=N,tee=N,snp=N,ucode=N,fmc=N" (any subset).
func parseTCBFloor(s string) (verifier.TCBFloor, error) {
	var t verifier.TCBFloor
	if s == "" {
		return t, nil
	}
	fields := map[string]*uint8{"bl": &t.Bootloader, "tee": &t.TEE, "snp": &t.SNP, "ucode": &t.Microcode, "fmc": &t.FMC}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		dst, known := fields[k]
		if !ok || !known {
			return t, fmt.Errorf("--min-tcb: %q is not one of bl=N, tee=N, snp=N, ucode=N, fmc=N", part)
		}
		n, err := strconv.ParseUint(v, 10, 8)
		if err != nil {
			return t, fmt.Errorf("--min-tcb: %s=%q is not 0..255", k, v)
		}
		*dst = uint8(n)
	}
	return t, nil
}

func printResult(w io.Writer, res *verifier.Result) {
	switch {
	case res.Verified && res.Simulated:
		fmt.Fprintln(w, "VERIFIED against a SIMULATED root: this proves nothing about real hardware")
	case res.Verified:
		fmt.Fprintln(w, "VERIFIED")
	default:
		fmt.Fprintln(w, "REJECTED")
	}
	if res.Report != nil {
		fmt.Fprintf(w, "  product      %s (%s, report v%d)\n", res.Product, res.Report.Signer, res.Report.Version)
		fmt.Fprintf(w, "  measurement  %s\n", res.Report.Measurement)
		fmt.Fprintf(w, "  chip         %s\n", res.Report.ChipID)
		t := res.Report.ReportedTCB
		fmt.Fprintf(w, "  reported TCB bl=%d tee=%d snp=%d ucode=%d", t.Bootloader, t.TEE, t.SNP, t.Microcode)
		if t.FMC != nil {
			fmt.Fprintf(w, " fmc=%d", *t.FMC)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  revocation   %s\n", res.Revocation)
	for _, c := range res.Checks {
		switch c.Outcome {
		case verifier.Fail:
			fmt.Fprintf(w, "  FAIL %s", c.Name)
			if c.Field != "" {
				fmt.Fprintf(w, " (%s: got %s, want %s)", c.Field, c.Got, c.Want)
			}
			if c.Detail != "" {
				fmt.Fprintf(w, ": %s", c.Detail)
			}
			fmt.Fprintln(w)
		case verifier.Skipped:
			fmt.Fprintf(w, "  skip %s: %s\n", c.Name, c.Detail)
		}
	}
}
