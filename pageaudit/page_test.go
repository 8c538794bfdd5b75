package pageaudit

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func parsePage(t *testing.T, header http.Header, markup string) *Page {
	t.Helper()
	u, _ := url.Parse("https://enroll.example/app/")
	p, err := Parse(u, header, []byte(markup))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScriptTypes: every <script> a browser runs is code, whatever its
// type is spelled as; data blocks are not.
func TestScriptTypes(t *testing.T) {
	var runs []string
	for typ := range javaScriptTypes {
		runs = append(runs, `type="`+typ+`"`, `type=" `+strings.ToUpper(typ)+`	"`)
	}
	runs = append(runs, ``, `type=""`, `language="javascript"`, `language=""`, `language="JScript"`, `language="ecmascript"`,
		`type="text/javascript; charset=utf-8"`, `type="text/javascript;version=1.8"`)
	for _, attrs := range runs {
		p := parsePage(t, nil, `<script `+attrs+`>x()</script>`)
		if len(p.Code) != 1 || p.Code[0].Kind != ClassicScript || p.Code[0].Source != "x()" {
			t.Errorf("<script %s>: %+v, want one inline classic script", attrs, p.Code)
		}
	}
	for _, attrs := range []string{`type="module"`, `type=" MODULE "`} {
		if p := parsePage(t, nil, `<script `+attrs+`>x()</script>`); len(p.Code) != 1 || p.Code[0].Kind != ModuleScript {
			t.Errorf("<script %s>: %+v, want one module script", attrs, p.Code)
		}
	}
	for _, attrs := range []string{`type="application/json"`, `type="text/template"`, `type="speculationrules"`, `type="text/plain"`, `language="vbscript"`} {
		if p := parsePage(t, nil, `<script `+attrs+`>x()</script>`); len(p.Code) != 0 {
			t.Errorf("<script %s>: %+v, want a data block (nothing that runs)", attrs, p.Code)
		}
	}
	// SVG scripts name their file with href or xlink:href; inside a
	// template too (a declarative shadow root runs them).
	p := parsePage(t, nil, `<svg><script href="a.js"/><script xlink:href="/b.js"></script></svg><template shadowrootmode="open"><script>c()</script></template>`)
	if len(p.Code) != 3 || p.Code[0].URL != "https://enroll.example/app/a.js" || p.Code[1].URL != "https://enroll.example/b.js" || p.Code[2].Source != "c()" {
		t.Errorf("SVG and template scripts: %+v", p.Code)
	}
	// <noscript> is text where scripts run.
	if p := parsePage(t, nil, `<noscript><iframe src="x"></iframe><script>y()</script></noscript>`); len(p.Code) != 0 {
		t.Errorf("<noscript>: %+v", p.Code)
	}
}

// TestJavaScriptURLs: a URL is javascript: after URL parsing, whatever the
// markup hides in it.
func TestJavaScriptURLs(t *testing.T) {
	for _, href := range []string{"javascript:x()", "JaVaScRiPt:x()", " javascript:x()", "&#1;javascript:x()", "jav&#9;ascript:x()",
		"java&#10;script:x()", "java&#13;script:x()", "&#x20;&#x1F;javascript:x()", "javascript&#9;:x()"} {
		p := parsePage(t, nil, `<a href="`+href+`">a</a><iframe src="`+href+`"></iframe><form action="`+href+`"><button formaction="`+href+`">b</button></form>`)
		n := 0
		for _, c := range p.Code {
			if c.Kind == JavaScriptURL {
				n++
			}
		}
		if n != 4 {
			t.Errorf("%q: %d javascript: URLs, want 4: %+v", href, n, p.Code)
		}
	}
	for _, href := range []string{"https://x.example/javascript:x", "/javascript:x", "javascripts:x", "java-script:x", "#javascript:x"} {
		if p := parsePage(t, nil, `<a href="`+href+`">a</a>`); len(p.Code) != 0 {
			t.Errorf("%q: %+v, want no code", href, p.Code)
		}
	}
}

func TestNestedDocumentsAndHandlers(t *testing.T) {
	p := parsePage(t, nil, `<iframe srcdoc="<p>x" src="a.html"></iframe><iframe></iframe><object data="b.svg"></object><embed src="c.svg">`+
		`<svg onload="d()"><a onclick="e()"></a></svg><body onpageshow="f()">`)
	var got []string
	for _, c := range p.Code {
		got = append(got, string(c.Kind)+" "+c.Element+" "+c.URL+c.Source)
	}
	want := []string{ // the body's attributes go to the body the parser made first
		"event handler <body onpageshow> f()",
		"nested document <iframe srcdoc> <p>x", "nested document <iframe> ", "nested document <object> https://enroll.example/app/b.svg",
		"nested document <embed> https://enroll.example/app/c.svg", "event handler <svg onload> d()", "event handler <a onclick> e()",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNavigationsAndHeaders(t *testing.T) {
	h := http.Header{}
	h.Add("Refresh", "0; url=https://elsewhere.example/")
	h.Add("Link", `</x.css>; rel="preload stylesheet", </font.woff2>; rel=preload`)
	p := parsePage(t, h, `<meta http-equiv=" REFRESH " content="1"><base target="_top"><base href="/other/"><script src="s.js"></script>`)
	if len(p.Navigations) != 4 || p.Navigations[0].Element != "the Refresh header" || p.Navigations[1].Element != `<meta http-equiv="refresh">` ||
		p.Navigations[2].Element != "<base>" || p.Navigations[3].Target != "/other/" {
		t.Errorf("navigations %+v", p.Navigations)
	}
	// The first <base> with an href decides where later URLs lead.
	if len(p.Code) != 1 || p.Code[0].URL != "https://enroll.example/other/s.js" {
		t.Errorf("code %+v", p.Code)
	}
	if len(p.Styles) != 1 || p.Styles[0].URL != "https://enroll.example/x.css" {
		t.Errorf("styles %+v", p.Styles)
	}
}

// TestParseURL: URLs are compared as a browser serializes them.
func TestParseURL(t *testing.T) {
	base, _ := url.Parse("https://site.example/app/page.html")
	for in, want := range map[string]string{
		"HTTPS://SITE.example:443/a/../b.js": "https://site.example/b.js",
		"http://site.example:80":             "http://site.example/",
		"\\\\other.example\\x.js":            "https://other.example/x.js",
		" ./x\t.js\n":                        "https://site.example/app/x.js",
		"../../../x.js#frag":                 "https://site.example/x.js#frag",
		"data:text/javascript,x":             "data:text/javascript,x",
	} {
		u, err := parseURL(in, base)
		if err != nil || u.String() != want {
			t.Errorf("parseURL(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	if _, err := parseURL("./x.js", nil); err == nil {
		t.Error("a relative URL without a base parsed")
	}
}
