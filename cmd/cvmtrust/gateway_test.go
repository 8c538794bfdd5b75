package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
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
	"github.com/cvmtrust/cvmtrust/protocol"
)

// lockedBuffer collects a command's stderr while it runs in a goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
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
	if _, err := gateway.OpenSNP(); err == nil {
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
	outR, outW := io.Pipe()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"gateway", "--simulated", "--listen", "127.0.0.1:0",
			"--sim-chain", chainFile, "--sim-ark", arkFile}, outW, &stderr)
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
	var base string
	select {
	case l, ok := <-lines:
		if !ok || !strings.HasPrefix(l, "open http://127.0.0.1:") {
			t.Fatalf("first line %q; stderr:\n%s", l, stderr.String())
		}
		base = strings.TrimSuffix(strings.TrimPrefix(l, "open "), "/")
	case <-time.After(60 * time.Second):
		t.Fatalf("the gateway did not start; stderr:\n%s", stderr.String())
	}
	stopped := false
	defer func() {
		if !stopped {
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
			<-done
		}
	}()
	if !strings.Contains(stderr.String(), "SIMULATED") {
		t.Errorf("simulated mode not announced; stderr:\n%s", stderr.String())
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
	stopped = true
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("gateway exit %d after SIGTERM, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the gateway did not stop on SIGTERM")
	}
	if _, err := http.Get(base + "/attestation"); err == nil {
		t.Error("the gateway still answers after SIGTERM")
	}
	if strings.Contains(stderr.String(), hex.EncodeToString(nonce)) {
		t.Error("the gateway logged request data")
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
