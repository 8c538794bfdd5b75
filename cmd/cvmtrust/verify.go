package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/gatewayclient"
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

// attestationFlags say what a report must show and whom to trust for it:
// verify and audit-page read them alike.
type attestationFlags struct {
	measurements               hexList
	anyMeasurement             bool
	vmpl                       *int
	bulletinFloor              bool
	minTCB, simulatedRoot, kds string
}

func (a *attestationFlags) register(fs *flag.FlagSet) {
	fs.Var(&a.measurements, "measurement", "allowed launch measurement, 96 hex digits (repeatable, or comma-separated)")
	fs.BoolVar(&a.anyMeasurement, "any-measurement-unsafe", false, "UNSAFE: accept any launch measurement (the guest may run any code)")
	fs.StringVar(&a.minTCB, "min-tcb", "", "TCB floor, e.g. bl=3,tee=0,snp=8,ucode=115,fmc=0")
	fs.BoolVar(&a.bulletinFloor, "bulletin-tcb-floor", false, "raise the TCB floor to what AMD's security bulletins require for the report's processor line, as the widget does by default")
	fs.Func("vmpl", "expected VMPL `N` (0-3); default: any", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 3 {
			return errors.New("must be 0, 1, 2 or 3")
		}
		a.vmpl = &n
		return nil
	})
	fs.StringVar(&a.simulatedRoot, "simulated-root", "", "also trust this simulated ARK `file` (development only; the result says SIMULATED)")
	fs.StringVar(&a.kds, "kds", "", "KDS proxy base `URL` to fetch a missing VCEK and the CRL from (fails fast; revocation is reported as not checked when it is down)")
}

// given reports whether a measurement (or --any-measurement-unsafe) was given.
func (a *attestationFlags) given() bool { return len(a.measurements) > 0 || a.anyMeasurement }

// check refuses a missing or contradictory measurement.
func (a *attestationFlags) check() error {
	switch {
	case !a.given():
		return errors.New("give --measurement HEX (or, to skip the check, --any-measurement-unsafe)")
	case len(a.measurements) > 0 && a.anyMeasurement:
		return errors.New("--measurement and --any-measurement-unsafe contradict each other")
	}
	return nil
}

// apply sets what the flags say in exp and opts: the measurements, VMPL
// and TCB floor; the KDS fetcher and the simulated root.
func (a *attestationFlags) apply(exp *verifier.Expectation, opts *verifier.Options) error {
	exp.Measurements = a.measurements
	exp.AnyMeasurementUnsafe = a.anyMeasurement
	exp.VMPL = a.vmpl
	var err error
	if exp.MinTCB, err = parseTCBFloor(a.minTCB); err != nil {
		return err
	}
	exp.BulletinTCBFloor = a.bulletinFloor
	if a.kds != "" {
		client, err := kdsclient.New(a.kds, kdsclient.Options{})
		if err != nil {
			return fmt.Errorf("--kds: %w", err)
		}
		opts.Fetcher = client
	}
	if a.simulatedRoot != "" {
		simRoot, err := os.ReadFile(a.simulatedRoot)
		if err != nil {
			return fmt.Errorf("--simulated-root: %w", err)
		}
		if opts.Roots, err = verifier.AMDRoots().WithSimulated(simRoot); err != nil {
			return fmt.Errorf("--simulated-root: %w", err)
		}
	}
	return nil
}

// verifyFlags is the parsed command line of cvmtrust verify.
type verifyFlags struct {
	attestationFlags
	report, evidence, gateway, nonce string
	vcek, vlek, chain, crl, at       string
	reportData, ca                   string
	jsonOut                          bool
	timeout                          time.Duration
}

// defaultTimeout bounds --gateway's fetch.
const defaultTimeout = 20 * time.Second

