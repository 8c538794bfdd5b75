//go:build !js

// The differential oracle, go-sev-guest, does not build for js/wasm.

package verifier

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/go-sev-guest/validate"
	sevverify "github.com/google/go-sev-guest/verify"
	"github.com/google/go-sev-guest/verify/trust"

	"github.com/cvmtrust/cvmtrust/internal/cert"
)

// oracle runs go-sev-guest's verify + validate on the same evidence and
// expectation: the reference this verifier must agree with.
func oracle(c *realCase, at time.Time, report, ek, ask, ark []byte) error {
	rep, err := abi.ReportToProto(report)
	if err != nil {
		return err
	}
	chain := &spb.CertificateChain{AskCert: ask, ArkCert: ark}
	if c.Signer == "VLEK" {
		chain.VlekCert = ek
	} else {
		chain.VcekCert = ek
	}
	att := &spb.Attestation{Report: rep, CertificateChain: chain}
	// go-sev-guest ignores the evidence's ASK and ARK and uses its own
	// embedded copies, which lack the ASVK. To compare like with like it is
	// given the evidence's intermediate and the pinned ARK as its trusted
	// roots, so a changed intermediate must fail its signature check there
	// as it does here.
	pc := &trust.ProductCerts{}
	if err := pc.Decode(ask, ark); err != nil {
		return err
	}
	if pc.Ark == nil {
		return errors.New("ARK does not parse")
	}
	opts := sevverify.DefaultOptions()
	opts.Now = at
	opts.DisableCertFetching = true
	opts.TrustedRoots = map[string][]*trust.AMDRootCerts{c.Product: {{ProductLine: c.Product, ProductCerts: pc}}}
	if err := sevverify.SnpAttestation(att, opts); err != nil {
		return err
	}
	vmpl := c.VMPL
	return validate.SnpAttestation(att, &validate.Options{
		GuestPolicy:               abi.SnpPolicy{SMT: true},
		Measurement:               c.measurement,
		ReportData:                c.reportData,
		VMPL:                      &vmpl,
		PermitProvisionalFirmware: true,
	})
}

// chainParts splits a case's chain into the intermediate and the ARK (DER).
func chainParts(t testing.TB, c *realCase) (ask, ark []byte) {
	t.Helper()
	certs, err := cert.ParseAll(c.chain)
	if err != nil || len(certs) != 2 {
		t.Fatalf("%s chain: %v", c.ID, err)
	}
	return certs[0].Raw, certs[1].Raw
}

// goSevGuestRefusesTurin is the known difference: go-sev-guest v0.15.0 does
// not know the Turin VCEK's fmcSPL extension (1.3.6.1.4.1.3704.1.3.9) and
// refuses the certificate, although its signature and chain are valid. This
// verifier accepts it and checks fmcSPL against the report's TCB.
func goSevGuestRefusesTurin(err error) bool {
	return err != nil && strings.Contains(err.Error(), "not an AMD KDS OID")
}

// TestDifferentialRealReports: on every real report, both verifiers accept.
func TestDifferentialRealReports(t *testing.T) {
	for _, c := range loadRealCases(t) {
		ask, ark := chainParts(t, c)
		_, ours := verifierAt(t, c.inWindow()).Verify(context.Background(), c.evidence(), c.expectation())
		theirs := oracle(c, c.inWindow(), c.report, c.ek, ask, ark)
		if ours != nil {
			t.Errorf("%s: rejected: %v", c.ID, ours)
		}
		switch {
		case c.Product == "Turin":
			if !goSevGuestRefusesTurin(theirs) {
				t.Errorf("%s: go-sev-guest's known Turin refusal changed: %v (update the documented difference)", c.ID, theirs)
			}
		case theirs != nil:
			t.Errorf("%s: go-sev-guest rejects: %v", c.ID, theirs)
		}
	}
}

// mutation is one single-bit flip in one piece of the evidence.
type mutation struct {
	where string // "report", "ek", "intermediate", "ark"
	bit   int
}

