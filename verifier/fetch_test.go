package verifier

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// mapFetcher serves KDS paths from a map and counts requests.
type mapFetcher struct {
	docs  map[string][]byte
	calls []string
}

var errNotFound = errors.New("404 not found")

func (f *mapFetcher) Fetch(_ context.Context, path string) ([]byte, error) {
	f.calls = append(f.calls, path)
	if b, ok := f.docs[path]; ok {
		return b, nil
	}
	return nil, errNotFound
}

func realCaseByID(t *testing.T, id string) *realCase {
	for _, c := range loadRealCases(t) {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no case %s", id)
	return nil
}

func TestFetchVCEKThroughKDS(t *testing.T) {
	for _, id := range []string{"oak-genoa", "oak-turin", "oak-milan-oc-release"} {
		c := realCaseByID(t, id)
		v0 := verifierAt(t, c.inWindow())
		res0, err := v0.Verify(context.Background(), c.evidence(), c.expectation())
		if err != nil {
			t.Fatal(err)
		}
		path := VCEKPath(productOf(c), c.report[0x1A0:0x1E0], leUint64(c.report[0x180:]))
		f := &mapFetcher{docs: map[string][]byte{path: c.ek}}
		v, err := New(Options{Now: c.inWindow, Fetcher: f})
		if err != nil {
			t.Fatal(err)
		}
		res, err := v.Verify(context.Background(), Evidence{Report: c.report}, c.expectation())
		if err != nil {
			t.Fatalf("%s via fetcher (%v): %v", id, f.calls, err)
		}
		if res.Revocation == "checked" || !strings.Contains(res.Revocation, "could not be fetched") {
			t.Errorf("%s: revocation %q, want a note that the CRL could not be fetched", id, res.Revocation)
		}
		if res.Product != res0.Product || res.Report.Measurement != res0.Report.Measurement {
			t.Errorf("%s: fetched result differs", id)
		}
		if id == "oak-turin" && !strings.Contains(path, "/"+strings.ToLower(c.ChipID[:16])+"?") || !strings.HasPrefix(path, "/vcek/v1/"+c.Product+"/") {
			t.Errorf("%s: KDS path %s", id, path)
		}
	}
}

// TestFetchedVCEKForAnotherChip: an untrusted proxy that serves a genuine
// VCEK of another chip is caught.
func TestFetchedVCEKForAnotherChip(t *testing.T) {
	c, other := realCaseByID(t, "oak-genoa"), realCaseByID(t, "routex-genoa-v3")
	f := &fetchAll{doc: other.ek}
	v, err := New(Options{Now: c.inWindow, Fetcher: f})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(context.Background(), Evidence{Report: c.report}, c.expectation())
	rejects(t, res, err, "vcek.hwid", ErrTCBMismatch)
	rejects(t, res, err, "report.signature", ErrBadSignature)
}

type fetchAll struct{ doc []byte }

func (f *fetchAll) Fetch(context.Context, string) ([]byte, error) { return f.doc, nil }

func TestFetcherDown(t *testing.T) {
	c := realCaseByID(t, "oak-genoa")
	v, err := New(Options{Now: c.inWindow, Fetcher: &mapFetcher{}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(context.Background(), Evidence{Report: c.report}, c.expectation())
	rejects(t, res, err, "certificates", ErrMissingCerts)
	if !errors.Is(err, ErrMissingCerts) {
		t.Fatal(err)
	}
	// With certificates in the evidence, a dead fetcher only costs the
	// revocation check, and the Result says so.
	res, err = v.Verify(context.Background(), c.evidence(), c.expectation())
	if err != nil {
		t.Fatal(err)
	}
	if checkOutcome(res, "revocation") != Skipped {
		t.Fatalf("revocation outcome %v", checkOutcome(res, "revocation"))
	}
	exp := c.expectation()
	exp.RequireRevocationCheck = true
	res, err = v.Verify(context.Background(), c.evidence(), exp)
	rejects(t, res, err, "revocation", ErrRevocationUnchecked)
}

func TestVLEKCannotBeFetched(t *testing.T) {
	c := realCaseByID(t, "trustee-snp-vlek-milan-aws")
	v, err := New(Options{Now: c.inWindow, Fetcher: &fetchAll{doc: c.ek}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(context.Background(), Evidence{Report: c.report}, c.expectation())
	rejects(t, res, err, "certificates", ErrMissingCerts)
}
