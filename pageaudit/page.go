package pageaudit

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// Page is what an HTML page holds that bears on the widget's trust, read
// from its markup and headers alone (Parse); Audit then loads what it names.
// It is grouped as the audit reasons about it: what can run, what can
// navigate, what the element is told, and what can restyle it.
type Page struct {
	URL *url.URL // where the page came from, after redirects

	// What can run in the page's realm, or beside it with access to it.
	Code []Code
	// ImportMaps are the page's import maps, in order: they decide where
	// every module specifier, the widget's included, leads.
	ImportMaps []ImportMapScript

	// What can take the person elsewhere, or send the page's relative
	// URLs elsewhere, without a script.
	Navigations []Navigation

	// Elements are the page's <cvm-attest> elements: what each is told.
	Elements []Element

	// Styles is the page's CSS: <style> elements, linked stylesheets, and
	// the style attributes of the elements and their ancestors.
	Styles []Style
}

// CodeKind says how a piece of code comes to run.
type CodeKind string

const (
	ClassicScript  CodeKind = "classic script"
	ModuleScript   CodeKind = "module script"
	ModulePreload  CodeKind = "modulepreload"   // fetched and compiled, run once imported
	ScriptPreload  CodeKind = "script preload"  // <link rel=preload as=script>
	EventHandler   CodeKind = "event handler"   // an on* attribute
	JavaScriptURL  CodeKind = "javascript: URL" // runs when followed or loaded
	NestedDocument CodeKind = "nested document" // iframe, frame, object, embed
)

// Code is one thing that can run.
type Code struct {
	Kind    CodeKind
	Element string // the element it is on or is, e.g. `<script type="application/x-javascript">`
	// Source is the code or document itself when it is in the page (an
	// inline script, a handler, a javascript: URL, an iframe's srcdoc).
	Source string
	Inline bool
	// URL is what it loads when it loads a file (a script's src, a frame's src).
	URL string
	// Integrity is the element's integrity attribute, "" when it has none.
	Integrity string
	base      *url.URL // what an inline module's imports resolve against
}

// ImportMapScript is one <script type="importmap">.
type ImportMapScript struct {
	Text string
	// External is true for an import map given by src, which browsers
	// refuse to load.
	External bool
	// AfterModules is true when a module script or modulepreload came
	// before it: some browsers then ignore it.
	AfterModules bool
	base         *url.URL
}

// Navigation is something in the page that leads elsewhere on its own.
type Navigation struct {
	Element string // `<meta http-equiv="refresh">`, `<base>`, or the Refresh header
	Target  string // where to, as written
}

// Element is one <cvm-attest> element.
type Element struct {
	Attributes []html.Attribute
	self       box      // the element, as CSS selectors see it
	ancestors  []box    // its ancestors, nearest first
	base       *url.URL // what its gateway URL resolves against
}

// box is an element as a selector sees it without running code.
type box struct {
	tag, id string
	classes []string
	hidden  bool // the hidden or inert attribute
}

// Style is one source of page CSS.
type Style struct {
	Where string // `<style>` #n, a stylesheet's URL, or the element a style attribute is on
	Text  string // the CSS, or "" for a linked stylesheet not yet fetched
	URL   string // a linked stylesheet
	// Declarations is true for a style attribute: Text is a declaration
	// list that applies to that one element (OnElement) or ancestor.
	Declarations bool
	OnElement    bool
}

// widgetTag is the element's tag name; define.js registers it.
const widgetTag = "cvm-attest"

// javaScriptTypes are the JavaScript MIME type essences a browser runs a
// <script> of as classic script (HTML, "JavaScript MIME type").
var javaScriptTypes = map[string]bool{
	"application/ecmascript": true, "application/javascript": true, "application/x-ecmascript": true,
	"application/x-javascript": true, "text/ecmascript": true, "text/javascript": true,
	"text/javascript1.0": true, "text/javascript1.1": true, "text/javascript1.2": true, "text/javascript1.3": true,
	"text/javascript1.4": true, "text/javascript1.5": true, "text/jscript": true, "text/livescript": true,
	"text/x-ecmascript": true, "text/x-javascript": true,
}

// nestedDocumentTags are the elements that show another document, with the
// attribute that names it.
var nestedDocumentTags = map[string]string{
	"iframe": "src", "frame": "src", "object": "data", "embed": "src", "portal": "src", "fencedframe": "src",
}

