package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/kdsclient"
	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/verifier"
)

func init() {
	register("verify", "verify an SEV-SNP attestation report, a gateway's evidence, or a live gateway", runVerify)
}

// hexList collects repeated --measurement flags.
type hexList [][]byte

func (h *hexList) String() string { return "" }
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
	report, evidence, gateway, nonce               string
	vcek, vlek, chain, crl, at, reportData, minTCB string
	simulatedRoot, kds                             string
	measurements                                   hexList
	anyMeasurement, bulletinFloor, jsonOut         bool
	vmpl                                           *int
	timeout                                        time.Duration
}

// Bounds of what cvmtrust verify reads from a gateway or an evidence file.
const (
	// maxEvidenceBytes is far above any v1 evidence (a 1184-byte report,
	// two or three certificates and an HPKE key, in base64).
	maxEvidenceBytes = 1 << 20
	defaultTimeout   = 20 * time.Second
)

const verifyUsage = `usage: cvmtrust verify EVIDENCE (--measurement HEX ... | --any-measurement-unsafe) [flags]

EVIDENCE is one of
  --report FILE (--vcek FILE | --vlek FILE | --kds URL) [--chain FILE] [--crl FILE]
                      a raw attestation report and its certificates
  --evidence FILE [--nonce BASE64URL]
                      the JSON a gateway serves at /attestation (protocol v1);
                      with --nonce, REPORT_DATA must bind that nonce and the
                      evidence's HPKE key
  --gateway URL       ask a live gateway: draw a fresh nonce, GET
                      URL/attestation, and check the binding of the nonce and
                      the gateway's HPKE key [--timeout DURATION]

and the other flags apply to each:
  [--at TIME] [--report-data HEX] [--min-tcb bl=N,tee=N,snp=N,ucode=N,fmc=N]
  [--bulletin-tcb-floor] [--vmpl N] [--kds URL] [--crl FILE] [--chain FILE] [--vcek FILE | --vlek FILE]
  [--simulated-root FILE] [--json]

With --evidence or --gateway, --vcek, --vlek and --chain replace the
certificates the evidence carries.

Exit status: 0 verified, 1 rejected (the failed checks are printed),
2 unusable input or verification could not take place (one line on stderr).

flags:
`

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", verifyUsage, stderr)
	var f verifyFlags
	fs.StringVar(&f.report, "report", "", "attestation report `file` (1184 bytes)")
	fs.StringVar(&f.evidence, "evidence", "", "evidence `file`: the JSON of GET /attestation (protocol v1)")
	fs.StringVar(&f.gateway, "gateway", "", "verify a live gateway at this base `URL` with a fresh nonce")
	fs.StringVar(&f.nonce, "nonce", "", "with --evidence: the `nonce` (base64url, 32 bytes) it was requested with")
	fs.DurationVar(&f.timeout, "timeout", defaultTimeout, "with --gateway: give up after this `duration`")
	fs.StringVar(&f.vcek, "vcek", "", "VCEK certificate `file` (PEM or DER)")
	fs.StringVar(&f.vlek, "vlek", "", "VLEK certificate `file` (PEM or DER)")
	fs.StringVar(&f.chain, "chain", "", "ASK/ASVK (+ ARK) `file`; default: the evidence's, else the pinned AMD chain")
	fs.StringVar(&f.crl, "crl", "", "AMD CRL `file` for the product (DER or PEM)")
	fs.StringVar(&f.at, "at", "", "verify as of this `time`: RFC 3339 (2026-01-02T15:04:05Z) or a date (2026-01-02); default now")
	fs.Var(&f.measurements, "measurement", "allowed launch measurement, 96 hex digits (repeatable, or comma-separated)")
	fs.BoolVar(&f.anyMeasurement, "any-measurement-unsafe", false, "UNSAFE: accept any launch measurement (the guest may run any code)")
	fs.StringVar(&f.reportData, "report-data", "", "expected REPORT_DATA, 128 hex digits")
	fs.StringVar(&f.minTCB, "min-tcb", "", "TCB floor, e.g. bl=3,tee=0,snp=8,ucode=115,fmc=0")
	fs.BoolVar(&f.bulletinFloor, "bulletin-tcb-floor", false, "raise the TCB floor to what AMD's security bulletins require for the report's processor line, as the widget does by default")
	fs.Func("vmpl", "expected VMPL `N` (0-3); default: any", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 3 {
			return errors.New("must be 0, 1, 2 or 3")
		}
		f.vmpl = &n
		return nil
	})
	fs.StringVar(&f.simulatedRoot, "simulated-root", "", "also trust this simulated ARK `file` (development only; the result says SIMULATED)")
	fs.StringVar(&f.kds, "kds", "", "KDS proxy base `URL` to fetch a missing VCEK and the CRL from (fails fast; revocation is reported as not checked when it is down)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the result as JSON")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	ctx := context.Background()
	in, err := f.build(ctx)
	if err != nil {
		return usageError(stderr, "%v", err)
	}
	res, err := in.verifier.Verify(ctx, in.evidence, in.expectation)
	var rej *verifier.RejectedError
	switch {
	case err == nil:
	case errors.As(err, &rej):
		res = rej.Result
		if why := in.notVerifiable(err, res); why != "" {
			return usageError(stderr, "%s", why)
		}
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
		if in.source != "" {
			fmt.Fprintf(stdout, "  evidence     %s\n", in.source)
		}
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
	fs.Usage = func() { fmt.Fprint(fs.Output(), header) }
	return fs
}

