package acmetls

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/pebbletest"
)

// logLines collects what the Manager logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

func (l *logLines) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}

// newManager makes a Manager for localhost against an ACME directory
// served by Pebble.
func newManager(t *testing.T, directory string, cfg Config) (*Manager, *logLines) {
	t.Helper()
	roots := x509.NewCertPool()
	ca := readFile(t, pebbletest.TestCA(t))
	roots.AppendCertsFromPEM(ca)
	logs := &logLines{}
	cfg.Domains = []string{"localhost"}
	cfg.DirectoryURL = directory
	cfg.Roots = roots
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 200*time.Millisecond, time.Second
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the Manager's log:\n%s", logs)
		}
	})
	return m, logs
}

// serveTLS serves HTTPS with m's TLS config on ln until the test ends.
func serveTLS(t *testing.T, m *Manager, ln net.Listener) {
	t.Helper()
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "attested\n") }),
		TLSConfig: m.TLSConfig(),
		ErrorLog:  log.New(io.Discard, "", 0), // refused handshakes are what some tests expect
	}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
}

func run(t *testing.T, m *Manager) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitReady(t *testing.T, m *Manager, within time.Duration) time.Duration {
	t.Helper()
	t0 := time.Now()
	select {
	case <-m.Ready():
		return time.Since(t0)
	case <-time.After(within):
		t.Fatalf("no certificate within %v", within)
		return 0
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// handshake connects to addr as localhost, trusting root, and returns the
// leaf's SPKI SHA-256.
func handshake(addr string, root []byte) ([]byte, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(root)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{ServerName: "localhost", RootCAs: pool})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	sum := sha256.Sum256(c.ConnectionState().PeerCertificates[0].RawSubjectPublicKeyInfo)
	return sum[:], nil
}

func listen(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// Before a certificate, no handshake succeeds; with validation off, the
// certificate Pebble issues is for the key made here, and a client that
// trusts Pebble's root sees that key.
func TestObtainValidationOff(t *testing.T) {
	pebble := pebbletest.Start(t, pebbletest.Options{AlwaysValid: true})
	m, _ := newManager(t, pebble.Directory, Config{})
	ln, port := listen(t)
	serveTLS(t, m, ln)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if _, err := handshake(addr, pebble.IssuingRoot(t)); err == nil {
		t.Fatal("a handshake succeeded before any certificate")
	}
	run(t, m)
	t.Logf("first certificate in %v (validation off)", waitReady(t, m, time.Minute))
	got, err := handshake(addr, pebble.IssuingRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, m.SPKISHA256()) {
		t.Fatalf("served SPKI %x, the Manager's %x", got, m.SPKISHA256())
	}
}

// Real validation: Pebble resolves localhost to 127.0.0.1 through its DNS
// server and completes TLS-ALPN-01 against the HTTPS listener, or HTTP-01
// against the port-80 handler, which serves nothing but the challenge.
func TestObtainWithValidation(t *testing.T) {
	for _, http01 := range []bool{false, true} {
		name := map[bool]string{false: "TLS-ALPN-01", true: "HTTP-01"}[http01]
		t.Run(name, func(t *testing.T) {
			ln, port := listen(t)
			pebblePort := pebbletest.FreePort(t)
			m, _ := newManager(t, "https://127.0.0.1:"+strconv.Itoa(pebblePort)+"/dir", Config{HTTP01: http01})
			opts := pebbletest.Options{TLSPort: port, Port: pebblePort}
			var plain string
			if http01 {
				hln, hport := listen(t)
				opts.HTTPPort = hport
				plain = "http://127.0.0.1:" + strconv.Itoa(hport)
				go http.Serve(hln, m.HTTPHandler())
			}
			serveTLS(t, m, ln)
			pebble := pebbletest.Start(t, opts)
			run(t, m)
			t.Logf("first certificate in %v (%s)", waitReady(t, m, 2*time.Minute), name)
			if got, err := handshake(ln.Addr().String(), pebble.IssuingRoot(t)); err != nil || !bytes.Equal(got, m.SPKISHA256()) {
				t.Fatalf("handshake: %v, SPKI %x want %x", err, got, m.SPKISHA256())
			}
			if http01 {
				resp, err := http.Get(plain + "/attestation")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("plain HTTP /attestation: %s, want 404", resp.Status)
				}
			}
		})
	}
}

// With a short-lived profile the certificate is renewed before it expires,
// for the same key.
func TestRenewal(t *testing.T) {
	pebble := pebbletest.Start(t, pebbletest.Options{AlwaysValid: true, ShortLived: 6 * time.Second})
	m, logs := newManager(t, pebble.Directory, Config{Profile: "shortlived"})
	run(t, m)
	waitReady(t, m, time.Minute)
	first := m.Certificate()
	if life := first.NotAfter.Sub(first.NotBefore); life > 10*time.Second {
		t.Fatalf("the short-lived profile gave a certificate for %v", life)
	}
	deadline := time.Now().Add(30 * time.Second)
	for m.Certificate().SerialNumber.Cmp(first.SerialNumber) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("not renewed within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	second := m.Certificate()
	if !bytes.Equal(second.RawSubjectPublicKeyInfo, first.RawSubjectPublicKeyInfo) {
		t.Fatal("the renewed certificate is for another key")
	}
	if !second.NotAfter.After(first.NotAfter) {
		t.Fatalf("renewed certificate ends %v, the first %v", second.NotAfter, first.NotAfter)
	}
	if !logs.has("renew_at") {
		t.Error("the installation was not logged with its renewal time")
	}
	t.Logf("renewed %v before the first certificate's end", first.NotAfter.Sub(second.NotBefore).Round(time.Millisecond))
}

// The ACME server is down at start: the Manager retries with growing waits
// and logs each failure, no handshake succeeds meanwhile, and the
// certificate comes once the server is up.
func TestACMEServerDownAtStart(t *testing.T) {
	port := pebbletest.FreePort(t)
	directory := "https://127.0.0.1:" + strconv.Itoa(port) + "/dir"
	m, logs := newManager(t, directory, Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond})
	ln, _ := listen(t)
	serveTLS(t, m, ln)
	run(t, m)
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(logs.String(), "trying again") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 3 logged retries in 20 s:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !logs.has("no TLS certificate yet, so nothing is served") || !logs.has("in=100ms") || !logs.has("in=200ms") {
		t.Errorf("the retries are not logged plainly with growing waits:\n%s", logs)
	}
	if _, err := handshake(ln.Addr().String(), nil); err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("a handshake while there is no certificate: %v, want the server's refusal", err)
	}
	pebble := pebbletest.Start(t, pebbletest.Options{AlwaysValid: true, Port: port})
	waitReady(t, m, time.Minute)
	if got, err := handshake(ln.Addr().String(), pebble.IssuingRoot(t)); err != nil || !bytes.Equal(got, m.SPKISHA256()) {
		t.Fatalf("handshake after the server came up: %v", err)
	}
}

