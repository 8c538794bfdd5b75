package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/gateway"
	"github.com/cvmtrust/cvmtrust/gateway/simulated"
	"github.com/cvmtrust/cvmtrust/internal/lockedbuf"
	"github.com/cvmtrust/cvmtrust/protocol"
)

// Every simulated gateway in these tests shares one fake platform (per
// measurement): generating its RSA keys is the slow part of starting.
func init() {
	var mu sync.Mutex
	made := map[string]*simulated.Source{}
	newSimulated = func(o simulated.Options) (*simulated.Source, error) {
		mu.Lock()
		defer mu.Unlock()
		key := hex.EncodeToString(o.Measurement) + "/" + hex.EncodeToString(o.HostData)
		if s, ok := made[key]; ok {
			return s, nil
		}
		s, err := simulated.New(o)
		if err == nil {
			made[key] = s
		}
		return s, err
	}
}

func TestGatewayFlags(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--measurement", simulated.DefaultMeasurement},
		{"--sim-ark", filepath.Join(dir, "ark.pem")},
		{"--simulated", "--measurement", "abcd"},
		{"--simulated", "--measurement", strings.Repeat("zz", 48)},
		{"--simulated", "--kem", "DHKEM-P256"},
		{"--simulated", "--static", filepath.Join(dir, "missing")},
		{"--simulated", "--allow-origin", "example.com"},
		{"--simulated", "--max-body", "0"},
		{"--simulated", "--listen", "256.0.0.1:1"},
		{"--simulated", "extra"},
		{"--no-such-flag"},
	} {
		var stderr bytes.Buffer
		if code := run(append([]string{"gateway"}, args...), io.Discard, &stderr); code != exitUsage {
			t.Errorf("gateway %v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr.String())
		} else if stderr.Len() == 0 {
			t.Errorf("gateway %v: no reason given", args)
		}
	}
}

// Off an SEV-SNP guest the real mode must refuse to start, never simulate.
func TestGatewayRealModeRefusesWithoutSNP(t *testing.T) {
	if _, err := gateway.OpenSNP(0); err == nil {
		t.Skip("this machine is an SEV-SNP guest: the real mode would start")
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"gateway", "--listen", "127.0.0.1:0"}, &stdout, &stderr)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
	if stdout.Len() != 0 || strings.Contains(stderr.String(), "SIMULATED") || !strings.Contains(stderr.String(), "--simulated") {
		t.Errorf("stdout %q stderr %q: want a refusal that points at --simulated", stdout.String(), stderr.String())
	}
}

