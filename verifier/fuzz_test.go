package verifier

import (
	"context"
	"errors"
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/cert"
	"github.com/cvmtrust/cvmtrust/verifier/internal/snp"
)

// FuzzVerifyEvidence feeds arbitrary reports, certificates, chains and CRLs
// to Verify. Whatever the input, Verify must return an error or a Result,
// never panic, and never accept: nothing here is signed by AMD.
//
//	go test ./verifier -run XXX -fuzz FuzzVerifyEvidence -fuzztime 5m -fuzzminimizetime 10x
//
// (Minimizing these large inputs by time would otherwise take most of the run.)
func FuzzVerifyEvidence(f *testing.F) {
	for _, c := range loadRealCases(f) {
		f.Add(c.report, c.ek, c.chain, []byte(nil), c.Signer == "VLEK")
	}
	f.Add(make([]byte, snp.ReportSize), []byte{0x30, 0x03, 0x02, 0x01, 0x00}, []byte("-----BEGIN CERTIFICATE-----\n"), []byte{0x30, 0x00}, false)
	cases := loadRealCases(f)
	v := verifierAt(f, cases[0].inWindow())
	f.Fuzz(func(t *testing.T, report, ek, chain, crl []byte, vlek bool) {
		ev := Evidence{Report: report, Chain: chain, CRL: crl}
		if vlek {
			ev.VLEK = ek
		} else {
			ev.VCEK = ek
		}
		res, err := v.Verify(context.Background(), ev, Expectation{AnyMeasurementUnsafe: true})
		if err == nil {
			// Only a real report with its real certificates can pass.
			for _, c := range cases {
				if string(c.report) == string(report) {
					return
				}
			}
			t.Fatalf("accepted fuzzed evidence: %+v", res)
		}
		var rej *RejectedError
		if !errors.As(err, &rej) || rej.Result == nil || res != nil {
			t.Fatalf("error is not a rejection with a Result: %v", err)
		}
	})
}

// FuzzParseCertificate checks the certificate and CRL parsers never panic
// and that whatever parses re-reads to the same fields.
func FuzzParseCertificate(f *testing.F) {
	for _, c := range loadRealCases(f) {
		f.Add(c.ek)
		if certs, err := cert.ParseAll(c.chain); err == nil {
			for _, x := range certs {
				f.Add(x.Raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		if c, err := cert.Parse(der); err == nil {
			if len(c.RawTBS) == 0 || len(c.SPKI) == 0 || len(c.Signature) == 0 {
				t.Fatalf("parsed certificate lacks a part")
			}
		}
		_, _ = cert.ParseAll(der)
		_, _ = cert.ParseCRL(der)
	})
}
