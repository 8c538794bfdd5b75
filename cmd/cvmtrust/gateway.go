package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cvmtrust/cvmtrust/gateway"
	"github.com/cvmtrust/cvmtrust/gateway/acmetls"
	"github.com/cvmtrust/cvmtrust/gateway/sandbox"
	"github.com/cvmtrust/cvmtrust/gateway/simulated"
	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/protocol/seal"
)

func init() {
	register("gateway", "run the reference gateway (inside the CVM, or --simulated)", runGateway)
}

const gatewayUsage = `usage: cvmtrust gateway [flags]

Serves evidence protocol v1 (v2 with --tls-acme): GET /attestation?nonce=...,
POST /enroll, and the files of --static at /. Inside an SEV-SNP guest it gets its reports from
the AMD Secure Processor; elsewhere it refuses to start unless --simulated,
which signs reports with a fake AMD chain generated at start.

flags:
`

// newSimulated makes the simulated platform; tests reuse one, since its
// RSA keys take seconds on a busy machine.
var newSimulated = simulated.New

// shutdownGrace bounds how long in-flight requests may take after SIGTERM.
const shutdownGrace = 10 * time.Second

func runGateway(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("gateway", gatewayUsage, stderr)
	listen := fs.String("listen", "127.0.0.1:8443", "`address` to listen on (port 0 picks one)")
	sim := fs.Bool("simulated", false, "sign reports with a fake AMD chain generated at start (development only: proves nothing)")
	measurement := fs.String("measurement", simulated.DefaultMeasurement, "with --simulated: the launch digest to report, 96 hex digits")
	simChain := fs.String("sim-chain", "", "with --simulated: write the fake ASK and ARK (PEM) to `file`, for cvmtrust verify --chain")
	simARK := fs.String("sim-ark", "", "with --simulated: write the fake ARK (PEM) to `file`, the root to trust")
	simRelease := fs.String("sim-release-manifest", "", "with --simulated: sign this release manifest `file` with a SIMULATED Sigstore instance and serve the bundle at "+releaseBundlePath+" and its trusted root at "+simulatedSigstoreRootPath)
	releaseBundle := fs.String("release-bundle", "", "serve this release's Sigstore bundle `file` at "+releaseBundlePath+" (pages verify it against the signer they pin)")
	simSigstoreRoot := fs.String("sim-sigstore-root", "", "with --simulated: serve this SIMULATED Sigstore trusted root `file` (the one that signed --release-bundle) at "+simulatedSigstoreRootPath)
	kem := fs.String("kem", protocol.KEMMLKEM768X25519, "HPKE KEM: "+protocol.KEMMLKEM768X25519+" or "+protocol.KEMX25519)
	static := fs.String("static", "", "serve the files of `dir` at / (the widget)")
	var origins []string
	fs.Func("allow-origin", "allow browser calls from `origin` (scheme://host[:port], or *); repeatable, comma-separated", func(s string) error {
		for o := range strings.SplitSeq(s, ",") {
			if o = strings.TrimSpace(o); o != "" {
				if err := gateway.CheckOrigin(o); err != nil {
					return err
				}
				origins = append(origins, o)
			}
		}
		return nil
	})
	releaseName := fs.String("release-name", "", "release name to announce in the evidence (a claim, not evidence)")
	manifestURL := fs.String("manifest-url", "", "URL of that release's manifest")
	maxBody := fs.Int64("max-body", gateway.DefaultMaxEnrollBytes, "largest POST /enroll body in `bytes`")
	reportTTL := fs.Duration("report-ttl", gateway.DefaultReportTTL, "how long a served report can be enrolled against")
	perClient := fs.Int("reports-per-client", gateway.DefaultMaxReportsPerClient, "served reports one client address (IPv4, or IPv6 /64) may hold at once; 0: no bound, only behind a proxy that limits clients itself")
	vmpl := fs.Uint("vmpl", 0, "request reports at this VMPL (0-3; above 0 under a paravisor or SVSM)")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate chain `file` (PEM); needs --tls-key")
	tlsKey := fs.String("tls-key", "", "private key `file` (PEM) of --tls-cert")
	var acmeDomains []string
	fs.Func("tls-acme", "serve HTTPS with a key made here and a certificate for these `domains` (comma-separated) obtained by ACME; the evidence then binds the key (protocol v2)", func(s string) error {
		for d := range strings.SplitSeq(s, ",") {
			if d = strings.TrimSpace(d); d != "" {
				acmeDomains = append(acmeDomains, d)
			}
		}
		return nil
	})
	acmeDirectory := fs.String("acme-directory", acmetls.LetsEncrypt, "with --tls-acme: the ACME directory `URL`")
	acmeRoot := fs.String("acme-root", "", "with --tls-acme: also trust this CA `file` (PEM) for the ACME server's own HTTPS (tests, private CAs)")
	acmeEmail := fs.String("acme-email", "", "with --tls-acme: the ACME account's contact `address`")
	acmeProfile := fs.String("acme-profile", "", "with --tls-acme: the certificate `profile` to order (e.g. shortlived), if the ACME server has profiles")
	acmeHTTP := fs.String("acme-http", "", "with --tls-acme: answer HTTP-01 challenges on this `address` (port 80 as the ACME server sees it) instead of TLS-ALPN-01 on --listen; it serves nothing else")
	matcherExec := fs.String("matcher-exec", "", "run this matcher `program` (matcher protocol v1) in the sandbox; default: this binary's reference matcher, sandboxed the same way")
	var matcherArgs, matcherRO []string
	fs.Func("matcher-arg", "an `argument` for --matcher-exec; repeatable", func(s string) error { matcherArgs = append(matcherArgs, s); return nil })
	fs.Func("matcher-ro", "a `path` the matcher may read (file or directory, readable by uid 65534); repeatable", func(s string) error {
		matcherRO = append(matcherRO, s)
		return nil
	})
	matcherTimeout := fs.Duration("matcher-timeout", gateway.DefaultMatcherTimeout, "longest the matcher may take for one capture before it is killed and restarted")
	matcherMemory := fs.Uint64("matcher-memory", sandbox.DefaultMemory, "the matcher's memory limit in `bytes` (RLIMIT_DATA)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	setFlags := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { setFlags[f.Name] = true })
	if !*sim {
		for _, name := range []string{"measurement", "sim-chain", "sim-ark", "sim-release-manifest", "sim-sigstore-root"} {
			if setFlags[name] {
				fmt.Fprintf(stderr, "cvmtrust gateway: --%s needs --simulated\n", name)
				return exitUsage
			}
		}
	}
	if *simRelease != "" && (*releaseBundle != "" || *simSigstoreRoot != "") {
		fmt.Fprintln(stderr, "cvmtrust gateway: --sim-release-manifest signs its own bundle: it does not go with --release-bundle or --sim-sigstore-root")
		return exitUsage
	}
	var published releaseFiles
	if *releaseBundle != "" {
		var err error
		if published.bundle, err = readReleaseFile("release-bundle", *releaseBundle); err != nil {
			fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
			return exitUsage
		}
	}
	if *simSigstoreRoot != "" {
		var err error
		if published.simulatedRoot, err = readReleaseFile("sim-sigstore-root", *simSigstoreRoot); err != nil {
			fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
			return exitUsage
		}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		fmt.Fprintln(stderr, "cvmtrust gateway: --tls-cert and --tls-key go together")
		return exitUsage
	}
	if setFlags["tls-acme"] && len(acmeDomains) == 0 {
		fmt.Fprintln(stderr, "cvmtrust gateway: --tls-acme needs at least one domain")
		return exitUsage
	}
	if len(acmeDomains) > 0 && *tlsCert != "" {
		fmt.Fprintln(stderr, "cvmtrust gateway: --tls-acme and --tls-cert exclude each other")
		return exitUsage
	}
	if len(acmeDomains) == 0 {
		for _, name := range []string{"acme-directory", "acme-root", "acme-email", "acme-profile", "acme-http"} {
			if setFlags[name] {
				fmt.Fprintf(stderr, "cvmtrust gateway: --%s needs --tls-acme\n", name)
				return exitUsage
			}
		}
	}
	if *sim && setFlags["vmpl"] {
		fmt.Fprintln(stderr, "cvmtrust gateway: --vmpl applies to the real mode only (simulated reports are at VMPL 0)")
		return exitUsage
	}
	if *kem == "X25519" {
		*kem = protocol.KEMX25519
	}
	if *matcherExec == "" && len(matcherArgs) > 0 {
		fmt.Fprintln(stderr, "cvmtrust gateway: --matcher-arg needs --matcher-exec")
		return exitUsage
	}
	if *matcherTimeout <= 0 {
		fmt.Fprintln(stderr, "cvmtrust gateway: --matcher-timeout must be positive")
		return exitUsage
	}
	if *perClient < 0 {
		fmt.Fprintln(stderr, "cvmtrust gateway: --reports-per-client must be 0 (no bound) or more")
		return exitUsage
	}
	if *perClient == 0 {
		*perClient = -1 // Config's "no bound"
	}
	if *maxBody <= 0 || *reportTTL <= 0 {
		fmt.Fprintln(stderr, "cvmtrust gateway: --max-body and --report-ttl must be positive")
		return exitUsage
	}
	if *static != "" {
		if st, err := os.Stat(*static); err != nil || !st.IsDir() {
			fmt.Fprintf(stderr, "cvmtrust gateway: --static %s is not a directory\n", *static)
			return exitUsage
		}
	}
	var release *protocol.Release
	if *releaseName != "" || *manifestURL != "" {
		release = &protocol.Release{Name: *releaseName, ManifestURL: *manifestURL}
	}

	if _, err := seal.ResolveSuite(protocol.HPKEKey{KEM: *kem, KDF: protocol.KDFHKDFSHA256, AEAD: protocol.AEADAES256GCM}); err != nil {
		fmt.Fprintf(stderr, "cvmtrust gateway: --kem: %v\n", err)
		return exitUsage
	}
	var m []byte
	if *sim {
		var err error
		if m, err = hex.DecodeString(*measurement); err != nil || len(m) != 48 {
			fmt.Fprintln(stderr, "cvmtrust gateway: --measurement must be 96 hex digits (48 bytes)")
			return exitUsage
		}
	}
	var tlsConfig *tls.Config
	if *tlsCert != "" {
		kp, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
			return exitUsage
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}
	}
	var acme *acmetls.Manager
	if len(acmeDomains) > 0 {
		var err error
		if acme, err = newACME(acmeDomains, *acmeDirectory, *acmeRoot, *acmeEmail, *acmeProfile, *acmeHTTP != "", stderr); err != nil {
			fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
			return exitUsage
		}
		tlsConfig = acme.TLSConfig()
	}
	// Everything cheap is checked; now the address, then the slow part.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
		return exitUsage
	}
	defer ln.Close()
	var httpLn net.Listener
	if *acmeHTTP != "" {
		if httpLn, err = net.Listen("tcp", *acmeHTTP); err != nil {
			fmt.Fprintf(stderr, "cvmtrust gateway: --acme-http: %v\n", err)
			return exitUsage
		}
		defer httpLn.Close()
	}

	var source gateway.ReportSource
	if *sim {
		s, err := newSimulated(simulated.Options{Measurement: m})
		if err != nil {
			fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
			return exitUsage
		}
		for _, out := range []struct {
			path string
			data []byte
		}{{*simChain, s.Chain()}, {*simARK, s.SimulatedARK()}} {
			if out.path == "" {
				continue
			}
			// Certificates only: public, and useless to anyone who was not
			// told to trust them.
			if err := os.WriteFile(out.path, out.data, 0o644); err != nil {
				fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
				return exitUsage
			}
		}
		source = s
		fmt.Fprint(stderr, simulatedBanner(*measurement, *simChain, *simARK))
	} else {
		s, err := gateway.OpenSNP(*vmpl)
		if err != nil {
			fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
			return exitUsage
		}
		source = s
		fmt.Fprintln(stderr, "cvmtrust gateway: SEV-SNP guest; reports come from the AMD Secure Processor")
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	matcher, err := startMatcher(*sim, *matcherExec, matcherArgs, matcherRO, *matcherTimeout, *matcherMemory, logger, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
		return exitUsage
	}
	defer matcher.Close()
	var tlsKeyHash []byte
	if acme != nil {
		tlsKeyHash = acme.SPKISHA256()
	}
	g, err := gateway.New(gateway.Config{
		Source:              source,
		Matcher:             matcher,
		KEM:                 *kem,
		AllowedOrigins:      origins,
		StaticDir:           *static,
		Release:             release,
		MaxEnrollBytes:      *maxBody,
		ReportTTL:           *reportTTL,
		MaxReportsPerClient: *perClient,
		TLSKeySHA256:        tlsKeyHash,
		Logger:              logger,
	})
	if err != nil {
		fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
		return exitUsage
	}

	if *simRelease != "" {
		if published, err = signSimulatedRelease(*simRelease, m); err != nil {
			fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "cvmtrust gateway: SIMULATED Sigstore: release %s signed for this run, bundle at %s, trusted root at %s\n", *simRelease, releaseBundlePath, simulatedSigstoreRootPath)
	}
	if published.simulatedRoot != nil && *simRelease == "" {
		fmt.Fprintf(stderr, "cvmtrust gateway: SIMULATED Sigstore trusted root served at %s: a release it verifies proves nothing\n", simulatedSigstoreRootPath)
	}
	handler := published.handler(g)

	// Listen for signals before announcing the address, so a supervisor
	// that stops us as soon as we are up is heard.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv := &http.Server{
		Handler:           siteHandler(handler, *static),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	served := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	url := scheme + "://" + ln.Addr().String() + "/"
	if acme != nil {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		url = "https://" + net.JoinHostPort(acmeDomains[0], port) + "/"
		go acme.Run(ctx)
		if httpLn != nil {
			challenges := &http.Server{Handler: acme.HTTPHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: srv.ErrorLog}
			go challenges.Serve(httpLn)
			defer challenges.Close()
		}
		fmt.Fprintf(stderr, "cvmtrust gateway: TLS key made here, SPKI SHA-256 %x, bound into every report (evidence protocol v2); until ACME gives its certificate, no handshake succeeds\n", tlsKeyHash)
	}
	fmt.Fprintf(stderr, "cvmtrust gateway: HPKE %s, listening on %s\n", *kem, url)
	fmt.Fprintf(stdout, "open %s\n", url)

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "cvmtrust gateway: %v\n", err)
		return exitUsage
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "cvmtrust gateway: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "cvmtrust gateway: shutdown: %v\n", err)
		return exitRejected
	}
	return exitOK
}

