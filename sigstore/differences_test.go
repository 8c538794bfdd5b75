//go:build !js

package sigstore

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func rewriteBundle(t *testing.T, bundle []byte, edit func(map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(bundle, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKnownDifferences asserts, one by one, where this verifier and
// sigstore-go v1.3.0 part ways outside the tamper test (README.md,
// "Differences with sigstore-go").
func TestKnownDifferences(t *testing.T) {
	t.Run("v0.3.N media types", func(t *testing.T) {
		in := caseNamed(t, "happy-path-v0.3-new-mediaType").input(false)
		in.bundle = rewriteBundle(t, in.bundle, func(d map[string]any) {
			d["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.3.1+json"
		})
		if _, err := ourVerify(in); !errors.Is(err, ErrUnsupported) {
			t.Errorf("ours: %v", err)
		}
		if err := oracleVerify(in); err != nil {
			t.Errorf("sigstore-go no longer accepts it: %v", err)
		}
	})
	t.Run("non-canonical base64", func(t *testing.T) {
		in := caseNamed(t, "happy-path-v0.3").input(false)
		in.bundle = rewriteBundle(t, in.bundle, func(d map[string]any) {
			ms := d["messageSignature"].(map[string]any)
			sig := ms["signature"].(string)
			// The signature is 71 bytes: its last base64 character before
			// "=" carries 2 unused bits. Setting one leaves the bytes equal.
			i := strings.IndexByte(sig, '=') - 1
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
			p := strings.IndexByte(alphabet, sig[i])
			ms["signature"] = sig[:i] + string(alphabet[p|1]) + sig[i+1:]
			if alphabet[p|1] == sig[i] {
				ms["signature"] = sig[:i] + string(alphabet[p|2]) + sig[i+1:]
			}
		})
		if _, err := ourVerify(in); !errors.Is(err, ErrMalformedBundle) {
			t.Errorf("ours: %v", err)
		}
		if err := oracleVerify(in); err != nil {
			t.Errorf("sigstore-go no longer accepts it: %v", err)
		}
	})
	t.Run("DSSE with two signatures", func(t *testing.T) {
		in := caseNamed(t, "happy-path-intoto-in-dsse-v3").input(false)
		in.bundle = rewriteBundle(t, in.bundle, func(d map[string]any) {
			env := d["dsseEnvelope"].(map[string]any)
			sigs := env["signatures"].([]any)
			env["signatures"] = append(sigs, sigs[0])
		})
		if _, err := ourVerify(in); !errors.Is(err, ErrUnsupported) {
			t.Errorf("ours: %v", err)
		}
		// sigstore-go refuses it too (the verdicts agree), later on.
		if err := oracleVerify(in); err == nil {
			t.Errorf("sigstore-go accepts it")
		}
	})
}

// TestExtraBadTimestamp: a bundle with one valid timestamp and one that
// does not verify (here, another bundle's) is rejected: every timestamp a
// bundle carries must verify. sigstore-go counts the valid ones against a
// threshold and accepts it (README, difference 10).
func TestExtraBadTimestamp(t *testing.T) {
	good := caseNamed(t, "rekor2-happy-path")
	other := caseNamed(t, "rekor2-timestamp-payload-mismatch_fail")
	var otherDoc map[string]any
	json.Unmarshal(other.bundle, &otherDoc)
	foreign := walk(otherDoc, "verificationMaterial", "timestampVerificationData", "rfc3161Timestamps", 0)
	in := good.input(false)
	in.bundle = rewriteBundle(t, in.bundle, func(d map[string]any) {
		tv := walk(d, "verificationMaterial", "timestampVerificationData").(map[string]any)
		tv["rfc3161Timestamps"] = append(tv["rfc3161Timestamps"].([]any), foreign)
	})
	if _, err := ourVerify(in); !errors.Is(err, ErrTimestamp) {
		t.Errorf("ours: %v", err)
	}
	if err := oracleVerify(in); err != nil {
		t.Errorf("sigstore-go now rejects it: %v", err)
	}
}
