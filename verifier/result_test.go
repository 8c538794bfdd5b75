package verifier

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
)

// TestResultJSONKeysLowerCamel keeps the Result's JSON keys lowerCamelCase:
// they are an interface for pages and scripts.
func TestResultJSONKeysLowerCamel(t *testing.T) {
	c := loadRealCases(t)[0]
	exp := c.expectation()
	exp.Measurements[0] = append([]byte(nil), exp.Measurements[0]...)
	exp.Measurements[0][0] ^= 1 // a failure, so failed checks carry field/got/want
	_, err := verifierAt(t, c.inWindow()).Verify(context.Background(), c.evidence(), exp)
	rej, ok := err.(*RejectedError)
	if !ok {
		t.Fatalf("want a rejection, got %v", err)
	}
	b, err := json.Marshal(rej.Result)
	if err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	keyRE := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	seen := 0
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				seen++
				if !keyRE.MatchString(k) {
					t.Errorf("key %q is not lowerCamelCase", k)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	walk(v)
	if seen < 20 {
		t.Fatalf("only %d keys seen", seen)
	}
	m := v.(map[string]any)
	if m["mediaType"] != MediaType || m["verified"] != false {
		t.Fatalf("mediaType/verified wrong: %v %v", m["mediaType"], m["verified"])
	}
}
