package sigstore

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConformanceRejectReasons: each failing conformance case is rejected
// by the check it was written for (its README), not by accident.
func TestConformanceRejectReasons(t *testing.T) {
	want := map[string]error{
		"bundle-empty-certificate-chain_fail":                       ErrMalformedBundle,
		"bundle-from-wrong-instance_fail":                           ErrMissingTransparency, // its log is not trusted
		"bundle-invalid-base64-signature_fail":                      ErrMalformedBundle,
		"bundle-malformed-json_fail":                                ErrMalformedBundle,
		"bundle-negative-log-index_fail":                            ErrMalformedBundle,
		"bundle-unknown-version_fail":                               ErrUnsupported,
		"bundle-with-root-cert_fail":                                ErrMalformedBundle, // its proof also lacks a checkpoint
		"checkpoint-bad-keyhint_fail":                               ErrCheckpoint,
		"checkpoint-wrong-roothash_fail":                            ErrCheckpoint,
		"dsse-invalid-sig_fail":                                     ErrBadSignature,
		"dsse-mismatch-envelope_fail":                               ErrLogEntry,
		"dsse-mismatch-sig_fail":                                    ErrLogEntry,
		"inclusion-proof-corrupted-hash_fail":                       ErrInclusionProof,
		"incorrect-public-key_fail":                                 ErrLogEntry,
		"integrated-time-in-future_fail":                            ErrCertValidity,
		"intoto-expired-certificate_fail":                           ErrCertValidity,
		"intoto-log-entry-mismatch_fail":                            ErrLogEntry,
		"intoto-missing-inclusion-proof_fail":                       ErrMalformedBundle,
		"intoto-set-outside-signing-cert-validity_fail":             ErrCertValidity,
		"intoto-tsa-timestamp-outside-cert-validity_fail":           ErrCertValidity,
		"invalid-checkpoint-signature_fail":                         ErrCheckpoint,
		"invalid-ct-key_fail":                                       ErrSCT,
		"invalid-inclusion-proof_fail":                              ErrMalformedBundle, // a proof without a checkpoint
		"managed-key-no-key_fail":                                   ErrKeyMismatch,
		"managed-key-wrong-key_fail":                                ErrBadSignature,
		"message-digest-mismatch_fail":                              ErrArtifact,
		"rekor2-checkpoint-missing-log-signature_fail":              ErrCheckpoint,
		"rekor2-checkpoint-missing-origin_fail":                     ErrCheckpoint,
		"rekor2-checkpoint-missing-root-hash_fail":                  ErrCheckpoint,
		"rekor2-checkpoint-missing-size_fail":                       ErrCheckpoint,
		"rekor2-checkpoint-no-matching-signature_fail":              ErrCheckpoint,
		"rekor2-dsse-invalid-sig_fail":                              ErrBadSignature,
		"rekor2-dsse-mismatch-envelope_fail":                        ErrLogEntry,
		"rekor2-dsse-mismatch-sig_fail":                             ErrLogEntry,
		"rekor2-no-inclusion-proof_fail":                            ErrMalformedBundle,
		"rekor2-no-timestamp_fail":                                  ErrNoVerifiedTime,
		"rekor2-timestamp-outside-trust-root-tsa-validity_fail":     ErrTimestamp,
		"rekor2-timestamp-outside-tsa-cert-validity_fail":           ErrTimestamp,
		"rekor2-timestamp-payload-mismatch_fail":                    ErrTimestamp,
		"rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail":    ErrTimestamp,
		"rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail": ErrTimestamp,
		"rekor2-timestamp-with-incorrect-time_fail":                 ErrCertValidity,
		"set-invalid-signature_fail":                                ErrSET,
		"signature-mismatch_fail":                                   ErrBadSignature,
		"trust-root-tlog-missing-validity-start_fail":               ErrBadTrustedRoot,
		"wrong-hashedrekord-artifact_fail":                          ErrLogEntry,
		"wrong-hashedrekord-cert-and-sig_fail":                      ErrLogEntry,
		"wrong-hashedrekord-entry_fail":                             ErrLogEntry,
		"wrong-material_fail":                                       ErrArtifact,
	}
	seen := 0
	for _, c := range conformanceCases(t) {
		if c.wantOK {
			continue
		}
		seen++
		w, ok := want[c.name]
		if !ok {
			t.Errorf("%s: no expected reason listed", c.name)
			continue
		}
		if _, err := c.verify(false); !errors.Is(err, w) {
			t.Errorf("%s: %v, want %v", c.name, err, w)
		}
	}
	if seen != len(want) {
		t.Errorf("%d failing cases, %d reasons listed", seen, len(want))
	}
}