// A real ACME server asked (through the test hook) to certify another key
// issues that certificate; the Manager refuses it and serves nothing.
func TestCertificateForAnotherKeyRefused(t *testing.T) {
	pebble := pebbletest.Start(t, pebbletest.Options{AlwaysValid: true})
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	m, logs := newManager(t, pebble.Directory, Config{csrKey: other})
	ln, _ := listen(t)
	serveTLS(t, m, ln)
	run(t, m)
	deadline := time.Now().Add(time.Minute)
	for strings.Count(logs.String(), "the certificate is for another key") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal logged twice in a minute:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m.Certificate() != nil {
		t.Fatal("a certificate for another key was installed")
	}
	if _, err := handshake(ln.Addr().String(), pebble.IssuingRoot(t)); err == nil {
		t.Fatal("a handshake succeeded with a certificate for another key")
	}
}

// install refuses, one field at a time, a certificate for another key, one
// missing a domain and one outside its validity; nothing is served after.
func TestInstallRefuses(t *testing.T) {
	m, err := New(Config{Domains: []string{"localhost", "enroll.example"}, DirectoryURL: "https://127.0.0.1:1/dir"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	mk := func(key *ecdsa.PrivateKey, names []string, from, to time.Time) [][]byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names, NotBefore: from, NotAfter: to}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), other)
		if err != nil {
			t.Fatal(err)
		}
		return [][]byte{der}
	}
	both := []string{"localhost", "enroll.example"}
	for _, c := range []struct {
		name string
		der  [][]byte
		want error
	}{
		{"another key", mk(other, both, now.Add(-time.Hour), now.Add(time.Hour)), ErrCertificateKey},
		{"a missing domain", mk(m.key, both[:1], now.Add(-time.Hour), now.Add(time.Hour)), ErrCertificateNames},
		{"expired", mk(m.key, both, now.Add(-2*time.Hour), now.Add(-time.Hour)), ErrCertificateTime},
		{"not yet valid", mk(m.key, both, now.Add(time.Hour), now.Add(2*time.Hour)), ErrCertificateTime},
	} {
		if err := m.install(c.der); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if m.Certificate() != nil {
		t.Fatal("a refused certificate was installed")
	}
	if err := m.install(mk(m.key, both, now.Add(-time.Hour), now.Add(time.Hour))); err != nil {
		t.Fatalf("the right certificate: %v", err)
	}
	if _, err := m.getCertificate(&tls.ClientHelloInfo{ServerName: "localhost"}); err != nil {
		t.Fatal(err)
	}
}

func TestNewRefuses(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no domain":        {},
		"a URL as domain":  {Domains: []string{"https://x.example"}},
		"a wildcard":       {Domains: []string{"*.example"}},
		"plain directory":  {Domains: []string{"x.example"}, DirectoryURL: "http://127.0.0.1/dir"},
		"a trailing dot":   {Domains: []string{"x.example."}},
		"an empty domain":  {Domains: []string{"x.example", ""}},
		"a domain w/ port": {Domains: []string{"x.example:443"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