// parseFlags parses args; done is true when the command must exit with
// code at once. -h prints the usage on stdout and exits 0. A bad flag
// prints one line on stderr, "cvmtrust NAME: reason", and exits 2; so does
// a stray argument.
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
		if s, ok := stderr.(commandStderr); ok {
			fs.SetOutput(s.stdout) // asked for: not an error
		}
		fs.Usage()
		fs.PrintDefaults()
		fs.SetOutput(stderr)
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

// verifyInput is what cvmtrust verify runs: the verifier, the evidence,
// the expectation, and where the evidence and its certificates came from.
type verifyInput struct {
	verifier    *verifier.Verifier
	evidence    verifier.Evidence
	expectation verifier.Expectation
	// source describes evidence from --evidence or --gateway, for the
	// text output.
	source string
	// keyFile and chainFile name the flags the endorsement key and chain
	// were read from, if they were files the user gave.
	keyFile, chainFile string
}

// notVerifiable tells a rejection that means verification did not take
// place (exit 2) from a real one: certificates that could not be had, or
// a certificate file given on the command line that is not a certificate.
// A malformed certificate inside a gateway's evidence stays a rejection:
// the gateway served it.
func (in *verifyInput) notVerifiable(err error, res *verifier.Result) string {
	for _, c := range res.Failed() {
		switch {
		case c.Name == "certificates" && errors.Is(err, verifier.ErrMissingCerts):
			return "verification did not take place: the " + c.Field + " certificate could not be had: " + c.Detail
		case c.Name == "certificates" && in.keyFile != "":
			return in.keyFile + " is not a certificate: " + c.Detail
		case c.Name == "chain.format" && in.chainFile != "":
			return in.chainFile + " is not a certificate chain: " + c.Detail
		}
	}
	return ""
}

