package pageaudit

import (
	"os"
	"regexp"
	"slices"
	"strings"
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
		{"tcb-below-bulletins-unsafe", "", true},
		{"unchecked-revocation-unsafe", "", true},
		{"release-max-age-unsafe", "none", true},
		{"release-max-age-unsafe", "400d", true},
		{"release-max-age", "30d", false},
		{"release-min", "v1.4.0", false},
		{"min-tcb", "snp=27", false},
		{"kds-proxy", "https://kds.example/", false},
		{"require-revocation", "", true}, // the element no longer reads it: unknown
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
	// An attribute that lifts a default fails with what it gives up, not as one the audit does not know.
	for _, name := range []string{"tcb-below-bulletins-unsafe", "unchecked-revocation-unsafe", "release-max-age-unsafe"} {
		got := checkElement(Element{Attributes: []html.Attribute{{Key: name}}})
		if len(got) != 1 || got[0].Meaning != widgetAttributes[name].meaning || !strings.Contains(got[0].Why, "accepts") {
			t.Errorf("%s: %+v, want its own meaning and what it accepts", name, got)
		}
	}
	// Handlers are code, reported with the scripts.
	if got := checkElement(Element{Attributes: []html.Attribute{{Key: "onclick", Val: "x()"}}}); len(got) != 0 {
		t.Errorf("onclick: %+v", got)
	}
}

// TestAttributeTableIsTheElements: the audit has a row for every attribute
// the element reads (observedAttributes in web/cvm-attest.js, with
// releaseAttributes from web/release.js), and none for one it does not read
// (state, set by the element, aside): an attribute without a row fails every
// page that uses it, and a stale row passes one the element ignores.
func TestAttributeTableIsTheElements(t *testing.T) {
	observed := jsBlock(t, "../web/cvm-attest.js", "static observedAttributes = [", "];")
	release := jsBlock(t, "../web/release.js", "export const releaseAttributes = {", "};")
	var element []string
	for _, m := range regexp.MustCompile(`'([a-z-]+)'`).FindAllStringSubmatch(observed, -1) {
		element = append(element, m[1])
	}
	for _, m := range regexp.MustCompile(`'([a-z-]+)':`).FindAllStringSubmatch(release, -1) {
		element = append(element, m[1])
	}
	if !strings.Contains(observed, "...Object.keys(releaseAttributes)") || len(element) < 20 {
		t.Fatalf("observedAttributes is no longer read as this test expects: %q", observed)
	}
	for _, name := range element {
		if _, ok := widgetAttributes[name]; !ok {
			t.Errorf("the element reads %s, the audit has no row for it", name)
		}
	}
	for name := range widgetAttributes {
		if name != "state" && !slices.Contains(element, name) {
			t.Errorf("the audit has a row for %s, which the element does not read", name)
		}
	}
}

// TestPartsAreTheElements: the CSS rule's parts are the ones the element
// exports (part attributes in web/cvm-attest.js).
func TestPartsAreTheElements(t *testing.T) {
	src, err := os.ReadFile("../web/cvm-attest.js")
	if err != nil {
		t.Fatal(err)
	}
	var exported []string
	for _, m := range regexp.MustCompile(`\bpart: '([a-z-]+)'`).FindAllStringSubmatch(string(src), -1) {
		exported = append(exported, m[1])
	}
	slices.Sort(exported)
	want := slices.Sorted(slices.Values(widgetParts))
	if !slices.Equal(exported, want) {
		t.Errorf("the element exports the parts %v, the CSS rule knows %v", exported, want)
	}
}

// jsBlock returns the text of file from the line holding start to the
// first end after it.
func jsBlock(t *testing.T, file, start, end string) string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), start)
	block, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("%s: no %q … %q", file, start, end)
	}
	return block
}
