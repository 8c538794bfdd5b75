package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
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
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/gateway/simulated"
	"github.com/cvmtrust/cvmtrust/internal/pebbletest"
	"github.com/cvmtrust/cvmtrust/protocol"
)

// testCA is a CA of the test's own with a certificate for localhost: what a
// proxy in front of the gateway would serve.
type testCA struct {
	pemFile string
	cert    tls.Certificate
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "proxy test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	c := &testCA{pemFile: filepath.Join(t.TempDir(), "proxy-ca.pem"), cert: tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}
	if err := os.WriteFile(c.pemFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}

// startTLSProxy terminates TLS with cert on 127.0.0.1 and forwards to
// target over HTTPS trusting root; rewrite, when set, changes the evidence
// on its way.
func startTLSProxy(t *testing.T, cert tls.Certificate, target string, root []byte, rewrite func(*protocol.Evidence)) string {
	t.Helper()
	u, _ := url.Parse(target)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(root)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	if rewrite != nil {
		rp.ModifyResponse = func(resp *http.Response) error {
			var ev protocol.Evidence
			if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
				return err
			}
			resp.Body.Close()
			rewrite(&ev)
			b, _ := json.Marshal(ev)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
			return nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rp, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	return "https://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// The gateway gets its certificate from a real ACME server (Pebble, with
// TLS-ALPN-01 validated against the gateway on loopback; Pebble is not up
// yet when the gateway starts), binds its TLS key into the evidence, and
// cvmtrust verify --gateway accepts it directly and refuses it through a
// proxy that terminates TLS with another CA's certificate for the name.
func TestGatewayACME(t *testing.T) {
	dir := t.TempDir()
	arkFile := filepath.Join(dir, "ark.pem")
	pebblePort := pebbletest.FreePort(t)
	start := time.Now()
	gw := startCLIGateway(t, "--simulated", "--sim-ark", arkFile, "--listen", "127.0.0.1:0",
		"--tls-acme", "localhost", "--acme-directory", "https://127.0.0.1:"+strconv.Itoa(pebblePort)+"/dir",
		"--acme-root", pebbletest.TestCA(t))
	if !strings.HasPrefix(gw.base, "https://localhost:") {
		t.Fatalf("the gateway announces %s, want https://localhost:PORT", gw.base)
	}
	port, _ := strconv.Atoi(gw.base[strings.LastIndex(gw.base, ":")+1:])
	addr := "127.0.0.1:" + strconv.Itoa(port)

	// Before a certificate: no handshake, and no plain HTTP answer.
	if c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", InsecureSkipVerify: true}); err == nil {
		c.Close()
		t.Fatal("a TLS handshake succeeded before the gateway had a certificate")
	}
	if resp, err := http.Get("http://" + addr + "/attestation?nonce=" + base64.RawURLEncoding.EncodeToString(make([]byte, 32))); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || bytes.Contains(b, []byte(`"report"`)) {
			t.Fatalf("plain HTTP served evidence: %s", resp.Status)
		}
	}

	pebble := pebbletest.Start(t, pebbletest.Options{TLSPort: port, Port: pebblePort})
	root := pebble.IssuingRoot(t)
	rootFile := filepath.Join(dir, "pebble-root.pem")
	if err := os.WriteFile(rootFile, root, 0o644); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(root)
	var leaf *x509.Certificate
	for deadline := time.Now().Add(90 * time.Second); leaf == nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no certificate within 90 s; gateway stderr:\n%s", gw.stderr.String())
		}
		if c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", RootCAs: pool}); err == nil {
			leaf = c.ConnectionState().PeerCertificates[0]
			c.Close()
		}
	}
	t.Logf("first certificate %v after the gateway started (Pebble was down for the first attempt; TLS-ALPN-01 validated)", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{"ACME: no TLS certificate yet, so nothing is served; trying again", "ACME: certificate installed", "SPKI SHA-256"} {
		if !strings.Contains(gw.stderr.String(), want) {
			t.Errorf("gateway stderr lacks %q:\n%s", want, gw.stderr.String())
		}
	}
	spki := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	measurement := simulated.DefaultMeasurement

	// The negative cases first. Through a proxy with another CA's
	// certificate for localhost:
	proxyCA := newTestCA(t)
	proxy := startTLSProxy(t, proxyCA.cert, gw.base, root, nil)
	proxyHost := strings.TrimPrefix(proxy, "https://")
	code, out, errOut := runVerifyCLI("--gateway", proxy, "--ca", proxyCA.pemFile, "--simulated-root", arkFile, "--measurement", measurement)
	wantMsg := "the TLS key of " + proxyHost + " is not the attested one (a proxy terminates TLS in front of the CVM)"
	if code != exitRejected || !strings.Contains(errOut, wantMsg) {
		t.Errorf("verify through a TLS-terminating proxy: exit %d, want 1 with %q\nstdout:\n%s\nstderr:\n%s", code, wantMsg, out, errOut)
	}
	// A proxy that also puts its own key's hash in the evidence breaks the
	// report's binding.
	liar := startTLSProxy(t, proxyCA.cert, gw.base, root, func(ev *protocol.Evidence) {
		proxyLeaf, _ := x509.ParseCertificate(proxyCA.cert.Certificate[0])
		sum := sha256.Sum256(proxyLeaf.RawSubjectPublicKeyInfo)
		ev.TLS.SPKISHA256 = sum[:]
	})
	code, out, errOut = runVerifyCLI("--gateway", liar, "--ca", proxyCA.pemFile, "--simulated-root", arkFile, "--measurement", measurement)
	if code != exitRejected || !strings.Contains(out, "FAIL reportData") {
		t.Errorf("verify through a proxy that rewrites the evidence's TLS key: exit %d, want 1 with reportData failed\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// Without --ca, Pebble's root is not trusted: no verification at all.
	if code, _, errOut := runVerifyCLI("--gateway", gw.base, "--simulated-root", arkFile, "--measurement", measurement); code != exitUsage || !strings.Contains(errOut, "verification did not take place") {
		t.Errorf("verify without --ca: exit %d, want 2\n%s", code, errOut)
	}

	code, out, errOut = runVerifyCLI("--gateway", gw.base, "--ca", rootFile, "--simulated-root", arkFile, "--measurement", measurement)
	if code != exitOK {
		t.Fatalf("verify --gateway %s: exit %d, want 0\nstdout:\n%s\nstderr:\n%s\ngateway stderr:\n%s", gw.base, code, out, errOut, gw.stderr.String())
	}
	for _, want := range []string{"evidence protocol v2", "TLS key of this connection " + hex.EncodeToString(spki[:]) + " checked against the attested one"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	if code := gw.stop(t); code != exitOK {
		t.Errorf("gateway exit %d after SIGTERM", code)
	}
}

func TestGatewayACMEFlags(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "c.pem")
	os.WriteFile(cert, []byte("not a certificate"), 0o644)
	for _, args := range [][]string{
		{"--simulated", "--acme-directory", "https://127.0.0.1:1/dir"},
		{"--simulated", "--acme-http", "127.0.0.1:0"},
		{"--simulated", "--tls-acme", ""},
		{"--simulated", "--tls-acme", "localhost", "--tls-cert", cert, "--tls-key", cert},
		{"--simulated", "--tls-acme", "local/host"},
		{"--simulated", "--tls-acme", "localhost", "--acme-directory", "http://127.0.0.1:1/dir"},
		{"--simulated", "--tls-acme", "localhost", "--acme-root", filepath.Join(dir, "missing.pem")},
		{"--simulated", "--tls-acme", "localhost", "--acme-root", cert},
		{"--simulated", "--reports-per-client", "-1"},
	} {
		var stderr bytes.Buffer
		if code := run(append([]string{"gateway"}, args...), io.Discard, &stderr); code != exitUsage || stderr.Len() == 0 {
			t.Errorf("gateway %v: exit %d, want %d with a reason (stderr %q)", args, code, exitUsage, stderr.String())
		}
	}
}

// With --acme-http, Pebble validates HTTP-01 on that listener, which
// answers nothing else, and the evidence is bound to the key as before.
// With --acme-profile shortlived (10-second certificates here) the
// certificate is renewed for the same key, and verify still passes.
func TestGatewayACMEHTTP01Renewal(t *testing.T) {
	dir := t.TempDir()
	arkFile := filepath.Join(dir, "ark.pem")
	pebblePort, httpPort := pebbletest.FreePort(t), pebbletest.FreePort(t)
	gw := startCLIGateway(t, "--simulated", "--sim-ark", arkFile, "--listen", "127.0.0.1:0",
		"--tls-acme", "localhost", "--acme-directory", "https://127.0.0.1:"+strconv.Itoa(pebblePort)+"/dir",
		"--acme-root", pebbletest.TestCA(t), "--acme-http", "127.0.0.1:"+strconv.Itoa(httpPort), "--acme-profile", "shortlived")
	pebble := pebbletest.Start(t, pebbletest.Options{HTTPPort: httpPort, Port: pebblePort})
	rootFile := filepath.Join(dir, "pebble-root.pem")
	if err := os.WriteFile(rootFile, pebble.IssuingRoot(t), 0o644); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(90 * time.Second); !strings.Contains(gw.stderr.String(), "ACME: certificate installed"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no certificate within 90 s; gateway stderr:\n%s", gw.stderr.String())
		}
	}
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/attestation?nonce=" + base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("plain HTTP /attestation on the challenge listener: %s, want 404", resp.Status)
	}
	verifyOK := func(when string) {
		t.Helper()
		if code, out, errOut := runVerifyCLI("--gateway", gw.base, "--ca", rootFile, "--simulated-root", arkFile, "--measurement", simulated.DefaultMeasurement); code != exitOK || !strings.Contains(out, "evidence protocol v2") {
			t.Fatalf("verify --gateway %s: exit %d\nstdout:\n%s\nstderr:\n%s", when, code, out, errOut)
		}
	}
	verifyOK("with the first certificate")
	for deadline := time.Now().Add(60 * time.Second); strings.Count(gw.stderr.String(), "ACME: certificate installed") < 2; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not renewed within 60 s; gateway stderr:\n%s", gw.stderr.String())
		}
	}
	verifyOK("after renewal")
}