// editRoot rewrites a trusted root's JSON.
func editRoot(t *testing.T, data []byte, edit func(map[string]any)) *TrustedRoot {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ParseTrustedRoot(out)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func setWindows(doc map[string]any, key string, start, end string) {
	for _, item := range doc[key].([]any) {
		m := item.(map[string]any)
		vf := map[string]any{"start": start}
		if end != "" {
			vf["end"] = end
		}
		if pk, ok := m["publicKey"].(map[string]any); ok {
			pk["validFor"] = vf
		} else {
			m["validFor"] = vf
		}
	}
}

func caseNamed(t testing.TB, name string) conformanceCase {
	for _, c := range conformanceCases(t) {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no case %s", name)
	return conformanceCase{}
}

// TestTrustedRootWindows: each part of the trusted root is trusted only in
// its window. happy-path-v0.3 was signed on 2024-03-19; the rekor2 cases
// in June 2025.
func TestTrustedRootWindows(t *testing.T) {
	ctx := context.Background()
	v1 := caseNamed(t, "happy-path-v0.3")
	v2 := caseNamed(t, "rekor2-happy-path")
	for _, tc := range []struct {
		name string
		c    conformanceCase
		key  string
		want error
	}{
		{"Fulcio CA before signing", v1, "certificateAuthorities", ErrCertValidity},
		{"CT log before signing", v1, "ctlogs", ErrSCT},
		{"Rekor v1 log before signing", v1, "tlogs", ErrSET},
		{"TSA before signing", v2, "timestampAuthorities", ErrTimestamp},
		{"Fulcio CA before signing, Rekor v2", v2, "certificateAuthorities", ErrCertValidity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rootJSON := tc.c.trustedRoot
			if rootJSON == nil {
				rootJSON = publicGoodJSON
			}
			tr := editRoot(t, rootJSON, func(doc map[string]any) { setWindows(doc, tc.key, "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z") })
			v, err := New(Options{TrustedRoot: tr})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(ctx, tc.c.bundle, tc.c.policy(false)); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			// The same window reopened to cover the signing time verifies.
			tr = editRoot(t, rootJSON, func(doc map[string]any) { setWindows(doc, tc.key, "2020-01-01T00:00:00Z", "") })
			v, _ = New(Options{TrustedRoot: tr})
			if _, err := v.Verify(ctx, tc.c.bundle, tc.c.policy(false)); err != nil {
				t.Fatalf("open window: %v", err)
			}
		})
	}
}

// TestUntrustedCA: a certificate from a CA the root does not name fails
// the chain check even when everything else verifies.
func TestUntrustedCA(t *testing.T) {
	c := caseNamed(t, "happy-path-v0.3")
	staging := caseNamed(t, "rekor2-happy-path").trustedRoot
	var stagingDoc map[string]any
	json.Unmarshal(staging, &stagingDoc)
	tr := editRoot(t, publicGoodJSON, func(doc map[string]any) { doc["certificateAuthorities"] = stagingDoc["certificateAuthorities"] })
	v, _ := New(Options{TrustedRoot: tr})
	_, err := v.Verify(context.Background(), c.bundle, c.policy(false))
	if !errors.Is(err, ErrBadChain) {
		t.Fatalf("got %v, want ErrBadChain", err)
	}
}

// TestPolicyErrors: unusable policies fail before any bundle is read, with
// no Result.
func TestPolicyErrors(t *testing.T) {
	v, _ := New(Options{})
	c := caseNamed(t, "happy-path-v0.3")
	digest := make([]byte, 32)
	for name, p := range map[string]Policy{
		"no artifact":           {Issuer: "i", Identity: "x"},
		"both artifact forms":   {Artifact: []byte("a"), ArtifactDigest: digest, Issuer: "i", Identity: "x"},
		"short digest":          {ArtifactDigest: []byte{1}, Issuer: "i", Identity: "x"},
		"no issuer":             {Artifact: []byte("a"), Identity: "x"},
		"no identity":           {Artifact: []byte("a"), Issuer: "i"},
		"identity and regexp":   {Artifact: []byte("a"), Issuer: "i", Identity: "x", IdentityRegexp: "x"},
		"bad regexp":            {Artifact: []byte("a"), Issuer: "i", IdentityRegexp: "("},
		"bad ref pattern":       {Artifact: []byte("a"), Issuer: "i", Identity: "x", RefPattern: "["},
		"repository alone":      {Artifact: []byte("a"), Issuer: "i", Repository: "o/r"},
		"key and identity":      {Artifact: []byte("a"), Issuer: "i", Identity: "x", Key: c.bundle},
		"key that is not a key": {Artifact: []byte("a"), Key: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")},
		"negative max age":      {Artifact: []byte("a"), Issuer: "i", Identity: "x", MaxAge: -time.Second},
	} {
		res, err := v.Verify(context.Background(), c.bundle, p)
		if res != nil || !errors.Is(err, ErrBadPolicy) {
			t.Errorf("%s: %v, %v", name, res, err)
		}
	}
}

// TestIdentityRegexpAnchored: a pattern must match the whole identity.
func TestIdentityRegexpAnchored(t *testing.T) {
	v, _ := New(Options{})
	c := caseNamed(t, "happy-path-v0.3")
	p := c.policy(false)
	p.Identity, p.IdentityRegexp = "", "extremely-dangerous"
	if _, err := v.Verify(context.Background(), c.bundle, p); !errors.Is(err, ErrIdentity) {
		t.Fatalf("a partial match verified: %v", err)
	}
	p.IdentityRegexp = `https://github\.com/sigstore-conformance/.*@refs/heads/main`
	res, err := v.Verify(context.Background(), c.bundle, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Signer.Repository != "sigstore-conformance/extremely-dangerous-public-oidc-beacon" || res.Signer.Ref != "refs/heads/main" ||
		len(res.Signer.Commit) != 40 || res.Signer.Workflow != ".github/workflows/extremely-dangerous-oidc-beacon.yml" {
		t.Errorf("signer = %+v", res.Signer)
	}
}

// TestResultIffVerified: a rejection returns no Result but carries one in
// the error, with every failed check named and matchable.
func TestResultIffVerified(t *testing.T) {
	c := caseNamed(t, "signature-mismatch_fail")
	res, err := c.verify(false)
	var rej *RejectedError
	if res != nil || !errors.As(err, &rej) || rej.Result.Verified || !errors.Is(err, ErrBadSignature) {
		t.Fatalf("res %v err %v", res, err)
	}
	if !strings.Contains(err.Error(), "signature") {
		t.Errorf("error text %q does not name the check", err)
	}
}

// TestResultJSONKeys keeps the Result's JSON keys lowerCamelCase.
func TestResultJSONKeys(t *testing.T) {
	c := caseNamed(t, "happy-path-intoto-in-dsse-v3")
	res, err := c.verify(false)
	if err != nil {
		t.Fatal(err)
	}
	if res.MediaType != MediaType || res.Statement == nil || res.PayloadType != inTotoPayloadType {
		t.Fatalf("Result: %+v", res)
	}
	data, _ := json.Marshal(res)
	var check func(v any)
	check = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, vv := range x {
				if k == "digest" {
					continue // in-toto digest names, such as sha256
				}
				if k == "" || strings.ContainsAny(k, "_-") || strings.ToLower(k[:1]) != k[:1] {
					t.Errorf("key %q is not lowerCamelCase", k)
				}
				check(vv)
			}
		case []any:
			for _, vv := range x {
				check(vv)
			}
		}
	}
	var doc any
	json.Unmarshal(data, &doc)
	check(doc)
}

// TestMalformedInputs: garbage gives a clear rejection, never a panic.
func TestMalformedInputs(t *testing.T) {
	v, _ := New(Options{})
	p := Policy{Artifact: []byte("a"), Issuer: "i", Identity: "x"}
	for _, in := range []string{"", "{}", "[]", "null", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`,
		`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"AAAA"}}}`} {
		if _, err := v.Verify(context.Background(), []byte(in), p); !errors.Is(err, ErrMalformedBundle) &&
			!errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrMalformedCert) {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestPublicGoodTrustedRoot(t *testing.T) {
	tr, err := PublicGoodTrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.tlogs) < 2 || len(tr.cas) < 2 || len(tr.ctlogs) < 2 || len(tr.tsas) < 1 || tr.Simulated {
		t.Fatalf("public-good root lost a part: %d logs, %d CAs, %d CT logs, %d TSAs", len(tr.tlogs), len(tr.cas), len(tr.ctlogs), len(tr.tsas))
	}
	readme, err := os.ReadFile(filepath.Join("trustedroot", "README.md"))
	if err != nil || !strings.Contains(string(readme), "c9bda74ad2221f938f7d2e0295ca3aad2da710a8") {
		t.Fatal("trustedroot/README.md must record the source commit")
	}
}

// TestSigningKeyForm: a key given for a certificate bundle, and no key for
// a key bundle, are both rejected by the signingKey check.
func TestSigningKeyForm(t *testing.T) {
	v, _ := New(Options{})
	c := caseNamed(t, "happy-path-v0.3")
	key := caseNamed(t, "managed-key-happy-path").key
	p := Policy{Artifact: c.artifact, Key: key}
	_, err := v.Verify(context.Background(), c.bundle, p)
	var rej *RejectedError
	if !errors.Is(err, ErrKeyMismatch) || !errors.As(err, &rej) || rej.Result.Failed()[0].Name != "signingKey" {
		t.Fatalf("key for a certificate bundle: %v", err)
	}
}
