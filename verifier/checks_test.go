package verifier

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/cert"
	"github.com/cvmtrust/cvmtrust/protocol"
)

// rejects asserts that Verify rejected with wantErr and that the named
// check is among the failures.
func rejects(t *testing.T, res *Result, err error, wantCheck string, wantErr error) {
	t.Helper()
	if res != nil {
		t.Fatalf("Verify returned a Result for rejected evidence")
	}
	var rej *RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("error %v is not a *RejectedError", err)
	}
	if !errors.Is(err, wantErr) {
		t.Errorf("error %v does not match %v", err, wantErr)
	}
	if rej.Result.Verified {
		t.Errorf("rejected Result says verified")
	}
	for _, c := range rej.Result.Failed() {
		if c.Name == wantCheck {
			return
		}
	}
	t.Errorf("check %q did not fail; failed: %+v", wantCheck, rej.Result.Failed())
}

func TestFakeChainVerifiesAsSimulated(t *testing.T) {
	for _, p := range []string{"Milan", "Genoa", "Turin"} {
		fc := newFakeChain(t, func(s *chainSpec) { s.product = p })
		rep := fc.sign(t, fc.newReport())
		res, err := fc.verifier(t).Verify(context.Background(), fc.evidence(rep), Expectation{Measurements: [][]byte{fakeMeasurement}})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !res.Simulated || res.Product != p {
			t.Fatalf("%s: simulated=%v product=%q", p, res.Simulated, res.Product)
		}
	}
}

