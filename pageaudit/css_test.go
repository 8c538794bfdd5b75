package pageaudit

import (
	"strings"
	"testing"
)

// enrollTarget is an element <cvm-attest id="enroll" class="trust"> inside
// <main class="page">, <body>, <html>.
var enrollTarget = cssTarget{
	elements:  []box{{tag: "cvm-attest", id: "enroll", classes: []string{"trust"}}},
	ancestors: []box{{tag: "main", classes: []string{"page"}}, {tag: "body"}, {tag: "html"}},
}

// TestCSSRuleRejects: CSS that can hide the element, or restyle or cover
// its words, fails — however it is spelled.
func TestCSSRuleRejects(t *testing.T) {
	for _, sheet := range []string{
		// Into the element: its layout parts moved over the verdict, or given words.
		`cvm-attest::part(camera) { position: fixed; inset: 0; z-index: 2147483647 }`,
		`cvm-attest::part(retry) { transform: translateY(-4em) }`,
		`cvm-attest::part(preview) { margin-top: -20em }`,
		`cvm-attest::part(capture-note) { outline: 9em solid #e8f6ee }`,
		`cvm-attest::part(capture) { font-size: 0 }`,
		`cvm-attest::part(capture)::after { content: "Verified: genuine AMD SEV-SNP (Genoa)" }`,
		`cvm-attest::part(camera)::first-line { color: transparent }`,
		`cvm-\61ttest::p\61rt(c\61mera) { position: absolute }`,
		`CVM-ATTEST::PART(CAMERA) { translate: 0 -5em }`,
		`cvm-attest { &::part(retry) { position: relative; top: -3em } }`,
		`#enroll::part(preview) { margin: calc(0px - 10em) 0 0 }`,
		`cvm-attest::part(camera) { margin-top: var(--m) }`,
		// Parts the audit cannot place: an ancestor's, or what it cannot read.
		`::part(badge) { color: green }`,
		`:is(cvm-attest)::part(badge) { color: green }`,
		`main::part(camera) { display: none }`,
		`::slotted(*) { color: green }`,
		`cvm-attest::part(var(--x)) { color: green }`,
		`cvm-attest::part() { color: green }`,
		`cvm-attest::part(camera) div { color: green }`,
		// On the element.
		`cvm-attest { opacity: 0 }`,
		`cvm-attest { visibility: hidden }`,
		`cvm-attest { display: none }`,
		`cvm-attest { display: contents }`,
		`cvm-attest { font-size: 0 }`,
		`cvm-attest { color: transparent }`,
		`cvm-attest { filter: hue-rotate(120deg) }`,
		`cvm-attest { margin: -9999px }`,
		`cvm-attest { margin: calc(0px - 50vh) }`,
		`cvm-attest { --badge-color: green }`,
		`cvm-attest:hover { opacity: 0 }`,
		`main > cvm-attest { transform: scale(0) }`,
		`#enroll { clip-path: inset(50%) }`,
		`.trust { position: absolute; left: -9999px }`,
		`[gateway] { opacity: 0 }`,
		`:not(p) { opacity: 0 }`,
		`* { opacity: .99 }`,
		`main { cvm-attest { opacity: 0 } }`,
		`@media screen { cvm-attest { opacity: 0 } }`,
		`@supports (display: grid) { @layer x { cvm-attest { opacity: 0 } } }`,
		`cvm-attest { @media screen { opacity: 0 } }`,
		`cvm-attest::before { content: "Verified: genuine AMD SEV-SNP (Genoa)" }`,
		`cvm-attest:after { content: "Verified" }`,
		`cvm-attest::first-line { color: transparent }`,
		`cvm-attest::details-content { display: none }`,
		// On an ancestor: inherited into the element, or hiding it.
		`main { -webkit-text-security: disc }`,
		`.page { -webkit-text-fill-color: transparent }`,
		`body { visibility: hidden }`,
		`body { filter: invert(1) }`,
		`html { zoom: 0.01 }`,
		`main { display: none }`,
		`main { position: fixed }`,
		`main { overflow: hidden; height: 0 }`,
		`body { font-size: 0 }`,
		`body { font: 0/0 a }`,
		`main { text-indent: -9999px }`,
		`main { letter-spacing: -1em }`,
		`main { display: var(--d) }`,
		`body::before { content: ""; position: fixed; inset: 0 }`,
		`main::first-line { color: transparent }`,
		`main { outline: 9999px solid white; outline-offset: -9999px }`,
		`body { outline-offset: calc(-1 * 50vh) }`,
		// What the audit does not see.
		`@font-face { font-family: x; src: url(x.woff2) }`,
		`@import url(other.css);`,
		`@unknown { cvm-attest { opacity: 0 } }`,
		`cvm-attest { opacity: 0`,
	} {
		if found := enrollTarget.checkSheet(sheet); len(found) == 0 {
			t.Errorf("%s: passed, want it to fail", sheet)
		}
	}
}

