//go:build !js

// Writes statements (NewStatement is native only) or signs them with the
// simulated Sigstore instance, which is native only.

package release

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/measure"
)

func demoManifest(t testing.TB) *measure.Manifest {
	t.Helper()
	raw, err := os.ReadFile("../measure/testdata/demo-release.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := measure.ParseManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var demoNames = ArtifactNames{OVMF: "OVMF.fd", Kernel: "vmlinuz", Initrd: "initrd.img"}

// statementJSON returns the demo statement decoded into generic JSON, to be
// mutated by a test and encoded again.
func statementJSON(t *testing.T) map[string]any {
	t.Helper()
	b, err := NewStatement(demoManifest(t), demoNames)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func subjects(v map[string]any) []any { return v["subject"].([]any) }

func TestManifestFromStatementRejects(t *testing.T) {
	const otherDigest = "0000000000000000000000000000000000000000000000000000000000000000"
	for _, tc := range []struct {
		name   string
		mutate func(v map[string]any)
		want   error
	}{
		{"statement type v0.1", func(v map[string]any) { v["_type"] = "https://in-toto.io/Statement/v0.1" }, ErrMalformedStatement},
		{"no statement type", func(v map[string]any) { delete(v, "_type") }, ErrMalformedStatement},
		{"another predicate type", func(v map[string]any) { v["predicateType"] = "https://slsa.dev/provenance/v1" }, ErrPredicateType},
		{"unknown top-level field", func(v map[string]any) { v["extra"] = 1 }, ErrMalformedStatement},
		{"no predicate", func(v map[string]any) { delete(v, "predicate") }, ErrMalformedStatement},
		{"no subjects", func(v map[string]any) { v["subject"] = []any{} }, ErrSubjectMismatch},
		{"kernel subject missing", func(v map[string]any) { v["subject"] = subjects(v)[:2] }, ErrSubjectMismatch},
		{"extra subject", func(v map[string]any) {
			v["subject"] = append(subjects(v), map[string]any{"name": "extra.bin", "digest": map[string]any{"sha256": otherDigest}})
		}, ErrSubjectMismatch},
		{"OVMF subject digest differs", func(v map[string]any) {
			subjects(v)[0].(map[string]any)["digest"] = map[string]any{"sha256": otherDigest}
		}, ErrSubjectMismatch},
		{"subject without sha256", func(v map[string]any) {
			subjects(v)[0].(map[string]any)["digest"] = map[string]any{"sha512": otherDigest + otherDigest}
		}, ErrSubjectMismatch},
		{"subject sha256 not hex", func(v map[string]any) {
			subjects(v)[0].(map[string]any)["digest"] = map[string]any{"sha256": strings.Repeat("g", 64)}
		}, ErrMalformedStatement},
		{"subject sha256 upper case", func(v map[string]any) {
			d := subjects(v)[0].(map[string]any)["digest"].(map[string]any)
			d["sha256"] = strings.ToUpper(d["sha256"].(string))
		}, ErrMalformedStatement},
		{"subject without name", func(v map[string]any) { delete(subjects(v)[1].(map[string]any), "name") }, ErrMalformedStatement},
		{"two subjects with one name", func(v map[string]any) {
			subjects(v)[2].(map[string]any)["name"] = subjects(v)[1].(map[string]any)["name"]
		}, ErrSubjectMismatch},
		{"manifest without OVMF SHA-256", func(v map[string]any) {
			delete(v["predicate"].(map[string]any)["ovmf"].(map[string]any), "sha256")
		}, ErrSubjectMismatch},
		{"tampered measurement", func(v map[string]any) {
			v["predicate"].(map[string]any)["measurement"] = strings.Repeat("ab", 48)
		}, measure.ErrMeasurementMismatch},
		{"tampered vCPU count", func(v map[string]any) { v["predicate"].(map[string]any)["vcpus"] = 2 }, measure.ErrMeasurementMismatch},
		{"unknown manifest field", func(v map[string]any) { v["predicate"].(map[string]any)["note"] = "x" }, measure.ErrMalformedManifest},
		{"another manifest format", func(v map[string]any) { v["predicate"].(map[string]any)["format"] = "cvmtrust-launch-manifest/v2" }, measure.ErrMalformedManifest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := statementJSON(t)
			tc.mutate(v)
			m, err := ManifestFromStatement(encode(t, v))
			if !errors.Is(err, tc.want) {
				t.Fatalf("ManifestFromStatement: %v, want %v", err, tc.want)
			}
			if m != nil {
				t.Fatal("a manifest was returned with an error")
			}
		})
	}
}

func TestManifestFromStatementRejectsMalformedPayload(t *testing.T) {
	good, err := NewStatement(demoManifest(t), demoNames)
	if err != nil {
		t.Fatal(err)
	}
	for name, payload := range map[string][]byte{
		"empty":         nil,
		"not JSON":      []byte("release"),
		"array":         []byte("[]"),
		"trailing data": append(append([]byte{}, good...), []byte(" {}")...),
		"truncated":     good[:len(good)/2],
		"oversized":     append(append([]byte{}, good...), make([]byte, maxStatementSize)...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ManifestFromStatement(payload); !errors.Is(err, ErrMalformedStatement) {
				t.Fatalf("got %v, want ErrMalformedStatement", err)
			}
		})
	}
}

func TestManifestFromStatementRejectsDuplicateKeys(t *testing.T) {
	good, err := NewStatement(demoManifest(t), demoNames)
	if err != nil {
		t.Fatal(err)
	}
	s := string(good)
	for name, payload := range map[string]string{
		"statement type": strings.Replace(s, `{"_type":`, `{"_type":"https://in-toto.io/Statement/v0.1","_type":`, 1),
		"predicate type": strings.Replace(s, `"predicateType":`, `"predicateType":"x","predicateType":`, 1),
		"subject list":   strings.Replace(s, `"subject":`, `"subject":[],"subject":`, 1),
		"subject digest": strings.Replace(s, `"digest":{"sha256":`, `"digest":{"sha256":"00","sha256":`, 1),
		"measurement":    strings.Replace(s, `"measurement":`, `"measurement":"00","measurement":`, 1),
		"OVMF section":   strings.Replace(s, `"gpa":`, `"gpa":1,"gpa":`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			if payload == s {
				t.Fatal("the mutation did not apply")
			}
			if _, err := ManifestFromStatement([]byte(payload)); !errors.Is(err, ErrMalformedStatement) {
				t.Fatalf("got %v, want ErrMalformedStatement", err)
			}
		})
	}
	// The same key in different objects is fine: that is the good statement.
	if _, err := decodeStatement(good); err != nil {
		t.Fatal(err)
	}
}