// scriptType is how a browser treats a <script>: "classic", "module",
// "importmap", or "" (a data block, not run). It follows HTML's "prepare the
// script element", and counts a JavaScript type with parameters
// (text/javascript;version=2) as classic too: some browsers have run them.
func scriptType(n *html.Node) string {
	typ, hasType := attr(n, "type")
	lang, hasLang := attr(n, "language")
	var t string
	switch {
	case hasType && typ == "", !hasType && hasLang && lang == "", !hasType && !hasLang:
		t = "text/javascript"
	case hasType:
		t = strings.Trim(typ, " \t\n\f\r")
	default:
		t = "text/" + lang
	}
	t = strings.ToLower(t)
	essence, _, _ := strings.Cut(t, ";")
	switch {
	case javaScriptTypes[t], javaScriptTypes[strings.TrimSpace(essence)]:
		return "classic"
	case t == "module":
		return "module"
	case t == "importmap":
		return "importmap"
	}
	return ""
}

var linkHeader = regexp.MustCompile(`<([^>]*)>((?:\s*;\s*[^;,]+)*)`)

var stylesheetRel = regexp.MustCompile(`(?i);\s*rel\s*=\s*"?[^";]*\bstylesheet\b`)

// Parse reads a page: body is its HTML, header its response headers (for
// Refresh and Link), pageURL where it came from.
func Parse(pageURL *url.URL, header http.Header, body []byte) (*Page, error) {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	p := &Page{URL: pageURL}
	for _, v := range header.Values("Refresh") {
		p.Navigations = append(p.Navigations, Navigation{"the Refresh header", v})
	}
	for _, v := range header.Values("Link") {
		for _, m := range linkHeader.FindAllStringSubmatch(v, -1) {
			if stylesheetRel.MatchString(m[2]) {
				if u, err := parseURL(m[1], pageURL); err == nil {
					p.Styles = append(p.Styles, Style{Where: "stylesheet " + u.String() + " (Link header)", URL: u.String()})
				}
			}
		}
	}
	w := pageWalker{page: p, base: pageURL, styleAttrs: map[*html.Node]bool{}}
	w.walk(doc, nil)
	return p, nil
}

type pageWalker struct {
	page       *Page
	base       *url.URL
	baseSet    bool
	sawModule  bool
	styles     int
	styleAttrs map[*html.Node]bool // style attributes already taken
}

func (w *pageWalker) walk(n *html.Node, ancestors []*html.Node) {
	if n.Type == html.ElementNode {
		w.element(n, ancestors)
		ancestors = append([]*html.Node{n}, ancestors...)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c, ancestors)
	}
}

func (w *pageWalker) resolve(s string) string {
	u, err := parseURL(s, w.base)
	if err != nil {
		return s
	}
	return u.String()
}