// mutations lists every single-bit flip: in the whole report (signed region
// and signature field) and in the TBS of each certificate. The ASK/ASVK and
// ARK are the same for every report of a product, so their flips are made
// once per distinct chain (firstOfChain).
func mutations(t testing.TB, c *realCase, firstOfChain bool) []mutation {
	var ms []mutation
	for bit := range len(c.report) * 8 {
		ms = append(ms, mutation{"report", bit})
	}
	add := func(where string, der []byte) {
		parsed, err := cert.Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		start := bytes.Index(der, parsed.RawTBS)
		for bit := start * 8; bit < (start+len(parsed.RawTBS))*8; bit++ {
			ms = append(ms, mutation{where, bit})
		}
	}
	add("ek", c.ek)
	if firstOfChain {
		ask, ark := chainParts(t, c)
		add("intermediate", ask)
		add("ark", ark)
	}
	return ms
}

func flip(b []byte, bit int) []byte {
	out := append([]byte(nil), b...)
	out[bit/8] ^= 1 << (bit % 8)
	return out
}

var differentialFull = flag.Bool("differential.full", false,
	"ask go-sev-guest about every mutation, not every 16th (several minutes)")

// knownDifference names the documented cases where go-sev-guest v0.15.0
// accepts a mutation this verifier rejects, or "" when none applies. A
// difference outside these fails the test. (Turin needs no case here:
// go-sev-guest refuses every Turin VCEK, so it rejects every mutation too;
// see TestDifferentialRealReports.)
func knownDifference(c *realCase, m mutation, theirs error) string {
	switch {
	case theirs == nil && m.where == "report" && m.bit/8 == 0x18A && m.bit%8 >= 4 && c.ReportVersion >= 3:
		// go-sev-guest checks the signature over its own re-serialization
		// of the parsed report, which keeps only 4 bits of CPUID_STEP: the
		// high nibble of byte 0x18A can be changed without detection.
		return "go-sev-guest accepts a tampered CPUID_STEP high nibble"
	case theirs == nil && m.where == "ark":
		// go-sev-guest never looks at the ARK that comes with the
		// evidence; this verifier rejects evidence whose ARK is not the
		// pinned one.
		return "go-sev-guest ignores the evidence's ARK"
	}
	return ""
}

// TestTamper flips every bit listed by mutations on every real report (every
// 8th under -short) and checks that each is rejected; every 16th mutation (every one with
// -differential.full) is also put to go-sev-guest, whose verdict must agree
// but for the documented differences.
func TestTamper(t *testing.T) {
	cases := loadRealCases(t)
	seenChain := map[string]bool{}
	stride := 16
	if *differentialFull {
		stride = 1
	}
	for i, c := range cases {
		first := !seenChain[string(c.chain)]
		seenChain[string(c.chain)] = true
		ms := mutations(t, c, first)
		if testing.Short() {
			// Under -short (what CI runs) each report gets every 8th
			// mutation, a different eighth for each report, so that
			// together they still touch every field; without -short every
			// bit of every report is flipped.
			var some []mutation
			for j := i % 8; j < len(ms); j += 8 {
				some = append(some, ms[j])
			}
			ms = some
		}
		offset := i % stride // different reports ask about different bits
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			at := c.inWindow()
			v := verifierAt(t, at)
			ask, ark := chainParts(t, c)
			pinnedARK := ark
			known := map[string]int{}
			asked := 0
			for j, m := range ms {
				report, ek, inter, root := c.report, c.ek, ask, ark
				switch m.where {
				case "report":
					report = flip(report, m.bit)
				case "ek":
					ek = flip(ek, m.bit)
				case "intermediate":
					inter = flip(inter, m.bit)
				case "ark":
					root = flip(root, m.bit)
				}
				ev := Evidence{Report: report, Chain: append(pemCert(inter), pemCert(root)...)}
				if c.Signer == "VLEK" {
					ev.VLEK = ek
				} else {
					ev.VCEK = ek
				}
				res, err := v.Verify(context.Background(), ev, c.expectation())
				var rej *RejectedError
				if res != nil || !errors.As(err, &rej) {
					t.Fatalf("%s bit %d: accepted (err %v)", m.where, m.bit, err)
				}
				if j%stride != offset {
					continue
				}
				asked++
				theirs := oracle(c, at, report, ek, inter, pinnedARK)
				if theirs == nil {
					why := knownDifference(c, m, theirs)
					if why == "" {
						t.Errorf("%s bit %d: go-sev-guest accepts what this verifier rejects (%s)", m.where, m.bit, rej.Result.Failed()[0].Name)
						continue
					}
					known[why]++
				}
			}
			t.Logf("%d mutations rejected; %d put to go-sev-guest; documented differences: %v", len(ms), asked, known)
		})
	}
}
