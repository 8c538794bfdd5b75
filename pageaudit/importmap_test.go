package pageaudit

import (
	"errors"
	"net/url"
	"testing"
)

func TestImportMapResolve(t *testing.T) {
	base, _ := url.Parse("https://site.example/app/page.html")
	m, err := parseImportMap(`{
	  "imports": {
	    "@w/define": "/pkg/define.js", "@w/": "https://cdn.example/w/1.0/", "/pkg/old.js": "/pkg/new.js",
	    "HTTPS://SITE.EXAMPLE:443/pkg/./upper.js": "/pkg/lower.js",
	    "blocked": 42, "dir/": "/not-a-dir.js", "up/": "/pkg/up/"
	  },
	  "scopes": {
	    "https://cdn.example/w/1.0/": {"@w/define": "/evil.js"},
	    "https://cdn.example/w/": {"@w/define": "/less-specific.js", "@w/other": "/other.js"},
	    "https://cdn.example/w/1.0/index.js": {"@w/x/": "/exact-scope/"}
	  },
	  "integrity": {"/pkg/define.js": "sha384-x", "@w/bare": "sha384-ignored"},
	  "later": true
	}`, base)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := url.Parse("https://site.example/app/page.html")
	pkg, _ := url.Parse("https://site.example/pkg/a.js")
	cdn, _ := url.Parse("https://cdn.example/w/1.0/index.js")
	cdnOther, _ := url.Parse("https://cdn.example/w/1.0/other.js")
	for _, tc := range []struct {
		spec     string
		referrer *url.URL
		want     string // "" for an error
	}{
		{"@w/define", page, "https://site.example/pkg/define.js"},
		{"@w/x/y.js", page, "https://cdn.example/w/1.0/x/y.js"},
		{"./old.js", pkg, "https://site.example/pkg/new.js"},
		{"https://site.example/pkg/upper.js", pkg, "https://site.example/pkg/lower.js"}, // keys are normalized URLs
		{"../z.js", page, "https://site.example/z.js"},
		{"@w/define", cdn, "https://site.example/evil.js"},          // the most specific scope wins
		{"@w/other", cdn, "https://site.example/other.js"},          // then the next one that contains the referrer
		{"@w/x/y.js", cdn, "https://site.example/exact-scope/y.js"}, // a scope without / matches that referrer only
		{"@w/x/y.js", cdnOther, "https://cdn.example/w/1.0/x/y.js"}, // and no other
		{"lodash", page, ""},          // bare and unmapped
		{"blocked", page, ""},         // not a string: blocked
		{"dir/a.js", page, ""},        // a / key whose address has no /: blocked
		{"up/../../etc.js", page, ""}, // backtracking above the address
		{"up/ok.js", page, "https://site.example/pkg/up/ok.js"},
	} {
		got, err := m.resolve(tc.spec, tc.referrer)
		switch {
		case tc.want == "" && !errors.Is(err, errUnresolvable):
			t.Errorf("resolve(%q from %s) = %v, %v; want it refused", tc.spec, tc.referrer, got, err)
		case tc.want != "" && (err != nil || got.String() != tc.want):
			t.Errorf("resolve(%q from %s) = %v, %v; want %s", tc.spec, tc.referrer, got, err, tc.want)
		}
	}
	if m.integrity["https://site.example/pkg/define.js"] != "sha384-x" || len(m.integrity) != 1 {
		t.Errorf("integrity %v: want the URL-like key resolved and the bare one dropped", m.integrity)
	}
	if len(m.warnings) != 4 { // blocked, dir/, @w/bare, later
		t.Errorf("warnings %q", m.warnings)
	}
}

func TestImportMapRejected(t *testing.T) {
	base, _ := url.Parse("https://site.example/")
	for _, text := range []string{`[]`, `{"imports": []}`, `{"scopes": {"/a/": "x"}}`, `{"integrity": 1}`, `{"imports": {}} {}`, `not json`} {
		if _, err := parseImportMap(text, base); !errors.Is(err, errImportMap) {
			t.Errorf("%s: %v, want errImportMap", text, err)
		}
	}
}

// TestImportMapMerge: a later map adds what the first lacks and changes
// nothing it has.
func TestImportMapMerge(t *testing.T) {
	base, _ := url.Parse("https://site.example/")
	first, _ := parseImportMap(`{"imports": {"a": "/a1.js"}, "scopes": {"/s/": {"b": "/b1.js"}}}`, base)
	second, _ := parseImportMap(`{"imports": {"a": "/a2.js", "c": "/c.js"}, "scopes": {"/s/": {"b": "/b2.js", "d": "/d.js"}, "/t/": {"e": "/e.js"}}}`, base)
	first.merge(second)
	ref, _ := url.Parse("https://site.example/s/t/x.js")
	for spec, want := range map[string]string{"a": "/a1.js", "c": "/c.js", "b": "/b1.js", "d": "/d.js"} {
		if got, err := first.resolve(spec, ref); err != nil || got.Path != want {
			t.Errorf("%s: %v %v, want %s", spec, got, err, want)
		}
	}
	if len(first.scopes) != 2 || first.scopes[0].prefix != "https://site.example/t/" {
		t.Errorf("scopes %+v, want two, in descending order", first.scopes)
	}
}
