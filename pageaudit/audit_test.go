package pageaudit

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/pagefixture"
)

func fixturePolicy(t *testing.T, allowed ...string) *Policy {
	t.Helper()
	b, err := os.ReadFile(pagefixture.Build(t))
	if err != nil {
		t.Fatal(err)
	}
	build, err := ParseBuild(b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPolicy(build, allowed...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func auditURL(t *testing.T, u string, p *Policy) *Report {
	t.Helper()
	r, err := Audit(context.Background(), &http.Client{}, u, p)
	if err != nil {
		t.Fatalf("Audit(%s): %v", u, err)
	}
	return r
}

// failed lists the checks of r's failing findings and attributes.
func failed(r *Report) []Check {
	var out []Check
	for _, f := range r.Findings {
		if f.Outcome == Fail {
			out = append(out, f.Check)
		}
	}
	for _, e := range r.Elements {
		for _, a := range e.Attributes {
			if a.Outcome == Fail {
				out = append(out, CheckElement)
			}
		}
	}
	for _, f := range r.WidgetFiles {
		if !f.OK {
			out = append(out, CheckWidget)
		}
	}
	return out
}

// TestFixturePages: each page of internal/pagefixture passes or fails as
// its first line says, naming the kind of finding it says.
func TestFixturePages(t *testing.T) {
	base := pagefixture.Serve(t, nil)
	policy := fixturePolicy(t)
	for _, p := range pagefixture.Pages(t) {
		t.Run(p.Name, func(t *testing.T) {
			r := auditURL(t, base+"/"+p.Name, policy)
			got := failed(r)
			if r.Passed != p.Pass || !p.Pass && !containsCheck(got, Check(p.Kind)) {
				t.Errorf("passed %v, failing %v; want passed %v naming %q\n%s", r.Passed, got, p.Pass, p.Kind, dump(r))
			}
		})
	}
}

func containsCheck(list []Check, c Check) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

func dump(r *Report) string {
	var b strings.Builder
	for _, f := range r.WidgetFiles {
		b.WriteString("  file " + f.Name + ": " + f.Content + "; " + f.Pinning + "\n")
	}
	for _, e := range r.Elements {
		for _, a := range e.Attributes {
			b.WriteString("  attr " + a.Name + "=" + a.Value + " " + string(a.Outcome) + " " + a.Why + "\n")
		}
	}
	for _, f := range r.Findings {
		b.WriteString("  " + string(f.Outcome) + " " + string(f.Check) + ": " + f.What + " @ " + f.Where + " — " + f.Why + "\n")
	}
	return b.String()
}

// page builds a page that loads the stand-in widget, pinned, with head and
// body added.
func page(t *testing.T, head, body string) []byte {
	return []byte("<!doctype html><html><head><meta charset=utf-8>" + pagefixture.Pinned(t) + head + "</head><body>" +
		`<cvm-attest gateway="/" release-repository="cvmtrust/cvmtrust"></cvm-attest>` + body + "</body></html>")
}

func findingsOf(r *Report, c Check) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Check == c {
			out = append(out, f)
		}
	}
	return out
}

// TestAllowedCode: code fails until the policy allows its hash; a file
// must also be pinned by the page.
func TestAllowedCode(t *testing.T) {
	inline := `document.title = "Enroll"`
	analytics := []byte("console.log('hello');\n")
	analyticsSRI := sriOf("sha384", analytics)
	base := pagefixture.Serve(t, map[string][]byte{
		"/inline.html":   page(t, "<script>"+inline+"</script>", `<button onclick="history.back()">Back</button>`),
		"/analytics.js":  analytics,
		"/unpinned.html": page(t, `<script src="/analytics.js"></script>`, ""),
		"/pinned.html":   page(t, `<script src="/analytics.js" integrity="`+analyticsSRI+`"></script>`, ""),
		"/two-hashes.html": page(t, `<script src="/analytics.js" integrity="`+analyticsSRI+` sha384-`+
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"+`"></script>`, ""),
	})
	r := auditURL(t, base+"/inline.html", fixturePolicy(t))
	if r.Passed || len(findingsOf(r, CheckScript)) != 2 || findingsOf(r, CheckScript)[1].Outcome != Fail || findingsOf(r, CheckEventHandler)[0].Outcome != Fail {
		t.Fatalf("inline code, nothing allowed: passed %v\n%s", r.Passed, dump(r))
	}
	handlerSRI := findingsOf(r, CheckEventHandler)[0].Hash
	scriptSRI := findingsOf(r, CheckScript)[1].Hash
	if scriptSRI != sriOf("sha384", []byte(inline)) {
		t.Errorf("the inline script's hash %s is not the SHA-384 of its text", scriptSRI)
	}
	// Allowed by SHA-384 (as printed) or by SHA-256: both pass.
	sha256Handler := sriOf("sha256", []byte("history.back()"))
	r = auditURL(t, base+"/inline.html", fixturePolicy(t, scriptSRI, sha256Handler))
	if !r.Passed || findingsOf(r, CheckEventHandler)[0].Outcome != Allowed {
		t.Errorf("inline code allowed: passed %v\n%s", r.Passed, dump(r))
	}
	r = auditURL(t, base+"/inline.html", fixturePolicy(t, handlerSRI))
	if r.Passed {
		t.Errorf("only the handler allowed, the script too passed\n%s", dump(r))
	}
	for name, wantPass := range map[string]bool{"unpinned.html": false, "pinned.html": true, "two-hashes.html": false} {
		r = auditURL(t, base+"/"+name, fixturePolicy(t, analyticsSRI))
		if r.Passed != wantPass {
			t.Errorf("%s with its script allowed: passed %v, want %v\n%s", name, r.Passed, wantPass, dump(r))
		}
	}
	if _, err := NewPolicy(Build{"a.js": analyticsSRI}, "sha384-short"); !errors.Is(err, ErrBadHash) {
		t.Errorf("a malformed allowed hash: %v, want ErrBadHash", err)
	}
}

// TestImportMapShape: import maps browsers disagree about fail.
func TestImportMapShape(t *testing.T) {
	base := pagefixture.Serve(t, map[string][]byte{
		"/two-maps.html":     page(t, `<script type="importmap">{"imports": {"x": "/x.js"}}</script>`, ""),
		"/unreadable.html":   []byte(`<script type="importmap">{"imports": [}</script>` + string(page(t, "", ""))),
		"/after-module.html": []byte(`<link rel="modulepreload" href="/widget/define.js">` + string(page(t, "", ""))),
	})
	for _, name := range []string{"two-maps.html", "unreadable.html", "after-module.html"} {
		r := auditURL(t, base+"/"+name, fixturePolicy(t))
		if r.Passed || !containsCheck(failed(r), CheckImportMap) {
			t.Errorf("%s: passed %v, want an import-map failure\n%s", name, r.Passed, dump(r))
		}
	}
}

// TestWidgetLoader: an inline module passes only when all it does is
// import the widget.
func TestWidgetLoader(t *testing.T) {
	base := pagefixture.Serve(t, map[string][]byte{
		"/more.html":  page(t, `<script type="module">import '@cvmtrust/widget/define'; window.x = 1;</script>`, ""),
		"/other.html": page(t, `<script type="module">import '/_steal.js';</script>`, ""),
	})
	for _, name := range []string{"more.html", "other.html"} {
		r := auditURL(t, base+"/"+name, fixturePolicy(t))
		if r.Passed || !containsCheck(failed(r), CheckScript) {
			t.Errorf("%s: passed %v, want a script failure\n%s", name, r.Passed, dump(r))
		}
	}
}

// TestWidgetFileRemappedByPrefix: every file of the build is checked
// against the map, loaded or not.
func TestWidgetFileRemappedByPrefix(t *testing.T) {
	base := pagefixture.Serve(t, map[string][]byte{
		"/prefix.html": []byte(strings.Replace(string(page(t, "", "")), `"imports": {`, `"imports": { "/widget/dist/": "/elsewhere/",`, 1)),
	})
	r := auditURL(t, base+"/prefix.html", fixturePolicy(t))
	n := 0
	for _, f := range findingsOf(r, CheckImportMap) {
		if f.Outcome == Fail && strings.HasPrefix(f.What, "import map imports: ") {
			n++
		}
	}
	if r.Passed || n != 4 { // dist/cvmtrust.wasm, hpke.js, integrity.js, wasm_exec.js
		t.Errorf("a prefix entry over dist/: passed %v, %d entries named, want 4\n%s", r.Passed, n, dump(r))
	}
}