// build turns the flags into what Verify takes, reading every file and,
// with --gateway, fetching the evidence. Any error here is unusable input
// (exit 2).
func (f *verifyFlags) build(ctx context.Context) (*verifyInput, error) {
	in := &verifyInput{}
	sources := 0
	for _, s := range []string{f.report, f.evidence, f.gateway} {
		if s != "" {
			sources++
		}
	}
	switch {
	case sources != 1:
		return nil, errors.New("give exactly one of --report FILE, --evidence FILE or --gateway URL")
	case f.vcek != "" && f.vlek != "":
		return nil, errors.New("give at most one of --vcek and --vlek")
	case f.report != "" && f.vcek == "" && f.vlek == "" && f.kds == "":
		return nil, errors.New("with --report, give --vcek or --vlek (or --kds to fetch the VCEK)")
	case f.nonce != "" && f.evidence == "":
		return nil, errors.New("--nonce goes with --evidence (--gateway draws its own)")
	case f.nonce != "" && f.reportData != "":
		return nil, errors.New("--nonce and --report-data both set what REPORT_DATA must be: give one")
	case f.gateway != "" && f.reportData != "":
		return nil, errors.New("--gateway checks REPORT_DATA against its own nonce: --report-data does not apply")
	case len(f.measurements) == 0 && !f.anyMeasurement:
		return nil, errors.New("give --measurement HEX (or, to skip the check, --any-measurement-unsafe)")
	case len(f.measurements) > 0 && f.anyMeasurement:
		return nil, errors.New("--measurement and --any-measurement-unsafe contradict each other")
	case f.timeout <= 0:
		return nil, errors.New("--timeout must be positive")
	}

	exp := &in.expectation
	exp.Measurements = f.measurements
	exp.AnyMeasurementUnsafe = f.anyMeasurement
	exp.VMPL = f.vmpl
	var err error
	if f.reportData != "" {
		if exp.ReportData, err = hex.DecodeString(f.reportData); err != nil || len(exp.ReportData) != 64 {
			return nil, errors.New("--report-data must be 128 hex digits")
		}
	}
	if exp.MinTCB, err = parseTCBFloor(f.minTCB); err != nil {
		return nil, err
	}
	exp.BulletinTCBFloor = f.bulletinFloor
	opts := verifier.Options{}
	if f.at != "" {
		at, err := parseAt(f.at)
		if err != nil {
			return nil, err
		}
		opts.Now = func() time.Time { return at }
	}
	if f.kds != "" {
		client, err := kdsclient.New(f.kds, kdsclient.Options{})
		if err != nil {
			return nil, fmt.Errorf("--kds: %w", err)
		}
		opts.Fetcher = client
	}
	if f.simulatedRoot != "" {
		simRoot, err := os.ReadFile(f.simulatedRoot)
		if err != nil {
			return nil, fmt.Errorf("--simulated-root: %w", err)
		}
		if opts.Roots, err = verifier.AMDRoots().WithSimulated(simRoot); err != nil {
			return nil, fmt.Errorf("--simulated-root: %w", err)
		}
	}

	ev := &in.evidence
	switch {
	case f.report != "":
		if ev.Report, err = readFlagFile("--report", f.report); err != nil {
			return nil, err
		}
		if len(ev.Report) != protocol.ReportSize {
			return nil, fmt.Errorf("--report: %d bytes is not an attestation report (want %d)", len(ev.Report), protocol.ReportSize)
		}
	case f.evidence != "":
		b, err := readFlagFile("--evidence", f.evidence)
		if err != nil {
			return nil, err
		}
		pe, err := parseEvidence(b)
		if err != nil {
			return nil, fmt.Errorf("--evidence %s: %w", f.evidence, err)
		}
		setEvidence(ev, pe)
		if f.nonce != "" {
			nonce, err := decodeNonce(f.nonce)
			if err != nil {
				return nil, fmt.Errorf("--nonce: %w", err)
			}
			exp.Binding = &verifier.Binding{Nonce: nonce, HPKEPublicKey: pe.HPKE.PublicKey}
			in.source = fmt.Sprintf("%s, REPORT_DATA checked against --nonce and its HPKE key (%s)", f.evidence, pe.HPKE.KEM)
		} else {
			in.source = f.evidence + ", without --nonce: its freshness and HPKE key are not checked"
		}
	case f.gateway != "":
		nonce := make([]byte, protocol.NonceSize)
		rand.Read(nonce)
		fetchCtx, cancel := context.WithTimeout(ctx, f.timeout)
		defer cancel()
		pe, from, err := fetchEvidence(fetchCtx, f.gateway, nonce)
		if err != nil {
			return nil, err
		}
		setEvidence(ev, pe)
		exp.Binding = &verifier.Binding{Nonce: nonce, HPKEPublicKey: pe.HPKE.PublicKey}
		in.source = fmt.Sprintf("%s with a fresh nonce; REPORT_DATA checked against it and the HPKE key (%s)", from, pe.HPKE.KEM)
		if pe.Release != nil && pe.Release.Name != "" {
			in.source += fmt.Sprintf("; the gateway claims release %q (a claim: the measurement is what counts)", pe.Release.Name)
		}
	}
	// Certificates given as files replace the evidence's.
	if f.vcek != "" || f.vlek != "" {
		ev.VCEK, ev.VLEK = nil, nil
	}
	for _, c := range []struct {
		flag, path string
		dst        *[]byte
	}{{"--vcek", f.vcek, &ev.VCEK}, {"--vlek", f.vlek, &ev.VLEK}, {"--chain", f.chain, &ev.Chain}, {"--crl", f.crl, &ev.CRL}} {
		if c.path == "" {
			continue
		}
		if *c.dst, err = readFlagFile(c.flag, c.path); err != nil {
			return nil, err
		}
	}
	switch {
	case f.vcek != "":
		in.keyFile = "--vcek " + f.vcek
	case f.vlek != "":
		in.keyFile = "--vlek " + f.vlek
	}
	if f.chain != "" {
		in.chainFile = "--chain " + f.chain
	}
	if in.verifier, err = verifier.New(opts); err != nil {
		return nil, err
	}
	return in, nil
}

func readFlagFile(flag, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return b, nil
}

// parseAt reads --at: RFC 3339, or a date meaning its midnight UTC.
func parseAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--at %q is not a time: write it as RFC 3339, e.g. --at 2026-01-02T15:04:05Z, or as a date, e.g. --at 2026-01-02", s)
}

// decodeNonce reads a nonce as the gateway's query parameter carries it:
// base64url, padded or not, 32 bytes.
func decodeNonce(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, errors.New("not base64url")
	}
	if len(b) != protocol.NonceSize {
		return nil, fmt.Errorf("%d bytes, want %d", len(b), protocol.NonceSize)
	}
	return b, nil
}