func TestNewStatementRoundTrip(t *testing.T) {
	want := demoManifest(t)
	b, err := NewStatement(want, demoNames)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ManifestFromStatement(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Measurement != want.Measurement || got.Release != want.Release {
		t.Fatalf("round trip: got %s %x, want %s %x", got.Release, got.Measurement, want.Release, want.Measurement)
	}
	var v struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Type != StatementType || v.PredicateType != PredicateType {
		t.Fatalf("_type %q predicateType %q", v.Type, v.PredicateType)
	}
	wantSubjects := map[string]string{
		"OVMF.fd":    want.OVMF.SHA256.String(),
		"vmlinuz":    want.Kernel.SHA256.String(),
		"initrd.img": want.Initrd.SHA256.String(),
	}
	if len(v.Subject) != len(wantSubjects) {
		t.Fatalf("%d subjects, want %d", len(v.Subject), len(wantSubjects))
	}
	for _, s := range v.Subject {
		if s.Digest["sha256"] != wantSubjects[s.Name] {
			t.Errorf("subject %q: sha256 %s, want %s", s.Name, s.Digest["sha256"], wantSubjects[s.Name])
		}
	}
}

func TestNewStatementRejects(t *testing.T) {
	t.Run("manifest whose measurement does not recompute", func(t *testing.T) {
		m := demoManifest(t)
		m.Measurement[0] ^= 1
		if _, err := NewStatement(m, demoNames); !errors.Is(err, measure.ErrMeasurementMismatch) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("manifest without OVMF SHA-256", func(t *testing.T) {
		m := demoManifest(t)
		m.OVMF.SHA256 = nil
		if _, err := NewStatement(m, demoNames); !errors.Is(err, ErrSubjectMismatch) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("kernel without a name", func(t *testing.T) {
		if _, err := NewStatement(demoManifest(t), ArtifactNames{OVMF: "OVMF.fd", Initrd: "initrd.img"}); !errors.Is(err, ErrSubjectMismatch) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a name for an artifact the manifest lacks", func(t *testing.T) {
		m := demoManifest(t)
		m.Kernel, m.Initrd = nil, nil
		if _, err := NewStatement(m, demoNames); !errors.Is(err, ErrSubjectMismatch) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("two artifacts with one name", func(t *testing.T) {
		if _, err := NewStatement(demoManifest(t), ArtifactNames{OVMF: "a", Kernel: "a", Initrd: "b"}); !errors.Is(err, ErrSubjectMismatch) {
			t.Fatalf("got %v", err)
		}
	})
}