const verifyUsage = `usage: cvmtrust verify EVIDENCE (--measurement HEX ... | --any-measurement-unsafe) [flags]

EVIDENCE is one of
  --report FILE (--vcek FILE | --vlek FILE | --kds URL) [--chain FILE] [--crl FILE]
                      a raw attestation report and its certificates
  --evidence FILE [--nonce BASE64URL]
                      the JSON a gateway serves at /attestation (protocol v1
                      or v2); with --nonce, REPORT_DATA must bind that nonce
                      and the evidence's HPKE key (and, v2, its TLS key)
  --gateway URL       ask a live gateway: draw a fresh nonce, GET
                      URL/attestation, and check the binding of the nonce and
                      the gateway's keys [--timeout DURATION] [--ca FILE];
                      over https://, the TLS key the gateway presented on
                      that connection must be the one the report binds
                      (evidence v2), or TLS ends in front of the CVM

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
	fs.StringVar(&f.evidence, "evidence", "", "evidence `file`: the JSON of GET /attestation (protocol v1 or v2)")
	fs.StringVar(&f.ca, "ca", "", "with --gateway: also trust this CA `file` (PEM) for the gateway's HTTPS (tests, private CAs)")
	fs.StringVar(&f.gateway, "gateway", "", "verify a live gateway at this base `URL` with a fresh nonce")
	fs.StringVar(&f.nonce, "nonce", "", "with --evidence: the `nonce` (base64url, 32 bytes) it was requested with")
	fs.DurationVar(&f.timeout, "timeout", defaultTimeout, "with --gateway: give up after this `duration`")
	fs.StringVar(&f.vcek, "vcek", "", "VCEK certificate `file` (PEM or DER)")
	fs.StringVar(&f.vlek, "vlek", "", "VLEK certificate `file` (PEM or DER)")
	fs.StringVar(&f.chain, "chain", "", "ASK/ASVK (+ ARK) `file`; default: the evidence's, else the pinned AMD chain")
	fs.StringVar(&f.crl, "crl", "", "AMD CRL `file` for the product (DER or PEM)")
	fs.StringVar(&f.at, "at", "", "verify as of this `time`: RFC 3339 (2026-01-02T15:04:05Z) or a date (2026-01-02); default now")
	fs.StringVar(&f.reportData, "report-data", "", "expected REPORT_DATA, 128 hex digits")
	f.attestationFlags.register(fs)
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
	var tlsErr *gatewayclient.TLSKeyError
	if in.fetched != nil {
		err = in.fetched.CheckTLSKey(err)
	}
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
	if errors.As(err, &tlsErr) {
		fmt.Fprintf(stderr, "cvmtrust verify: %v\n", tlsErr)
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
	// fetched is what --gateway fetched.
	fetched *gatewayclient.Fetched
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
	case f.timeout <= 0:
		return nil, errors.New("--timeout must be positive")
	case f.ca != "" && f.gateway == "":
		return nil, errors.New("--ca goes with --gateway")
	}
	if err := f.attestationFlags.check(); err != nil {
		return nil, err
	}

	exp := &in.expectation
	opts := verifier.Options{}
	if err := f.attestationFlags.apply(exp, &opts); err != nil {
		return nil, err
	}
	var err error
	if f.reportData != "" {
		if exp.ReportData, err = hex.DecodeString(f.reportData); err != nil || len(exp.ReportData) != 64 {
			return nil, errors.New("--report-data must be 128 hex digits")
		}
	}
	if f.at != "" {
		at, err := parseAt(f.at)
		if err != nil {
			return nil, err
		}
		opts.Now = func() time.Time { return at }
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
		pe, err := gatewayclient.ParseEvidence(b)
		if err != nil {
			return nil, fmt.Errorf("--evidence %s: %w", f.evidence, err)
		}
		fetched := &gatewayclient.Fetched{Evidence: pe}
		*ev = fetched.VerifierEvidence()
		if f.nonce != "" {
			if fetched.Nonce, err = decodeNonce(f.nonce); err != nil {
				return nil, fmt.Errorf("--nonce: %w", err)
			}
			*exp = fetched.Expect(*exp)
			in.source = fmt.Sprintf("%s, REPORT_DATA checked against --nonce and %s", f.evidence, boundKeys(pe))
		} else {
			in.source = fmt.Sprintf("%s (evidence protocol v%d), without --nonce: its freshness and keys are not checked", f.evidence, pe.Version)
		}
	case f.gateway != "":
		client, err := httpClient(f.ca)
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, protocol.NonceSize)
		rand.Read(nonce)
		fetchCtx, cancel := context.WithTimeout(ctx, f.timeout)
		defer cancel()
		fetched, err := gatewayclient.Fetch(fetchCtx, client, f.gateway, nonce)
		switch {
		case errors.Is(err, gatewayclient.ErrUnreachable), errors.Is(err, gatewayclient.ErrRefused):
			return nil, fmt.Errorf("verification did not take place: %w", err)
		case err != nil:
			return nil, err
		}
		in.fetched = fetched
		*ev = fetched.VerifierEvidence()
		*exp = fetched.Expect(*exp)
		pe := fetched.Evidence
		in.source = fmt.Sprintf("%s with a fresh nonce; REPORT_DATA checked against it and %s", fetched.URL, boundKeys(pe))
		switch {
		case fetched.TLSKeySHA256 == nil:
			in.source += "; plain HTTP: where TLS ends is not checked"
		case pe.Version == protocol.VersionTLS:
			in.source += fmt.Sprintf("; TLS key of this connection %x checked against the attested one", fetched.TLSKeySHA256)
		}
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

// boundKeys says what REPORT_DATA binds besides the nonce, by evidence
// protocol version.
func boundKeys(ev *protocol.Evidence) string {
	if ev.Version == protocol.VersionTLS {
		return fmt.Sprintf("the HPKE key (%s) and the TLS key %x (evidence protocol v2)", ev.HPKE.KEM, ev.TLS.SPKISHA256)
	}
	return fmt.Sprintf("the HPKE key (%s) (evidence protocol v1: no TLS key bound)", ev.HPKE.KEM)
}

// httpClient is the client of verify --gateway and audit-page: the
// system's roots, and the CA of --ca besides.
func httpClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return http.DefaultClient, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca %s holds no PEM certificate", caFile)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}, nil
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
