package pageaudit

import (
	"testing"

	"golang.org/x/net/html"
)

func TestElementAttributes(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		fails       bool
	}{
		{"gateway", "https://enroll.example/", false},
		{"release-repository", "cvmtrust/cvmtrust", false},
		{"vmpl", "0", false},
		{"vmpl", "2", false},
		{"vmpl", " ANY ", true},
		{"measurements", "v1=ab12", false},
		{"measurements", "v1=any", true},
		{"measurements", "*", true},
		{"trust-simulated-root", "/ark.pem", true},
		{"release-trust-simulated-root", "/root.json", true},
		{"any-measurement", "", true},
		{"allow-debug-unsafe", "", true},
		{"state", "verified", true},
		{"hidden", "", true},
		{"inert", "", true},
		{"skip-revocation", "", true}, // unknown to the audit
		{"id", "enroll", false},
		{"class", "trust", false},
		{"data-step", "2", false},
		{"aria-label", "Server check", false},
	} {
		got := checkElement(Element{Attributes: []html.Attribute{{Key: tc.name, Val: tc.value}}})
		if len(got) != 1 || (got[0].Outcome == Fail) != tc.fails || got[0].Meaning == "" || tc.fails && got[0].Why == "" {
			t.Errorf("%s=%q: %+v, want failing %v with a meaning and, failing, a reason", tc.name, tc.value, got, tc.fails)
		}
	}
	// Handlers are code, reported with the scripts.
	if got := checkElement(Element{Attributes: []html.Attribute{{Key: "onclick", Val: "x()"}}}); len(got) != 0 {
		t.Errorf("onclick: %+v", got)
	}
}
