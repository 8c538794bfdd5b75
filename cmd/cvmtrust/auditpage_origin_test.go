package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/gateway/simulated"
	"github.com/cvmtrust/cvmtrust/internal/pebbletest"
)

// TestAuditPageOrigin: the gateway with its own ACME certificate (Pebble)
// serves the widget's page itself (--static). Through a proxy that
// terminates TLS in front of it, audit-page says the page did not come from
// the attested machine (exit 1); directly, that it did (exit 0). A gateway
// with a certificate handed in from outside (--tls-cert: evidence v1, no
// TLS key bound) cannot be shown to have served the page (exit 1). Plain
// HTTP on loopback is in TestAuditPageDemo.
func TestAuditPageOrigin(t *testing.T) {
	site, build := widgetSite(t)
	editFile(t, filepath.Join(site, "dist/demo/index.html"), cleanDemo)
	dir := t.TempDir()
	arkFile := filepath.Join(dir, "ark.pem")
	measurement := simulated.DefaultMeasurement

	pebble := pebbletest.Start(t, pebbletest.Options{AlwaysValid: true})
	rootFile := filepath.Join(dir, "pebble-root.pem")
	root := pebble.IssuingRoot(t)
	if err := os.WriteFile(rootFile, root, 0o644); err != nil {
		t.Fatal(err)
	}
	gw := startCLIGateway(t, "--simulated", "--sim-ark", arkFile, "--listen", "127.0.0.1:0", "--static", site,
		"--tls-acme", "localhost", "--acme-directory", pebble.Directory, "--acme-root", pebble.TestCA)
	for deadline := time.Now().Add(90 * time.Second); !strings.Contains(gw.stderr.String(), "ACME: certificate installed"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no certificate within 90 s; gateway stderr:\n%s", gw.stderr.String())
		}
	}

	proxyCA := newTestCA(t)
	proxy := startTLSProxy(t, proxyCA.cert, gw.base, root, nil)
	code, out, errOut := runAuditCLI(proxy+"/demo/", "--build", build, "--ca", proxyCA.pemFile, "--simulated-root", arkFile, "--measurement", measurement)
	proxyHost := strings.TrimPrefix(proxy, "https://")
	for _, want := range []string{"FAIL origin: the page did not come from the attested machine",
		"the TLS key of " + proxyHost + " is not the attested one (a proxy terminates TLS in front of the CVM)",
		"FAIL: it is not shown to come from the attested machine (see FAIL above)"} {
		if code != exitRejected || !strings.Contains(out, want) {
			t.Errorf("audit-page through a TLS-terminating proxy: exit %d, want 1 with %q\nstdout:\n%s\nstderr:\n%s", code, want, out, errOut)
		}
	}
	if strings.Count(out, "  FAIL ") != 1 {
		t.Errorf("through the proxy, something besides the origin fails:\n%s", out)
	}

	code, out, errOut = runAuditCLI(gw.base+"/demo/", "--build", build, "--ca", rootFile, "--simulated-root", arkFile, "--measurement", measurement)
	for _, want := range []string{"ok   origin: the page came from the attested machine, against a SIMULATED AMD root",
		"The page was served by the attested machine, over TLS whose key is bound in its attestation",
		"PASS: the page loads exactly this widget build, pinned, nothing in it can take the widget over, and it came from the attested machine"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("audit-page %s/demo/: exit %d, want 0 with %q\nstdout:\n%s\nstderr:\n%s", gw.base, code, want, out, errOut)
		}
	}
	// The same page against another release's measurement.
	code, out, _ = runAuditCLI(gw.base+"/demo/", "--build", build, "--ca", rootFile, "--simulated-root", arkFile, "--measurement", strings.Repeat("00", 48))
	if code != exitRejected || !strings.Contains(out, "does not verify (failed: measurement)") {
		t.Errorf("another measurement: exit %d, want 1\n%s", code, out)
	}
	if code := gw.stop(t); code != exitOK {
		t.Errorf("gateway exit %d after SIGTERM", code)
	}

	// A certificate from outside: the evidence is v1 and binds no TLS key.
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	keyDER, err := x509.MarshalPKCS8PrivateKey(proxyCA.cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxyCA.cert.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	gw = startCLIGateway(t, "--simulated", "--sim-ark", arkFile, "--listen", "127.0.0.1:0", "--static", site, "--tls-cert", certFile, "--tls-key", keyFile)
	page := strings.Replace(gw.base, "127.0.0.1", "localhost", 1) + "/demo/" // the certificate names localhost
	code, out, errOut = runAuditCLI(page, "--build", build, "--ca", proxyCA.pemFile, "--simulated-root", arkFile, "--measurement", measurement)
	if code != exitRejected || !strings.Contains(out, "FAIL origin: not shown to come from the attested machine") || !strings.Contains(out, "protocol v1, which binds no TLS key") {
		t.Errorf("audit-page over --tls-cert HTTPS: exit %d, want 1 (evidence v1)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