// TestGatewayServesVerifiableEvidence runs `cvmtrust gateway --simulated`,
// fetches evidence from it, checks it with `cvmtrust verify` trusting the
// chain and root files the gateway wrote, and stops it with SIGTERM.
func TestGatewayServesVerifiableEvidence(t *testing.T) {
	dir := t.TempDir()
	chainFile, arkFile := filepath.Join(dir, "chain.pem"), filepath.Join(dir, "ark.pem")
	gw := startCLIGateway(t, "--simulated", "--listen", "127.0.0.1:0", "--sim-chain", chainFile, "--sim-ark", arkFile)
	base := gw.base
	if !strings.Contains(gw.stderr.String(), "SIMULATED") {
		t.Errorf("simulated mode not announced; stderr:\n%s", gw.stderr.String())
	}

	nonce := make([]byte, protocol.NonceSize)
	rand.Read(nonce)
	resp, err := http.Get(base + "/attestation?nonce=" + base64.RawURLEncoding.EncodeToString(nonce))
	if err != nil {
		t.Fatal(err)
	}
	var ev protocol.Evidence
	err = json.NewDecoder(resp.Body).Decode(&ev)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /attestation: %s %v", resp.Status, err)
	}
	servedARK, err := httpGet(base + "/simulated/ark.pem")
	if err != nil {
		t.Fatal(err)
	}
	writtenARK, err := os.ReadFile(arkFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(servedARK, writtenARK) {
		t.Error("the ARK served at /simulated/ark.pem differs from the one written to --sim-ark")
	}
	if chain, err := os.ReadFile(chainFile); err != nil || string(chain) != ev.Certs.Chain {
		t.Errorf("--sim-chain file differs from the chain in the evidence (err %v)", err)
	}

	reportFile, vcekFile := filepath.Join(dir, "report.bin"), filepath.Join(dir, "vcek.der")
	if err := os.WriteFile(reportFile, ev.Report, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vcekFile, ev.Certs.VCEK, 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(extra ...string) (int, string) {
		var out, errOut bytes.Buffer
		args := append([]string{"verify", "--report", reportFile, "--vcek", vcekFile, "--chain", chainFile}, extra...)
		code := run(args, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	// Negative cases first: without the simulated root, and with another
	// measurement, the report is rejected.
	want := simulated.DefaultMeasurement
	if code, out := verify("--measurement", want); code != exitRejected {
		t.Errorf("verify without --simulated-root: exit %d, want %d\n%s", code, exitRejected, out)
	}
	otherMeasurement := strings.Repeat("00", 48)
	if code, out := verify("--simulated-root", arkFile, "--measurement", otherMeasurement); code != exitRejected {
		t.Errorf("verify against another measurement: exit %d, want %d\n%s", code, exitRejected, out)
	}
	bound, err := protocol.ReportData(nonce, ev.HPKE.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	otherNonce := bytes.Clone(nonce)
	otherNonce[0] ^= 1
	unbound, _ := protocol.ReportData(otherNonce, ev.HPKE.PublicKey)
	if code, out := verify("--simulated-root", arkFile, "--measurement", want, "--report-data", hex.EncodeToString(unbound[:])); code != exitRejected {
		t.Errorf("verify with another nonce's binding: exit %d, want %d\n%s", code, exitRejected, out)
	}
	if code, out := verify("--simulated-root", arkFile, "--measurement", want, "--report-data", hex.EncodeToString(bound[:]), "--vmpl", "0"); code != exitOK {
		t.Errorf("verify with --simulated-root: exit %d, want %d\n%s", code, exitOK, out)
	}

	// SIGTERM: graceful shutdown, exit 0.
	if code := gw.stop(t); code != exitOK {
		t.Errorf("gateway exit %d after SIGTERM, want 0; stderr:\n%s", code, gw.stderr.String())
	}
	if _, err := http.Get(base + "/attestation"); err == nil {
		t.Error("the gateway still answers after SIGTERM")
	}
	if strings.Contains(gw.stderr.String(), hex.EncodeToString(nonce)) {
		t.Error("the gateway logged request data")
	}
}

// cliGateway is `cvmtrust gateway` running in this process.
type cliGateway struct {
	base    string // URL without the trailing slash
	stderr  *lockedbuf.Buffer
	done    chan int
	stopped bool
}

// startCLIGateway runs `cvmtrust gateway args...` until the test ends or
// stop is called, and waits for it to print its URL.
func startCLIGateway(t *testing.T, args ...string) *cliGateway {
	t.Helper()
	gw := &cliGateway{stderr: &lockedbuf.Buffer{}, done: make(chan int, 1)}
	outR, outW := io.Pipe()
	go func() {
		gw.done <- run(append([]string{"gateway"}, args...), outW, gw.stderr)
		outW.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(outR)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, outR)
	}()
	select {
	case l, ok := <-lines:
		if !ok || !strings.HasPrefix(l, "open http") {
			t.Fatalf("first line %q; stderr:\n%s", l, gw.stderr.String())
		}
		gw.base = strings.TrimSuffix(strings.TrimPrefix(l, "open "), "/")
	case <-time.After(60 * time.Second):
		t.Fatalf("the gateway did not start; stderr:\n%s", gw.stderr.String())
	}
	t.Cleanup(func() {
		if !gw.stopped {
			gw.stop(t)
		}
	})
	return gw
}

// stop sends this process SIGTERM, which the gateway has claimed, and
// returns its exit code.
func (gw *cliGateway) stop(t *testing.T) int {
	t.Helper()
	gw.stopped = true
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-gw.done:
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("the gateway did not stop on SIGTERM")
		return -1
	}
}

func TestGatewayTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)

	var stderr bytes.Buffer
	if code := run([]string{"gateway", "--simulated", "--listen", "127.0.0.1:0", "--tls-cert", certFile}, io.Discard, &stderr); code != exitUsage {
		t.Errorf("--tls-cert without --tls-key: exit %d", code)
	}
	if code := run([]string{"gateway", "--simulated", "--listen", "127.0.0.1:0", "--tls-cert", keyFile, "--tls-key", keyFile}, io.Discard, &stderr); code != exitUsage {
		t.Errorf("a key as the certificate: exit %d", code)
	}

	gw := startCLIGateway(t, "--simulated", "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(gw.base, "https://") {
		t.Fatalf("URL %s is not https", gw.base)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	nonce := make([]byte, protocol.NonceSize)
	resp, err := client.Get(gw.base + "/attestation?nonce=" + base64.RawURLEncoding.EncodeToString(nonce))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Errorf("GET over TLS: %s", resp.Status)
	}
	// A key handed in from outside is never bound: the evidence stays v1,
	// and verify --gateway over HTTPS refuses to say that TLS ends in the CVM.
	code, out, errOut := runVerifyCLI("--gateway", gw.base, "--ca", certFile, "--any-measurement-unsafe")
	if code != exitRejected || !strings.Contains(errOut, "is not the attested one (its evidence is protocol v1") || !strings.Contains(out, "FAIL tlsKey") {
		t.Errorf("verify --gateway over --tls-cert HTTPS: exit %d, want 1 (TLS key not bound)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if code := gw.stop(t); code != exitOK {
		t.Errorf("exit %d after SIGTERM", code)
	}
}

func httpGet(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
