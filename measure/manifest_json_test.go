package measure

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// parseWithEncodingJSON is the decoder ParseManifest replaced, kept as the
// oracle: encoding/json with unknown fields refused and nothing after the
// object.
func parseWithEncodingJSON(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the object")
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("data after the object")
	}
	if m.Format != ManifestFormat {
		return nil, errors.New("format")
	}
	return &m, nil
}

// agree checks ParseManifest against encoding/json: whatever it accepts,
// encoding/json accepts with the same Manifest; it refuses whatever
// encoding/json refuses. It reports whether ParseManifest accepted.
func agree(t *testing.T, data []byte) bool {
	t.Helper()
	got, err := ParseManifest(data)
	want, jerr := parseWithEncodingJSON(data)
	if err != nil {
		if !errors.Is(err, ErrMalformedManifest) {
			t.Errorf("%.80q: error %v does not match ErrMalformedManifest", data, err)
		}
		return false
	}
	if jerr != nil {
		t.Errorf("%.80q: ParseManifest accepts what encoding/json refuses (%v)", data, jerr)
		return true
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%.80q: ParseManifest read\n%+v\nencoding/json read\n%+v", data, got, want)
	}
	return true
}

// TestParseManifestAgreesWithEncodingJSON: on the demo manifest and on
// variants that drop a key, null it, change its type or value, the strict
// decoder reads what encoding/json reads, or refuses what it refuses.
func TestParseManifestAgreesWithEncodingJSON(t *testing.T) {
	raw, err := os.ReadFile(demoManifest)
	if err != nil {
		t.Fatal(err)
	}
	if !agree(t, raw) {
		t.Fatal("the demo manifest is refused")
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	replacements := []any{nil, "x", 1.5, -1, 4294967296, true, []any{}, map[string]any{}}
	variants := 0
	var walk func(obj map[string]any)
	walk = func(obj map[string]any) {
		for key, orig := range obj {
			delete(obj, key)
			variant(t, doc)
			variants++
			for _, r := range replacements {
				obj[key] = r
				variant(t, doc)
				variants++
			}
			obj[key] = orig
			if inner, ok := orig.(map[string]any); ok {
				walk(inner)
			}
			if list, ok := orig.([]any); ok {
				for _, item := range list {
					if inner, ok := item.(map[string]any); ok {
						walk(inner)
					}
				}
			}
		}
	}
	walk(doc)
	if variants < 100 {
		t.Fatalf("only %d variants", variants)
	}
	for _, data := range []string{
		`{"format":"cvmtrust-launch-manifest/v1","vcpu_sig":null,"cmdline_sha256":null,"kernel":null}`,
		`{"format":"cvmtrust-launch-manifest/v1","ovmf":{"sections":[null,{"gpa":1}]}}`,
		`{"format":"cvmtrust-launch-manifest/v1","vcpus":1e2}`,
		`{"format":"cvmtrust-launch-manifest/v1","guest_features":18446744073709551615}`,
		`{"format":"cvmtrust-launch-manifest/v1"} x`,
		`[]`, `null`, `"x"`,
	} {
		agree(t, []byte(data))
	}
}

func variant(t *testing.T, doc map[string]any) {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	agree(t, data)
}

// TestParseManifestStricterThanEncodingJSON: the documents encoding/json
// reads in a way another parser might not (a key in another case, a key
// twice) are refused.
func TestParseManifestStricterThanEncodingJSON(t *testing.T) {
	raw, err := os.ReadFile(demoManifest)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"key in another case": strings.Replace(string(raw), `"release"`, `"Release"`, 1),
		"key twice":           strings.Replace(string(raw), `"release":`, `"release":"v0","release":`, 1),
	} {
		if _, err := parseWithEncodingJSON([]byte(data)); err != nil {
			t.Fatalf("%s: encoding/json refuses it too (%v); the test no longer shows a difference", name, err)
		}
		if _, err := ParseManifest([]byte(data)); !errors.Is(err, ErrMalformedManifest) {
			t.Errorf("%s: %v, want ErrMalformedManifest", name, err)
		}
	}
}

// FuzzParseManifestDifferential: on any input, ParseManifest accepts only
// what encoding/json accepts, and reads the same Manifest.
func FuzzParseManifestDifferential(f *testing.F) {
	raw, err := os.ReadFile(demoManifest)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Fuzz(func(t *testing.T, data []byte) { agree(t, data) })
}
