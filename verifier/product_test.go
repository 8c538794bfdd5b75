package verifier

import (
	"context"
	"errors"
	"testing"
)

// TestTCBLayoutFromReportWhenIdentificationFails: a Turin report given its
// VCEK as if it were a VLEK is rejected before the certificate establishes
// the product. The report (version 5) names its CPU, so the Result still
// decodes its TCBs in Turin's layout and names the product; decoding them
// in Milan's layout would show an auditor wrong patch levels.
func TestTCBLayoutFromReportWhenIdentificationFails(t *testing.T) {
	var turin *realCase
	for _, c := range loadRealCases(t) {
		if c.ID == "oak-turin" {
			turin = c
		}
	}
	if turin == nil {
		t.Fatal("testdata/snp-reports/oak-turin is missing")
	}
	v := verifierAt(t, turin.inWindow())
	_, err := v.Verify(context.Background(), Evidence{Report: turin.report, VLEK: turin.ek, Chain: turin.chain}, turin.expectation())
	var rej *RejectedError
	if !errors.As(err, &rej) || !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("Verify: %v, want a rejection for the signing key", err)
	}
	res := rej.Result
	if res.Product != "Turin" {
		t.Errorf("Product %q, want Turin (from the report's CPUID)", res.Product)
	}
	got := res.Report.ReportedTCB
	if got.Raw != "4700000002000100" || got.Bootloader != 1 || got.TEE != 0 || got.SNP != 2 || got.Microcode != 71 || got.FMC == nil || *got.FMC != 0 {
		t.Errorf("reported TCB %+v (fmc %v), want raw 4700000002000100 bl=1 tee=0 snp=2 ucode=71 fmc=0", got, got.FMC)
	}
}

// TestTCBLayoutOfVersion2Report: a version 2 report does not name its CPU;
// when identification fails its TCBs are decoded in the layout Milan and
// Genoa share, and no product is claimed.
func TestTCBLayoutOfVersion2Report(t *testing.T) {
	for _, c := range loadRealCases(t) {
		if c.ReportVersion != 2 {
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			ev := Evidence{Report: c.report, Chain: c.chain}
			if c.Signer == "VLEK" {
				ev.VCEK = c.ek
			} else {
				ev.VLEK = c.ek
			}
			_, err := verifierAt(t, c.inWindow()).Verify(context.Background(), ev, c.expectation())
			var rej *RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("Verify: %v, want a rejection", err)
			}
			if rej.Result.Product != "" || rej.Result.Report.ReportedTCB.FMC != nil {
				t.Errorf("product %q, fmc %v: a version 2 report names no product and has no FMC", rej.Result.Product, rej.Result.Report.ReportedTCB.FMC)
			}
		})
	}
}