// parseEvidence decodes protocol v1 evidence and checks what Verify does
// not: the protocol version and the presence of a report and an HPKE key.
func parseEvidence(b []byte) (*protocol.Evidence, error) {
	var ev protocol.Evidence
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, fmt.Errorf("not evidence JSON: %w", err)
	}
	switch {
	case ev.Version != protocol.Version:
		return nil, fmt.Errorf("evidence protocol version %d, this cvmtrust speaks %d", ev.Version, protocol.Version)
	case len(ev.Report) == 0:
		return nil, errors.New("the evidence carries no report")
	case len(ev.HPKE.PublicKey) == 0:
		return nil, errors.New("the evidence carries no HPKE public key")
	}
	return &ev, nil
}

func setEvidence(dst *verifier.Evidence, ev *protocol.Evidence) {
	dst.Report = ev.Report
	dst.VCEK = ev.Certs.VCEK
	dst.VLEK = ev.Certs.VLEK
	if ev.Certs.Chain != "" {
		dst.Chain = []byte(ev.Certs.Chain)
	}
}

// fetchEvidence asks the gateway at base for evidence bound to nonce:
// GET base/attestation?nonce=..., at most maxEvidenceBytes, within ctx's
// deadline. It returns the evidence and the URL it came from.
func fetchEvidence(ctx context.Context, base string, nonce []byte) (*protocol.Evidence, string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("--gateway %q is not an http:// or https:// URL", base)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	att := u.ResolveReference(&url.URL{Path: "attestation", RawQuery: "nonce=" + base64.RawURLEncoding.EncodeToString(nonce)})
	from := att.Scheme + "://" + att.Host + att.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, att.String(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("--gateway: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("verification did not take place: cannot reach the gateway: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEvidenceBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("verification did not take place: reading %s: %w", from, err)
	}
	if len(body) > maxEvidenceBytes {
		return nil, "", fmt.Errorf("%s sent more than %d bytes: not evidence", from, maxEvidenceBytes)
	}
	if resp.StatusCode != http.StatusOK {
		var eb protocol.ErrorBody
		msg := resp.Status
		if json.Unmarshal(body, &eb) == nil && eb.Error != "" {
			msg += ": " + eb.Error
		}
		return nil, "", fmt.Errorf("verification did not take place: %s answered %s", from, oneLine(msg))
	}
	ev, err := parseEvidence(body)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", from, err)
	}
	return ev, from, nil
}

// oneLine keeps a message from a server on one short line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
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
		product := res.Product
		if product == "" {
			product = "unknown product"
		}
		signer := res.Report.Signer
		if signer == "" {
			signer = "signer unknown"
		}
		fmt.Fprintf(w, "  product      %s (%s, report v%d)\n", product, signer, res.Report.Version)
		fmt.Fprintf(w, "  measurement  %s\n", res.Report.Measurement)
		fmt.Fprintf(w, "  chip         %s\n", res.Report.ChipID)
		fmt.Fprintf(w, "  reported TCB %s\n", formatTCB(res.Report.ReportedTCB))
	}
	if f := res.TCBFloor; f != nil {
		fl := f.Floor
		fmt.Fprintf(w, "  TCB floor    bl=%d tee=%d snp=%d ucode=%d fmc=%d", fl.Bootloader, fl.TEE, fl.SNP, fl.Microcode, fl.FMC)
		if len(f.Bulletins) > 0 {
			fmt.Fprintf(w, " (%s: %s)", f.Line, strings.Join(f.Bulletins, ", "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  revocation   %s\n", res.Revocation)
	for _, c := range res.Checks {
		switch c.Outcome {
		case verifier.Fail:
			fmt.Fprintf(w, "  FAIL %s%s", c.Name, formatGotWant(c))
			if c.Detail != "" {
				fmt.Fprintf(w, ": %s", c.Detail)
			}
			fmt.Fprintln(w)
		case verifier.Skipped:
			fmt.Fprintf(w, "  skip %s: %s\n", c.Name, c.Detail)
		}
	}
}

func formatTCB(t verifier.TCB) string {
	s := fmt.Sprintf("bl=%d tee=%d snp=%d ucode=%d", t.Bootloader, t.TEE, t.SNP, t.Microcode)
	if t.FMC != nil {
		s += fmt.Sprintf(" fmc=%d", *t.FMC)
	}
	return s
}

// formatGotWant is " (field: got X, want Y)", leaving out whatever part is
// empty: a check that names no values prints no empty got or want.
func formatGotWant(c verifier.Check) string {
	var parts []string
	if c.Got != "" {
		parts = append(parts, "got "+c.Got)
	}
	if c.Want != "" {
		parts = append(parts, "want "+c.Want)
	}
	switch {
	case c.Field == "" && len(parts) == 0:
		return ""
	case c.Field == "":
		return " (" + strings.Join(parts, ", ") + ")"
	case len(parts) == 0:
		return " (" + c.Field + ")"
	}
	return " (" + c.Field + ": " + strings.Join(parts, ", ") + ")"
}
