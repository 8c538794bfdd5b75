package release

import (
	"os"
	"strings"
	"testing"
)

// The release workflow and the documentation use this package's predicate
// type, and the documentation has the anchor the type names.
func TestWorkflowAndDocsAgreeOnThePredicateType(t *testing.T) {
	workflow, err := os.ReadFile("../.github/workflows/release.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(workflow), "PREDICATE_TYPE: "+PredicateType+"\n") {
		t.Errorf("the release workflow does not attest with predicate type %s", PredicateType)
	}
	for _, want := range []string{"--write-manifest dist/release.json", "--write-statement dist/release.intoto.json", "predicate-path: dist/release.json"} {
		if !strings.Contains(string(workflow), want) {
			t.Errorf("the release workflow lacks %q", want)
		}
	}
	docs, err := os.ReadFile("../docs/release-provenance.md")
	if err != nil {
		t.Fatal(err)
	}
	_, anchor, _ := strings.Cut(PredicateType, "#")
	if !strings.HasPrefix(PredicateType, "https://github.com/cvmtrust/cvmtrust/blob/main/docs/release-provenance.md#") ||
		!strings.Contains(string(docs), `<a id="`+anchor+`"></a>`) {
		t.Errorf("docs/release-provenance.md has no anchor %q for the predicate type", anchor)
	}
}