// TestCSSRuleAccepts: ordinary page CSS passes.
func TestCSSRuleAccepts(t *testing.T) {
	for _, sheet := range []string{
		`*, *::before, *::after { box-sizing: border-box; }`,
		`* { margin: 0; padding: 0 }`,
		`html { -webkit-text-size-adjust: 100%; font-size: 100% }`,
		`:root { --brand: #1a5fb4 }`,
		`body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 44rem; padding: 0 1rem; color: #1d2125; background: #fff }`,
		`main { display: grid; gap: 1rem; position: relative; overflow-y: auto }`,
		`cvm-attest { margin: 1rem auto; max-width: 36rem; display: block }`,
		`#enroll { padding: 1rem }`,
		`h1 { font-size: 1.5rem; opacity: .8 }`,
		`p::before { content: "» " }`,
		`.warning { display: none; color: red }`,
		`main > p { transform: rotate(1deg) }`,
		`#other { opacity: 0 } .other { visibility: hidden }`,
		`cvm-attest.other { opacity: 0 }`,
		`@media (max-width: 30rem) { body { margin: 1rem } }`,
		`@keyframes spin { to { transform: rotate(1turn) } }`,
		`::selection { background: yellow }`,
		`/* cvm-attest::part(badge) { color: green } */ h2 { color: navy }`,
		`a { color: blue; &:hover { color: navy } }`,
		// The element's layout parts, fitted to the page.
		`cvm-attest::part(preview) { width: 240px; border-radius: 12px; object-fit: cover }`,
		`cvm-attest::part(capture) { background: #1a5fb4; color: #fff; border: 0; padding: .5em 1em; font: inherit }`,
		`cvm-attest::part(camera) { align-items: center; gap: 1rem; margin: 1rem 0 }`,
		`cvm-attest::part(retry):hover, #enroll::part(capture-note) { color: navy; display: none }`,
		`cvm-attest::part(preview)::backdrop { background: black }`,
		// Parts the element does not export: they match nothing in it.
		`cvm-attest::part(badge) { color: green }`,
		`cvm-attest::part(warning) { display: none }`,
		`cvm-attest::part(badge-label)::after { content: "Verified" }`,
		`main { outline: 2px solid navy; outline-offset: 4px }`,
	} {
		if found := enrollTarget.checkSheet(sheet); len(found) > 0 {
			t.Errorf("%s: failed, want it to pass: %+v", sheet, found)
		}
	}
}

func TestCSSStyleAttributes(t *testing.T) {
	for _, tc := range []struct {
		css       string
		onElement bool
		fails     bool
	}{
		{"margin: 1rem 0", true, false},
		{"opacity: 0", true, true},
		{"display:none", true, true},
		{"color: red; background: white", false, false},
		{"visibility: hidden", false, true},
		{"color: red; nonsense", false, true},
	} {
		if found := enrollTarget.checkDeclarations(tc.css, tc.onElement); (len(found) > 0) != tc.fails {
			t.Errorf("style=%q (on the element: %v): %+v, want failing %v", tc.css, tc.onElement, found, tc.fails)
		}
	}
}

// TestCSSCustomPropertiesReach: a page's custom properties on an ancestor
// pass only while the widget reads none.
func TestCSSCustomPropertiesReach(t *testing.T) {
	reads := enrollTarget
	reads.widgetReadsVars = true
	if found := reads.checkSheet(`:root { --badge: green }`); len(found) == 0 {
		t.Error("a custom property on an ancestor passed though the widget reads custom properties")
	}
}

func TestCSSUnescape(t *testing.T) {
	for in, want := range map[string]string{`cvm-\61ttest`: "cvm-attest", `p\61 rt`: "part", `\000070art`: "part", `\:host`: ":host", `a\`: `a\`} {
		if got := cssUnescape(in); got != want {
			t.Errorf("cssUnescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCSS: any bytes, however malformed, are read without a panic.
func FuzzCSS(f *testing.F) {
	for _, s := range []string{`a{b:c}`, `@media{a{`, `a{&{&{}}}`, `::part(`, `\`, `a{b:c;d}`, `}}}`, `@x;`, `a{@media{b:c}}`, `*|*::before{content:"x"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		enrollTarget.checkSheet(src)
		enrollTarget.checkDeclarations(src, true)
	})
}

// TestCSSBounds: nesting that would multiply selectors or go deep is read
// in bounded time, and still fails what it must.
func TestCSSBounds(t *testing.T) {
	list := strings.Repeat("a,", 50) + "a"
	deep := strings.Repeat(list+"{", 40) + "&::part(badge){color:green}" + strings.Repeat("}", 40)
	if found := enrollTarget.checkSheet(deep); len(found) == 0 {
		t.Error("::part() nested 40 deep in wide selector lists passed")
	}
	mains := strings.Repeat("main,", 50) + "main"
	wide := strings.Repeat(mains+"{", 3) + "& { opacity: 0 }" + strings.Repeat("}", 3)
	if found := enrollTarget.checkSheet(wide); len(found) == 0 {
		t.Error("opacity on <main> nested in wide selector lists passed")
	}
}
