// Package pebbletest runs Pebble, Let's Encrypt's test ACME server, on
// 127.0.0.1 for tests, with pebble-challtestsrv as its DNS server (every
// name resolves to 127.0.0.1), so that its validations of TLS-ALPN-01 and
// HTTP-01 reach a server under test on loopback.
//
// Both are built from the module pinned in ./tool (its own go.mod, so that
// Pebble's dependencies stay out of cvmtrust's) with the go command and the
// Go module proxy, once, into the user's cache directory.
package pebbletest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/lockedbuf"
)

// Version is the Pebble release the tests run (./tool/go.mod pins it).
const Version = "v2.10.3"

// Options say how Pebble validates and what it issues.
type Options struct {
	// AlwaysValid skips validation (PEBBLE_VA_ALWAYS_VALID=1).
	AlwaysValid bool
	// TLSPort and HTTPPort are where Pebble connects to validate
	// TLS-ALPN-01 and HTTP-01 (on 127.0.0.1, through its DNS).
	TLSPort, HTTPPort int
	// Validity is the lifetime of the certificates of the default
	// profile. Zero: Pebble's 90 days. A profile named "shortlived" always
	// exists with ShortLived (default 10 s).
	Validity, ShortLived time.Duration
	// Port is the ACME server's port; zero picks a free one. Giving it
	// lets a test start a client before the server is up.
	Port int
}

// Server is a running Pebble.
type Server struct {
	// Directory is the ACME directory URL.
	Directory string
	// TestCA is the file of the CA that signed Pebble's own HTTPS
	// certificate: what an ACME client must trust to talk to it.
	TestCA string

	management string
	client     *http.Client
	logs       *lockedbuf.Buffer
}

var (
	buildOnce sync.Once
	binDir    string
	moduleDir string
	buildErr  error
)

// build makes pebble and pebble-challtestsrv once per process.
func build() (string, string, error) {
	buildOnce.Do(func() {
		_, self, _, _ := runtime.Caller(0)
		tool := filepath.Join(filepath.Dir(self), "tool")
		out, err := exec.Command("go", "list", "-C", tool, "-m", "-f", "{{.Dir}}", "github.com/letsencrypt/pebble/v2").Output()
		if err != nil {
			buildErr = fmt.Errorf("locating Pebble's module: %w", err)
			return
		}
		moduleDir = strings.TrimSpace(string(out))
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		binDir = filepath.Join(cache, "cvmtrust-pebble", Version)
		if _, err := os.Stat(filepath.Join(binDir, "pebble-challtestsrv")); err == nil {
			return
		}
		if err := os.MkdirAll(filepath.Dir(binDir), 0o755); err != nil {
			buildErr = err
			return
		}
		tmp, err := os.MkdirTemp(filepath.Dir(binDir), "build-")
		if err != nil {
			buildErr = err
			return
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command("go", "build", "-C", tool, "-o", tmp+"/", "github.com/letsencrypt/pebble/v2/cmd/pebble", "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building Pebble: %w\n%s", err, out)
			return
		}
		// Another test process may have won the race; either copy is good.
		if err := os.Rename(tmp, binDir); err != nil {
			if _, statErr := os.Stat(filepath.Join(binDir, "pebble-challtestsrv")); statErr != nil {
				buildErr = err
			}
		}
	})
	return binDir, moduleDir, buildErr
}

// TestCA returns the file of the CA that signs Pebble's own HTTPS
// certificate, without starting Pebble.
func TestCA(tb testing.TB) string {
	tb.Helper()
	_, mod, err := build()
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(mod, "test/certs/pebble.minica.pem")
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func freeUDPPort(tb testing.TB) int {
	tb.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// Start builds (once) and starts Pebble and its DNS server, and waits until
// the ACME directory answers. Both stop when the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin, mod, err := build()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	if opts.Port == 0 {
		opts.Port = FreePort(tb)
	}
	if opts.ShortLived == 0 {
		opts.ShortLived = 10 * time.Second
	}
	dnsPort, mgmtPort, challMgmtPort := freeUDPPort(tb), FreePort(tb), FreePort(tb)
	profiles := map[string]any{
		"shortlived": map[string]any{"description": "short-lived, for renewal tests", "validityPeriod": int(opts.ShortLived.Seconds())},
	}
	def := map[string]any{"description": "the default profile"}
	if opts.Validity > 0 {
		def["validityPeriod"] = int(opts.Validity.Seconds())
	}
	profiles["default"] = def
	// Pebble validates on fixed ports; a port the test does not use gets
	// one nobody listens on.
	if opts.TLSPort == 0 {
		opts.TLSPort = FreePort(tb)
	}
	if opts.HTTPPort == 0 {
		opts.HTTPPort = FreePort(tb)
	}
	cfg, _ := json.Marshal(map[string]any{"pebble": map[string]any{
		"listenAddress":           "127.0.0.1:" + strconv.Itoa(opts.Port),
		"managementListenAddress": "127.0.0.1:" + strconv.Itoa(mgmtPort),
		"certificate":             filepath.Join(mod, "test/certs/localhost/cert.pem"),
		"privateKey":              filepath.Join(mod, "test/certs/localhost/key.pem"),
		"httpPort":                opts.HTTPPort,
		"tlsPort":                 opts.TLSPort,
		"keyAlgorithm":            "ecdsa",
		"profiles":                profiles,
	}})
	cfgPath := filepath.Join(dir, "pebble-config.json")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		tb.Fatal(err)
	}
	s := &Server{
		Directory:  fmt.Sprintf("https://127.0.0.1:%d/dir", opts.Port),
		TestCA:     TestCA(tb),
		management: fmt.Sprintf("https://127.0.0.1:%d", mgmtPort),
		logs:       &lockedbuf.Buffer{},
	}
	dns := exec.Command(filepath.Join(bin, "pebble-challtestsrv"),
		"-dnsserver", "127.0.0.1:"+strconv.Itoa(dnsPort), "-management", "127.0.0.1:"+strconv.Itoa(challMgmtPort),
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "",
		"-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")
	dns.Stdout, dns.Stderr = s.logs, s.logs
	pebble := exec.Command(filepath.Join(bin, "pebble"), "-config", cfgPath, "-dnsserver", "127.0.0.1:"+strconv.Itoa(dnsPort))
	pebble.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	if opts.AlwaysValid {
		pebble.Env = append(pebble.Env, "PEBBLE_VA_ALWAYS_VALID=1")
	}
	pebble.Stdout, pebble.Stderr = s.logs, s.logs
	for _, c := range []*exec.Cmd{dns, pebble} {
		if err := c.Start(); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { c.Process.Kill(); c.Wait() })
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("Pebble's log:\n%s", s.logs.String())
		}
	})

	roots := x509.NewCertPool()
	ca, err := os.ReadFile(s.TestCA)
	if err != nil || !roots.AppendCertsFromPEM(ca) {
		tb.Fatalf("reading Pebble's test CA %s: %v", s.TestCA, err)
	}
	s.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 5 * time.Second}
	tb.Cleanup(s.client.CloseIdleConnections)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := s.client.Get(s.Directory)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("Pebble did not answer at %s within 30 s: %v\n%s", s.Directory, err, s.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// IssuingRoot returns the PEM of the root Pebble issues under (made anew
// at each start).
func (s *Server) IssuingRoot(tb testing.TB) []byte {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.management+"/roots/0", nil)
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("Pebble's root: %s %v", resp.Status, err)
	}
	return b
}

// Logs returns what Pebble and its DNS server printed so far.
func (s *Server) Logs() string { return s.logs.String() }
