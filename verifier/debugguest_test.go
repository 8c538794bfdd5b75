package verifier

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cvmtrust/cvmtrust/protocol"
)

var updateDebugGuest = flag.Bool("update-debug-guest", false, "rewrite testdata/debug-guest")

const debugGuestDir = "../testdata/debug-guest"

// debugGuestCase is testdata/debug-guest/case.json: what a page expects of
// the debug guest's evidence.
type debugGuestCase struct {
	Note        string `json:"note"`
	Measurement string `json:"measurement"`
	ReportData  string `json:"reportData"`
	Policy      string `json:"policy"`
}

// TestDebugGuestFixture: testdata/debug-guest is the evidence of a guest
// whose policy allows debugging (the host can read and change its memory),
// signed by a fake AMD chain whose ARK is ark.pem, with a TCB above every
// default floor. The browser tests show that a page refuses it whatever
// Object.prototype says. Written with -update-debug-guest; checked here:
// rejected with policy.debug alone, verified when debugging is allowed.
func TestDebugGuestFixture(t *testing.T) {
	if *updateDebugGuest {
		writeDebugGuest(t)
	}
	raw, err := os.ReadFile(filepath.Join(debugGuestDir, "evidence.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev protocol.Evidence
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	var c debugGuestCase
	if raw, err = os.ReadFile(filepath.Join(debugGuestDir, "case.json")); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	ark, err := os.ReadFile(filepath.Join(debugGuestDir, "ark.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots, err := AMDRoots().WithSimulated(ark)
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(Options{Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := hex.DecodeString(c.Measurement)
	rd, _ := hex.DecodeString(c.ReportData)
	exp := Expectation{Measurements: [][]byte{m}, ReportData: rd}
	evidence := Evidence{Report: ev.Report, VCEK: ev.Certs.VCEK, Chain: []byte(ev.Certs.Chain)}
	_, err = v.Verify(context.Background(), evidence, exp)
	var rej *RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("the debug guest: %v, want a rejection", err)
	}
	var failed []string
	for _, f := range rej.Result.Failed() {
		failed = append(failed, f.Name)
	}
	if !slices.Equal(failed, []string{"policy.debug"}) {
		t.Errorf("the debug guest failed %v, want [policy.debug] only", failed)
	}
	exp.Policy.AllowDebug = true
	if _, err := v.Verify(context.Background(), evidence, exp); err != nil {
		t.Errorf("the debug guest with debugging allowed: %v", err)
	}
}

func writeDebugGuest(t *testing.T) {
	t.Helper()
	fc := newFakeChain(t, func(s *chainSpec) { s.tcb = &fakeTCB{bl: 10, tee: 10, snp: 40, ucode: 250} })
	r := fc.newReport()
	policy := uint64(0x30000 | 1<<19) // ABI 0.0, SMT allowed, reserved bit 17, DEBUG
	for i := range 8 {
		r.raw[0x08+i] = byte(policy >> (8 * i))
	}
	rd := sha512.Sum512([]byte("cvmtrust debug-guest fixture"))
	copy(r.raw[0x50:0x90], rd[:])
	ev := protocol.Evidence{
		Version: protocol.Version,
		Report:  fc.sign(t, r),
		Certs:   protocol.Certs{VCEK: fc.vcek, Chain: string(fc.chainPEM())},
		// The key is not used: the page binds REPORT_DATA given as such.
		HPKE: protocol.HPKEKey{KEM: protocol.KEMX25519, KDF: "HKDF-SHA256", AEAD: "AES-256-GCM", PublicKey: make([]byte, 32)},
	}
	c := debugGuestCase{
		Note: "SIMULATED: a fake AMD chain (ark.pem) signs a report whose guest policy allows debugging. " +
			"Written by go test ./verifier -run TestDebugGuestFixture -update-debug-guest.",
		Measurement: hex.EncodeToString(fakeMeasurement),
		ReportData:  hex.EncodeToString(rd[:]),
		Policy:      fmt.Sprintf("%#x", policy),
	}
	for name, v := range map[string]any{"evidence.json": ev, "case.json": c} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(debugGuestDir, name), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(debugGuestDir, "ark.pem"), pemCert(fc.ark), 0o644); err != nil {
		t.Fatal(err)
	}
}