func (w *pageWalker) element(n *html.Node, ancestors []*html.Node) {
	p := w.page
	for _, a := range n.Attr {
		name := a.Key
		if a.Namespace != "" {
			name = a.Namespace + ":" + a.Key
		}
		switch {
		case a.Namespace == "" && len(a.Key) > 2 && strings.HasPrefix(a.Key, "on"):
			p.Code = append(p.Code, Code{Kind: EventHandler, Element: fmt.Sprintf("<%s %s>", n.Data, a.Key), Source: a.Val, Inline: true})
		case isJavaScriptURL(a.Val) && !(n.Data == "iframe" && a.Key == "srcdoc"):
			p.Code = append(p.Code, Code{Kind: JavaScriptURL, Element: fmt.Sprintf("<%s %s>", n.Data, name), Source: a.Val, Inline: true})
		}
	}
	switch n.Data {
	case "base":
		h, hasHref := attr(n, "href")
		p.Navigations = append(p.Navigations, Navigation{"<base>", h})
		if hasHref && !w.baseSet {
			if u, err := parseURL(h, w.base); err == nil {
				w.base, w.baseSet = u, true
			}
		}
	case "meta":
		if v, _ := attr(n, "http-equiv"); strings.EqualFold(strings.TrimSpace(v), "refresh") {
			c, _ := attr(n, "content")
			p.Navigations = append(p.Navigations, Navigation{`<meta http-equiv="refresh">`, c})
		}
	case "script":
		w.script(n)
	case "link":
		rel, _ := attr(n, "rel")
		rels := strings.Fields(strings.ToLower(rel))
		href, _ := attr(n, "href")
		integrity, _ := attr(n, "integrity")
		as, _ := attr(n, "as")
		switch {
		case contains(rels, "modulepreload"):
			w.sawModule = true
			p.Code = append(p.Code, Code{Kind: ModulePreload, Element: `<link rel="modulepreload">`, URL: w.resolve(href), Integrity: integrity})
		case contains(rels, "preload") && strings.EqualFold(as, "script"):
			p.Code = append(p.Code, Code{Kind: ScriptPreload, Element: `<link rel="preload" as="script">`, URL: w.resolve(href), Integrity: integrity})
		case contains(rels, "stylesheet"):
			u := w.resolve(href)
			p.Styles = append(p.Styles, Style{Where: "stylesheet " + u, URL: u})
		}
	case "style":
		w.styles++
		p.Styles = append(p.Styles, Style{Where: fmt.Sprintf("<style> #%d", w.styles), Text: textOf(n)})
	case widgetTag:
		el := Element{Attributes: n.Attr, self: boxOf(n), base: w.base}
		for _, a := range ancestors {
			el.ancestors = append(el.ancestors, boxOf(a))
		}
		p.Elements = append(p.Elements, el)
		for i, s := range append([]*html.Node{n}, ancestors...) {
			if css, ok := attr(s, "style"); ok && !w.styleAttrs[s] {
				w.styleAttrs[s] = true
				p.Styles = append(p.Styles, Style{Where: fmt.Sprintf("the style attribute of <%s>", s.Data), Text: css, Declarations: true, OnElement: i == 0})
			}
		}
	}
	if attrName, ok := nestedDocumentTags[n.Data]; ok && n.Namespace == "" {
		c := Code{Kind: NestedDocument, Element: "<" + n.Data + ">"}
		if srcdoc, ok := attr(n, "srcdoc"); ok && n.Data == "iframe" {
			c.Element, c.Source, c.Inline = "<iframe srcdoc>", srcdoc, true
		} else if src, ok := attr(n, attrName); ok {
			c.URL = w.resolve(src)
		}
		p.Code = append(p.Code, c)
	}
}

func (w *pageWalker) script(n *html.Node) {
	p := w.page
	typ := scriptType(n)
	src, hasSrc := attr(n, "src")
	if n.Namespace == "svg" { // SVG scripts name their file with href (or xlink:href)
		src, hasSrc = attr(n, "href")
		if !hasSrc {
			src, hasSrc = attrNS(n, "xlink", "href")
		}
	}
	integrity, _ := attr(n, "integrity")
	desc := "<script>"
	if t, ok := attr(n, "type"); ok {
		desc = fmt.Sprintf("<script type=%q>", t)
	} else if l, ok := attr(n, "language"); ok {
		desc = fmt.Sprintf("<script language=%q>", l)
	}
	if n.Namespace == "svg" {
		desc = "<svg> " + desc
	}
	switch typ {
	case "":
		return
	case "importmap":
		p.ImportMaps = append(p.ImportMaps, ImportMapScript{Text: textOf(n), External: hasSrc, AfterModules: w.sawModule, base: w.base})
		return
	case "module":
		w.sawModule = true
	}
	kind := ClassicScript
	if typ == "module" {
		kind = ModuleScript
	}
	c := Code{Kind: kind, Element: desc, Integrity: integrity, base: w.base}
	if hasSrc {
		c.URL = w.resolve(src)
	} else {
		c.Source, c.Inline = textOf(n), true
	}
	p.Code = append(p.Code, c)
}

func boxOf(n *html.Node) box {
	b := box{tag: strings.ToLower(n.Data)}
	b.id, _ = attr(n, "id")
	if c, ok := attr(n, "class"); ok {
		b.classes = strings.Fields(c)
	}
	_, hidden := attr(n, "hidden")
	_, inert := attr(n, "inert")
	b.hidden = hidden || inert
	return b
}

// attr returns n's attribute name (no namespace) and whether it has it.
func attr(n *html.Node, name string) (string, bool) {
	return attrNS(n, "", name)
}

func attrNS(n *html.Node, ns, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == ns && a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}