// TestSimulatedRootNotTrustedByDefault: the default verifier trusts only the
// pinned AMD roots.
func TestSimulatedRootNotTrustedByDefault(t *testing.T) {
	fc := newFakeChain(t)
	rep := fc.sign(t, fc.newReport())
	v, err := New(Options{Now: func() time.Time { return fakeEpoch }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(context.Background(), fc.evidence(rep), Expectation{Measurements: [][]byte{fakeMeasurement}})
	rejects(t, res, err, "chain.ark", ErrUntrustedRoot)
	// Without the self-made ARK in the evidence, the ASK does not chain to
	// the pinned ARK either.
	ev := fc.evidence(rep)
	ev.Chain = pemCert(fc.ask)
	res, err = v.Verify(context.Background(), ev, Expectation{Measurements: [][]byte{fakeMeasurement}})
	rejects(t, res, err, "chain.intermediate", ErrBadChain)
}

// TestFakeReportChecks makes each report-level check reject in turn, with
// a report correctly signed by a trusted (simulated) chain, so only the
// check under test can fail.
func TestFakeReportChecks(t *testing.T) {
	anyM := Expectation{Measurements: [][]byte{fakeMeasurement}}
	tests := []struct {
		name      string
		product   string
		chain     []chainOpt
		mutate    func(b []byte)
		exp       func(e *Expectation)
		evidence  func(fc *fakeChain, ev *Evidence)
		wantCheck string
		wantErr   error
	}{
		{name: "version 4", mutate: func(b []byte) { b[0] = 4 }, wantCheck: "report.version", wantErr: ErrMalformedReport},
		{name: "version 1", mutate: func(b []byte) { b[0] = 1 }, wantCheck: "report.version", wantErr: ErrMalformedReport},
		{name: "reserved after SIGNER_INFO", mutate: func(b []byte) { b[0x4C] = 1 }, wantCheck: "report.reserved", wantErr: ErrMalformedReport},
		{name: "reserved after CPUID", mutate: func(b []byte) { b[0x18B] = 1 }, wantCheck: "report.reserved", wantErr: ErrMalformedReport},
		{name: "reserved before signature (v3)", mutate: func(b []byte) { b[0x1F8] = 1 }, wantCheck: "report.reserved", wantErr: ErrMalformedReport},
		{name: "SIGNER_INFO reserved bits", mutate: func(b []byte) { b[0x48] = 0x20 }, wantCheck: "report.reserved", wantErr: ErrMalformedReport},
		{name: "signature algorithm", mutate: func(b []byte) { b[0x34] = 2 }, wantCheck: "report.signatureAlgorithm", wantErr: ErrMalformedReport},
		{name: "signing key none", mutate: func(b []byte) { b[0x48] = 7 << 2 }, wantCheck: "report.signingKey", wantErr: ErrKeyMismatch},
		{name: "report says VLEK, VCEK supplied", mutate: func(b []byte) { b[0x48] = 1 << 2 }, wantCheck: "report.signingKey", wantErr: ErrKeyMismatch},
		{name: "report says VCEK, VLEK supplied", evidence: func(fc *fakeChain, ev *Evidence) { ev.VLEK, ev.VCEK = ev.VCEK, nil },
			wantCheck: "report.signingKey", wantErr: ErrKeyMismatch},
		{name: "CPUID says Genoa, certificate Milan", mutate: func(b []byte) { b[0x189] = 0x11 }, wantCheck: "product", wantErr: ErrUnknownProduct},
		{name: "unknown CPU family", mutate: func(b []byte) { b[0x188] = 0x17 }, wantCheck: "product", wantErr: ErrUnknownProduct},
		{name: "no certificates, no fetcher", evidence: func(fc *fakeChain, ev *Evidence) { ev.VCEK = nil }, wantCheck: "certificates", wantErr: ErrMissingCerts},
		{name: "garbage VCEK", evidence: func(fc *fakeChain, ev *Evidence) { ev.VCEK = []byte("not a certificate") }, wantCheck: "certificates", wantErr: ErrMalformedCert},
		{name: "VCEK for another chip", mutate: func(b []byte) { b[0x1A0] ^= 1 }, wantCheck: "vcek.hwid", wantErr: ErrTCBMismatch},
		{name: "Turin CHIP_ID past 8 bytes", product: "Turin", mutate: func(b []byte) { b[0x1A0+9] = 1 }, wantCheck: "vcek.hwid", wantErr: ErrTCBMismatch},
		{name: "VCEK without hwID", chain: []chainOpt{func(s *chainSpec) {
			s.vcekExtensions = func(e []pkix.Extension) []pkix.Extension { return e[:len(e)-1] }
		}}, wantCheck: "vcek.hwid", wantErr: ErrTCBMismatch},
		{name: "reported TCB differs from VCEK (snp)", mutate: func(b []byte) { b[0x180+6]++ }, wantCheck: "vcek.tcb", wantErr: ErrTCBMismatch},
		{name: "reported TCB differs from VCEK (ucode)", mutate: func(b []byte) { b[0x180+7]-- }, wantCheck: "vcek.tcb", wantErr: ErrTCBMismatch},
		{name: "Turin fmcSPL differs", product: "Turin", mutate: func(b []byte) { b[0x180]++ }, wantCheck: "vcek.tcb", wantErr: ErrTCBMismatch},
		{name: "Turin VCEK without fmcSPL", product: "Turin", chain: []chainOpt{func(s *chainSpec) {
			s.vcekExtensions = func(e []pkix.Extension) []pkix.Extension {
				var out []pkix.Extension
				for _, x := range e {
					if !x.Id.Equal(asn1.ObjectIdentifier(cert.OIDFmcSPL)) {
						out = append(out, x)
					}
				}
				return out
			}
		}}, wantCheck: "vcek.tcb", wantErr: ErrTCBMismatch},
		{name: "debug allowed", mutate: func(b []byte) { b[0x0A] |= 0x08 }, wantCheck: "policy.debug", wantErr: ErrPolicy},
		{name: "migration agent", mutate: func(b []byte) { b[0x0A] |= 0x04 }, wantCheck: "policy.migrationAgent", wantErr: ErrPolicy},
		{name: "SMT when forbidden", mutate: func(b []byte) { b[0x0A] |= 0x01 }, exp: func(e *Expectation) { e.Policy.RequireNoSMT = true },
			wantCheck: "policy.smt", wantErr: ErrPolicy},
		{name: "policy bit 17 clear", mutate: func(b []byte) { b[0x0A] &^= 0x02 }, wantCheck: "policy.reserved", wantErr: ErrPolicy},
		{name: "policy high bit", mutate: func(b []byte) { b[0x0F] = 0x80 }, wantCheck: "policy.reserved", wantErr: ErrPolicy},
		{name: "ABI below minimum", exp: func(e *Expectation) { e.Policy.MinABIMinor = 1 }, wantCheck: "policy.abi", wantErr: ErrPolicy},
		{name: "ID key digest", exp: func(e *Expectation) { e.IDKeyDigest = make([]byte, 48); e.IDKeyDigest[0] = 1 },
			wantCheck: "idKeyDigest", wantErr: ErrIDKeyDigest},
		{name: "host data", exp: func(e *Expectation) { e.HostData = make([]byte, 32); e.HostData[31] = 1 },
			wantCheck: "hostData", wantErr: ErrHostData},
		{name: "expired VCEK", chain: []chainOpt{func(s *chainSpec) { s.vcekNotAfter = fakeEpoch.Add(-time.Hour) }},
			wantCheck: "validity.vcek", wantErr: ErrCertExpired},
		{name: "ASK signed by another key", chain: []chainOpt{func(s *chainSpec) { s.askIssuerKey = 2 }},
			wantCheck: "chain.intermediate", wantErr: ErrBadChain},
		{name: "VCEK not signed by the ASK", evidence: func(fc *fakeChain, ev *Evidence) {
			ev.VCEK = newFakeChain(t, func(s *chainSpec) { s.askKeyIndex = 2 }).vcek
		}, wantCheck: "chain.endorsementKey", wantErr: ErrBadChain},
		{name: "three certificates in chain", evidence: func(fc *fakeChain, ev *Evidence) { ev.Chain = append(ev.Chain, pemCert(fc.ark)...) },
			wantCheck: "chain.intermediate", wantErr: ErrBadChain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.chain
			if tc.product != "" {
				opts = append(opts, func(s *chainSpec) { s.product = tc.product })
			}
			fc := newFakeChain(t, opts...)
			r := fc.newReport()
			if tc.mutate != nil {
				tc.mutate(r.raw[:])
			}
			ev := fc.evidence(fc.sign(t, r))
			if tc.evidence != nil {
				tc.evidence(fc, &ev)
			}
			exp := anyM
			if tc.exp != nil {
				tc.exp(&exp)
			}
			res, err := fc.verifier(t).Verify(context.Background(), ev, exp)
			rejects(t, res, err, tc.wantCheck, tc.wantErr)
		})
	}
}

func TestVersion5ReservedRange(t *testing.T) {
	fc := newFakeChain(t)
	r := fc.newReport()
	b := r.raw[:]
	b[0] = 5
	binary.LittleEndian.PutUint64(b[0x1F8:], 0x3) // LAUNCH_MIT_VECTOR: a field in v5
	binary.LittleEndian.PutUint64(b[0x200:], 0x3)
	ev := fc.evidence(fc.sign(t, r))
	if _, err := fc.verifier(t).Verify(context.Background(), ev, Expectation{Measurements: [][]byte{fakeMeasurement}}); err != nil {
		t.Fatalf("v5 with mitigation vectors: %v", err)
	}
	b[0x208] = 1
	ev = fc.evidence(fc.sign(t, r))
	res, err := fc.verifier(t).Verify(context.Background(), ev, Expectation{Measurements: [][]byte{fakeMeasurement}})
	rejects(t, res, err, "report.reserved", ErrMalformedReport)
}

func TestRevocation(t *testing.T) {
	fc := newFakeChain(t)
	ev := fc.evidence(fc.sign(t, fc.newReport()))
	exp := Expectation{Measurements: [][]byte{fakeMeasurement}}
	day := 24 * time.Hour
	verify := func(ev Evidence, exp Expectation) (*Result, error) {
		return fc.verifier(t).Verify(context.Background(), ev, exp)
	}

	t.Run("VCEK revoked", func(t *testing.T) {
		ev := ev
		ev.CRL = fc.crl(t, fc.arkKey, fakeEpoch.Add(-day), fakeEpoch.Add(day), big.NewInt(0))
		res, err := verify(ev, exp)
		rejects(t, res, err, "revocation", ErrRevoked)
	})
	t.Run("ASK revoked", func(t *testing.T) {
		ev := ev
		ev.CRL = fc.crl(t, fc.arkKey, fakeEpoch.Add(-day), fakeEpoch.Add(day), big.NewInt(0x10001))
		res, err := verify(ev, exp)
		rejects(t, res, err, "revocation", ErrRevoked)
	})
	t.Run("CRL not signed by the ARK", func(t *testing.T) {
		ev := ev
		ev.CRL = fc.crl(t, fakeKeys()[2], fakeEpoch.Add(-day), fakeEpoch.Add(day))
		res, err := verify(ev, exp)
		rejects(t, res, err, "revocation", ErrBadCRL)
	})
	t.Run("CRL past nextUpdate", func(t *testing.T) {
		ev := ev
		ev.CRL = fc.crl(t, fc.arkKey, fakeEpoch.Add(-2*day), fakeEpoch.Add(-day))
		res, err := verify(ev, exp)
		rejects(t, res, err, "revocation", ErrBadCRL)
	})
	t.Run("CRL garbage", func(t *testing.T) {
		ev := ev
		ev.CRL = []byte("garbage")
		res, err := verify(ev, exp)
		rejects(t, res, err, "revocation", ErrBadCRL)
	})
	t.Run("no CRL but required", func(t *testing.T) {
		exp := exp
		exp.RequireRevocationCheck = true
		res, err := verify(ev, exp)
		rejects(t, res, err, "revocation", ErrRevocationUnchecked)
	})
	t.Run("no CRL says so", func(t *testing.T) {
		res, err := verify(ev, exp)
		if err != nil {
			t.Fatal(err)
		}
		if res.Revocation == "checked" || checkOutcome(res, "revocation") != Skipped {
			t.Fatalf("revocation %q / %v, want not checked and skipped", res.Revocation, checkOutcome(res, "revocation"))
		}
	})
	t.Run("current CRL not naming the chain passes", func(t *testing.T) {
		ev := ev
		ev.CRL = fc.crl(t, fc.arkKey, fakeEpoch.Add(-day), fakeEpoch.Add(day), big.NewInt(12345))
		res, err := verify(ev, exp)
		if err != nil {
			t.Fatal(err)
		}
		if res.Revocation != "checked" || checkOutcome(res, "revocation") != Pass {
			t.Fatalf("revocation %q", res.Revocation)
		}
	})
}

func checkOutcome(res *Result, name string) Outcome {
	for _, c := range res.Checks {
		if c.Name == name {
			return c.Outcome
		}
	}
	return ""
}

// TestRealReportExpectations makes each expectation-driven check reject on
// every real report, and checks the v1 binding passes and fails as it
// should.
func TestRealReportExpectations(t *testing.T) {
	for _, c := range loadRealCases(t) {
		t.Run(c.ID, func(t *testing.T) {
			v := verifierAt(t, c.inWindow())
			ctx := context.Background()
			check := func(name string, mutate func(*Expectation), wantCheck string, wantErr error) {
				t.Helper()
				exp := c.expectation()
				mutate(&exp)
				res, err := v.Verify(ctx, c.evidence(), exp)
				t.Run(name, func(t *testing.T) { rejects(t, res, err, wantCheck, wantErr) })
			}
			check("wrong measurement", func(e *Expectation) {
				m := append([]byte(nil), c.measurement...)
				m[47] ^= 1
				e.Measurements = [][]byte{m}
			}, "measurement", ErrMeasurement)
			check("wrong report data", func(e *Expectation) {
				d := append([]byte(nil), c.reportData...)
				d[0] ^= 0x80
				e.ReportData = d
			}, "reportData", ErrReportData)
			check("binding of another nonce", func(e *Expectation) {
				e.ReportData = nil
				e.Binding = &Binding{Nonce: make([]byte, 32), HPKEPublicKey: []byte("key")}
			}, "reportData", ErrReportData)
			check("wrong VMPL", func(e *Expectation) { vmpl := (c.VMPL + 1) % 4; e.VMPL = &vmpl }, "vmpl", ErrVMPL)
			for _, floor := range []struct {
				name string
				f    TCBFloor
			}{
				{"bl", TCBFloor{Bootloader: 255}}, {"tee", TCBFloor{TEE: 255}}, {"snp", TCBFloor{SNP: 255}}, {"ucode", TCBFloor{Microcode: 255}},
			} {
				check("TCB floor "+floor.name, func(e *Expectation) { e.MinTCB = floor.f }, "tcb.reported", ErrTCBTooLow)
			}
			if c.Product == "Turin" {
				check("TCB floor fmc", func(e *Expectation) { e.MinTCB = TCBFloor{FMC: 255} }, "tcb.reported", ErrTCBTooLow)
			}
			check("guest SVN", func(e *Expectation) { e.MinGuestSVN = 1 << 31 }, "guestSvn", ErrGuestSVN)
			check("ABI major", func(e *Expectation) { e.Policy.MinABIMajor = 255 }, "policy.abi", ErrPolicy)

			// Floors the real report meets pass, and so does a floor equal to
			// its own TCB.
			exp := c.expectation()
			res, err := v.Verify(ctx, c.evidence(), exp)
			if err != nil {
				t.Fatal(err)
			}
			t0 := res.Report.ReportedTCB
			exp.MinTCB = TCBFloor{Bootloader: t0.Bootloader, TEE: t0.TEE, SNP: t0.SNP, Microcode: t0.Microcode}
			if _, err := v.Verify(ctx, c.evidence(), exp); err != nil {
				t.Fatalf("floor equal to the reported TCB: %v", err)
			}
		})
	}
}

func TestBindingAccepted(t *testing.T) {
	fc := newFakeChain(t)
	nonce := make([]byte, 32)
	nonce[3] = 9
	pk := []byte("an HPKE public key")
	rd, err := protocol.ReportData(nonce, pk)
	if err != nil {
		t.Fatal(err)
	}
	r := fc.newReport()
	copy(r.raw[0x50:], rd[:])
	ev := fc.evidence(fc.sign(t, r))
	exp := Expectation{Measurements: [][]byte{fakeMeasurement}, Binding: &Binding{Nonce: nonce, HPKEPublicKey: pk}}
	if _, err := fc.verifier(t).Verify(context.Background(), ev, exp); err != nil {
		t.Fatal(err)
	}
	exp.Binding = &Binding{Nonce: nonce, HPKEPublicKey: []byte("a swapped HPKE key")}
	res, err := fc.verifier(t).Verify(context.Background(), ev, exp)
	rejects(t, res, err, "reportData", ErrReportData)
}

// Evidence v2 binds the TLS key too: the same report is refused as v1, or
// with another TLS key, and the tlsKey check refuses a TLS key seen on the
// connection that is not the bound one, and any TLS key with v1 evidence.
func TestBindingV2(t *testing.T) {
	fc := newFakeChain(t)
	nonce, pk := make([]byte, 32), []byte("an HPKE public key")
	tlsKey := bytes.Repeat([]byte{0xab}, 32)
	proxyKey := bytes.Repeat([]byte{0xcd}, 32)
	rd, err := protocol.ReportDataV2(nonce, tlsKey, pk)
	if err != nil {
		t.Fatal(err)
	}
	r := fc.newReport()
	copy(r.raw[0x50:], rd[:])
	ev := fc.evidence(fc.sign(t, r))
	v := fc.verifier(t)
	ctx := context.Background()
	expect := func(b *Binding, seen []byte) Expectation {
		return Expectation{Measurements: [][]byte{fakeMeasurement}, Binding: b, TLSKeySHA256: seen}
	}
	v2 := &Binding{Nonce: nonce, HPKEPublicKey: pk, TLSKeySHA256: tlsKey}

	res, err := v.Verify(ctx, ev, expect(&Binding{Nonce: nonce, HPKEPublicKey: pk}, nil))
	rejects(t, res, err, "reportData", ErrReportData)
	res, err = v.Verify(ctx, ev, expect(&Binding{Nonce: nonce, HPKEPublicKey: pk, TLSKeySHA256: proxyKey}, nil))
	rejects(t, res, err, "reportData", ErrReportData)
	res, err = v.Verify(ctx, ev, expect(v2, proxyKey))
	rejects(t, res, err, "tlsKey", ErrTLSKey)

	// v1 evidence, however well bound, says nothing of TLS.
	rd1, _ := protocol.ReportData(nonce, pk)
	r1 := fc.newReport()
	copy(r1.raw[0x50:], rd1[:])
	ev1 := fc.evidence(fc.sign(t, r1))
	res, err = v.Verify(ctx, ev1, expect(&Binding{Nonce: nonce, HPKEPublicKey: pk}, tlsKey))
	rejects(t, res, err, "tlsKey", ErrTLSKey)
	if res, err := v.Verify(ctx, ev1, expect(&Binding{Nonce: nonce, HPKEPublicKey: pk}, nil)); err != nil || res.Binding != BindingV1 || res.TLSKeySHA256 != "" {
		t.Fatalf("v1 evidence: %v, binding %q %q", err, res.Binding, res.TLSKeySHA256)
	}

	res, err = v.Verify(ctx, ev, expect(v2, tlsKey))
	if err != nil {
		t.Fatal(err)
	}
	if res.Binding != BindingV2 || res.TLSKeySHA256 != hex.EncodeToString(tlsKey) {
		t.Errorf("Result binding %q, TLS key %q", res.Binding, res.TLSKeySHA256)
	}
	res, err = v.Verify(ctx, ev, expect(v2, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Checks {
		if c.Name == "tlsKey" && c.Outcome != Skipped {
			t.Errorf("tlsKey without a TLS key seen: %s", c.Outcome)
		}
	}
}

func TestExpectationValidation(t *testing.T) {
	m := [][]byte{make([]byte, 48)}
	vmpl := 4
	for name, exp := range map[string]Expectation{
		"no measurement":           {},
		"measurement and unsafe":   {Measurements: m, AnyMeasurementUnsafe: true},
		"short measurement":        {Measurements: [][]byte{make([]byte, 32)}},
		"report data and binding":  {Measurements: m, ReportData: make([]byte, 64), Binding: &Binding{Nonce: make([]byte, 32), HPKEPublicKey: []byte{1}}},
		"short report data":        {Measurements: m, ReportData: make([]byte, 32)},
		"short nonce":              {Measurements: m, Binding: &Binding{Nonce: make([]byte, 16), HPKEPublicKey: []byte{1}}},
		"binding without key":      {Measurements: m, Binding: &Binding{Nonce: make([]byte, 32)}},
		"short TLS key in binding": {Measurements: m, Binding: &Binding{Nonce: make([]byte, 32), HPKEPublicKey: []byte{1}, TLSKeySHA256: make([]byte, 20)}},
		"short TLS key seen":       {Measurements: m, TLSKeySHA256: make([]byte, 48)},
		"host data size":           {Measurements: m, HostData: make([]byte, 48)},
		"id key digest size":       {Measurements: m, IDKeyDigest: make([]byte, 32)},
		"vmpl out of range":        {Measurements: m, VMPL: &vmpl},
	} {
		t.Run(name, func(t *testing.T) {
			v := verifierAt(t, fakeEpoch)
			res, err := v.Verify(context.Background(), Evidence{}, exp)
			if res != nil || !errors.Is(err, ErrBadExpectation) {
				t.Fatalf("got %v, %v; want ErrBadExpectation", res, err)
			}
		})
	}
}

func TestAnyMeasurementUnsafeIsLoud(t *testing.T) {
	c := loadRealCases(t)[0]
	v := verifierAt(t, c.inWindow())
	res, err := v.Verify(context.Background(), c.evidence(), Expectation{AnyMeasurementUnsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range res.Checks {
		if ch.Name == "measurement" {
			if ch.Outcome != Skipped || len(ch.Detail) < 6 || ch.Detail[:6] != "UNSAFE" {
				t.Fatalf("measurement check %+v, want skipped and marked UNSAFE", ch)
			}
			return
		}
	}
	t.Fatal("no measurement check in the Result")
}

func TestMalformedReport(t *testing.T) {
	v := verifierAt(t, fakeEpoch)
	for _, n := range []int{0, 1, 1183, 1185, 4096} {
		res, err := v.Verify(context.Background(), Evidence{Report: make([]byte, n)}, Expectation{AnyMeasurementUnsafe: true})
		rejects(t, res, err, "report.format", ErrMalformedReport)
	}
}

// TestRealVCEKResignedBySelfMadeARK: a real VCEK re-issued, key and
// extensions unchanged, under a self-made ASK and ARK that copy AMD's names.
// The real report's signature still verifies against that VCEK's key, so
// only the chain can catch it, and it must.
func TestRealVCEKResignedBySelfMadeARK(t *testing.T) {
	c := realCaseByID(t, "oak-genoa")
	fc := newFakeChain(t, func(s *chainSpec) { s.product = "Genoa" })
	real, err := x509.ParseCertificate(c.ek)
	if err != nil {
		t.Fatal(err)
	}
	ask, _ := x509.ParseCertificate(fc.ask)
	tmpl := *real
	tmpl.SignatureAlgorithm = x509.SHA384WithRSAPSS
	tmpl.ExtraExtensions = real.Extensions
	tmpl.Extensions = nil
	forged, err := x509.CreateCertificate(rand.Reader, &tmpl, ask, real.PublicKey, fc.askKey)
	if err != nil {
		t.Fatal(err)
	}
	v := verifierAt(t, c.inWindow())
	for name, chain := range map[string][]byte{
		"with the self-made ARK": fc.chainPEM(),
		"without an ARK":         pemCert(fc.ask),
	} {
		res, err := v.Verify(context.Background(), Evidence{Report: c.report, VCEK: forged, Chain: chain}, c.expectation())
		var rej *RejectedError
		if res != nil || !errors.As(err, &rej) {
			t.Fatalf("%s: forged chain accepted", name)
		}
		if !errors.Is(err, ErrUntrustedRoot) && !errors.Is(err, ErrBadChain) {
			t.Errorf("%s: %v, want an untrusted root or a bad chain", name, err)
		}
	}
	// Trusted as a simulated root, the same forgery verifies — and says so.
	res, err := fc.verifierAt(t, c.inWindow()).Verify(context.Background(), Evidence{Report: c.report, VCEK: forged, Chain: fc.chainPEM()}, c.expectation())
	if err != nil || !res.Simulated {
		t.Fatalf("with the forger's root trusted as simulated: %v, simulated=%v", err, res != nil && res.Simulated)
	}
}

func TestVLEKExpiredToday(t *testing.T) {
	c := realCaseByID(t, "trustee-snp-vlek-milan-aws")
	v, err := New(Options{}) // the real clock
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(context.Background(), c.evidence(), c.expectation())
	rejects(t, res, err, "validity.vlek", ErrCertExpired)
}
