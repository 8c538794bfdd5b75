package verifier

import (
	"context"
	"errors"
	"testing"
)

func TestRealReportsVerify(t *testing.T) {
	for _, c := range loadRealCases(t) {
		t.Run(c.ID, func(t *testing.T) {
			v := verifierAt(t, c.inWindow())
			res, err := v.Verify(context.Background(), c.evidence(), c.expectation())
			if err != nil {
				var rej *RejectedError
				if errors.As(err, &rej) {
					for _, ch := range rej.Result.Checks {
						t.Logf("%+v", ch)
					}
				}
				t.Fatalf("Verify: %v", err)
			}
			if res.Product != c.Product || res.Report.Signer != c.Signer || res.Simulated {
				t.Errorf("product %q signer %q simulated %v, want %q %q false", res.Product, res.Report.Signer, res.Simulated, c.Product, c.Signer)
			}
		})
	}
}