// newACME sets up the ACME certificate manager of --tls-acme. Its log lines
// go to stderr.
func newACME(domains []string, directory, rootFile, email, profile string, http01 bool, stderr io.Writer) (*acmetls.Manager, error) {
	var roots *x509.CertPool
	if rootFile != "" {
		pem, err := os.ReadFile(rootFile)
		if err != nil {
			return nil, fmt.Errorf("--acme-root: %w", err)
		}
		if roots, err = x509.SystemCertPool(); err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--acme-root %s holds no PEM certificate", rootFile)
		}
	}
	return acmetls.New(acmetls.Config{
		Domains:      domains,
		DirectoryURL: directory,
		Roots:        roots,
		Email:        email,
		Profile:      profile,
		HTTP01:       http01,
		Logger:       slog.New(slog.NewTextHandler(stderr, nil)),
	})
}

// startMatcher starts the matcher in the sandbox: the operator's program, or
// this binary's reference matcher. In real mode a sandbox layer the kernel
// lacks is a refusal to start; in simulated mode it is a warning.
func startMatcher(sim bool, path string, args, ro []string, timeout time.Duration, memory uint64, logger *slog.Logger, stderr io.Writer) (*gateway.ProcessMatcher, error) {
	if path == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding the reference matcher: %w", err)
		}
		path, args = self, []string{"matcher"}
	}
	if missing := sandbox.Missing(); len(missing) > 0 {
		if !sim {
			return nil, fmt.Errorf("this kernel cannot sandbox the matcher (missing: %s); the gateway does not run a matcher unsandboxed", strings.Join(missing, ", "))
		}
		fmt.Fprintf(stderr, "cvmtrust gateway: SIMULATED mode: the matcher runs WITHOUT these sandbox layers, which cannot be set up here: %s\n", strings.Join(missing, ", "))
	}
	cfg := sandbox.Config{Path: path, Args: args, ReadOnly: ro, Memory: memory, AllowMissing: sim}
	return gateway.NewProcessMatcher(gateway.ProcessMatcherConfig{
		Start: func(stdin, stdout, stderr *os.File) (*exec.Cmd, error) {
			return sandbox.Start(cfg, stdin, stdout, stderr)
		},
		Timeout:   timeout,
		Logger:    logger,
		Simulated: sim,
	})
}

func simulatedBanner(measurement, chain, ark string) string {
	var b strings.Builder
	line := strings.Repeat("!", 78)
	fmt.Fprintf(&b, "%s\n!! SIMULATED SEV-SNP: reports are signed by a fake AMD chain made at start.\n", line)
	fmt.Fprintf(&b, "!! They prove nothing about hardware; only a verifier told to trust this\n")
	fmt.Fprintf(&b, "!! run's fake root (GET /simulated/ark.pem) accepts them.\n")
	fmt.Fprintf(&b, "!! measurement %s\n", measurement)
	if chain != "" {
		fmt.Fprintf(&b, "!! fake chain (ASK+ARK) written to %s\n", chain)
	}
	if ark != "" {
		fmt.Fprintf(&b, "!! fake root (ARK) written to %s\n", ark)
	}
	fmt.Fprintf(&b, "%s\n", line)
	return b.String()
}
