package pageaudit

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/css"
)

// Page CSS that can reach the element's words and state. The rule is stated
// in the package comment (section "The checks", CSS); this file reads CSS
// into rules and applies it.

// cssToken is one CSS token; name is an identifier's, function's,
// at-keyword's or hash's name with escapes decoded, lower-cased.
type cssToken struct {
	tt   css.TokenType
	text string
	name string
}

func cssTokens(src string) []cssToken {
	l := css.NewLexer(parse.NewInputString(src))
	var out []cssToken
	for {
		tt, b := l.Next()
		switch tt {
		case css.ErrorToken:
			return out
		case css.CommentToken:
			continue
		}
		t := cssToken{tt: tt, text: string(b)}
		switch tt {
		case css.IdentToken, css.CustomPropertyNameToken:
			t.name = cssUnescape(t.text)
		case css.FunctionToken:
			t.name = cssUnescape(strings.TrimSuffix(t.text, "("))
		case css.AtKeywordToken, css.HashToken:
			t.name = cssUnescape(t.text[1:])
		}
		if tt != css.CustomPropertyNameToken {
			t.name = strings.ToLower(t.name)
		}
		out = append(out, t)
	}
}

// cssUnescape decodes CSS escapes: \ and up to six hex digits (and one
// white space after them), or \ and any other character.
func cssUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		j := i + 1
		for j < len(s) && j < i+7 && strings.IndexByte("0123456789abcdefABCDEF", s[j]) >= 0 {
			j++
		}
		if j == i+1 {
			b.WriteByte(s[j])
			i = j
			continue
		}
		r, _ := strconv.ParseUint(s[i+1:j], 16, 32)
		if r == 0 || r > 0x10FFFF || r >= 0xD800 && r <= 0xDFFF {
			r = 0xFFFD
		}
		b.WriteRune(rune(r))
		if j < len(s) && strings.IndexByte(" \t\n\r\f", s[j]) >= 0 {
			j++
		}
		i = j - 1
	}
	return b.String()
}

type declaration struct {
	prop  string // lower-cased, except custom properties
	value []cssToken
}

func (d declaration) String() string {
	var b strings.Builder
	b.WriteString(d.prop + ":")
	for _, t := range d.value {
		b.WriteString(t.text)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// styleRule is a style rule with CSS nesting resolved: each selector is a
// complex selector as if written at the top level.
type styleRule struct {
	selectors  [][]cssToken
	decls      []declaration
	unreadable []string // items in its block that are neither declarations nor rules
}

// styleSheet is what parseSheet makes of a style sheet.
type styleSheet struct {
	rules []styleRule
	// atRules are the at-rules that bring in what the audit cannot see:
	// "import" and "font-face".
	atRules []string
	// unreadable holds what could not be read, as written.
	unreadable []string
}

type cssParser struct {
	toks  []cssToken
	i     int
	depth int // blocks open
	out   *styleSheet
}

// Bounds on what the reader follows: nesting deeper than maxNesting is
// read as unreadable, and nested selector lists that would multiply past
// maxSelectors are read with * for their parent (which selects more).
const (
	maxNesting   = 32
	maxSelectors = 256
)

func (p *cssParser) peek() *cssToken {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *cssParser) skipSpace() {
	for t := p.peek(); t != nil && (t.tt == css.WhitespaceToken || t.tt == css.CDOToken || t.tt == css.CDCToken); t = p.peek() {
		p.i++
	}
}

// collect returns the tokens up to the first of stop at nesting depth 0
// (not consumed) or the end, and which it was (0 at the end).
func (p *cssParser) collect(stop string) ([]cssToken, byte) {
	start, depth := p.i, 0
	for ; p.i < len(p.toks); p.i++ {
		t := p.toks[p.i]
		switch t.tt {
		case css.LeftParenthesisToken, css.LeftBracketToken, css.FunctionToken:
			depth++
		case css.RightParenthesisToken, css.RightBracketToken:
			if depth > 0 {
				depth--
			}
		}
		if depth == 0 && len(t.text) == 1 && strings.Contains(stop, t.text) {
			return p.toks[start:p.i], t.text[0]
		}
	}
	return p.toks[start:], 0
}

// skipBlock consumes a {} block whose { was consumed, and returns its text.
func (p *cssParser) skipBlock() string {
	var b strings.Builder
	for depth := 1; p.i < len(p.toks); p.i++ {
		switch p.toks[p.i].tt {
		case css.LeftBraceToken:
			depth++
		case css.RightBraceToken:
			if depth--; depth == 0 {
				p.i++
				return b.String()
			}
		}
		b.WriteString(p.toks[p.i].text)
	}
	return b.String()
}

// groupingAtRules hold rules (or, nested in a style rule, declarations)
// that apply when a condition holds; the audit takes it to hold.
var groupingAtRules = map[string]bool{
	"media": true, "supports": true, "layer": true, "container": true, "scope": true,
	"document": true, "-moz-document": true, "starting-style": true,
}

// inertAtRules hold nothing that styles an element of the page by itself.
var inertAtRules = map[string]bool{
	"keyframes": true, "-webkit-keyframes": true, "page": true, "property": true, "counter-style": true,
	"font-feature-values": true, "font-palette-values": true, "view-transition": true, "position-try": true,
	"namespace": true, "charset": true, "color-profile": true,
}

// ruleList reads rules up to the end or, in a block, its }.
func (p *cssParser) ruleList(inBlock bool) {
	for {
		p.skipSpace()
		t := p.peek()
		switch {
		case t == nil:
			return
		case t.tt == css.RightBraceToken:
			p.i++
			if inBlock {
				return
			}
			p.out.unreadable = append(p.out.unreadable, "}")
		case t.tt == css.AtKeywordToken:
			p.atRule(nil)
		default:
			prelude, end := p.collect("{")
			if end == 0 {
				p.out.unreadable = append(p.out.unreadable, tokensText(prelude))
				return
			}
			p.i++
			p.styleBlock(splitList(prelude))
		}
	}
}

// atRule reads an at-rule; parents are the selectors of the style rule it
// is nested in, or nil at the top level.
func (p *cssParser) atRule(parents [][]cssToken) {
	name := p.toks[p.i].name
	p.i++
	_, end := p.collect("{;")
	if end != '{' {
		p.i++
		if name == "import" {
			p.out.atRules = append(p.out.atRules, name)
		}
		return
	}
	p.i++
	switch {
	case groupingAtRules[name] && parents == nil && p.depth < maxNesting:
		p.depth++
		p.ruleList(true)
		p.depth--
	case groupingAtRules[name]:
		p.styleBlock(parents)
	case name == "font-face":
		p.out.atRules = append(p.out.atRules, name)
		p.skipBlock()
	case inertAtRules[name]:
		p.skipBlock()
	default:
		p.out.unreadable = append(p.out.unreadable, "@"+name+" {"+p.skipBlock()+"}")
	}
}

// styleBlock reads a style rule's block, its { consumed: declarations,
// nested rules and nested at-rules.
func (p *cssParser) styleBlock(selectors [][]cssToken) {
	if p.depth >= maxNesting {
		p.out.unreadable = append(p.out.unreadable, p.skipBlock())
		return
	}
	p.depth++
	defer func() { p.depth-- }()
	rule := styleRule{selectors: selectors}
	defer func() { p.out.rules = append(p.out.rules, rule) }()
	for {
		p.skipSpace()
		t := p.peek()
		switch {
		case t == nil:
			return
		case t.tt == css.RightBraceToken:
			p.i++
			return
		case t.tt == css.SemicolonToken:
			p.i++
		case t.tt == css.AtKeywordToken:
			p.atRule(selectors)
		default:
			item, end := p.collect(";{}")
			if end == '{' {
				p.i++
				p.styleBlock(nest(selectors, splitList(item)))
				continue
			}
			if end == ';' {
				p.i++
			}
			if d, ok := parseDeclaration(item); ok {
				rule.decls = append(rule.decls, d)
			} else {
				rule.unreadable = append(rule.unreadable, tokensText(item))
			}
		}
	}
}

func parseSheet(src string) *styleSheet {
	p := &cssParser{toks: cssTokens(src), out: &styleSheet{}}
	p.ruleList(false)
	return p.out
}

// parseDeclarations reads a style attribute: declarations only.
func parseDeclarations(src string) styleRule {
	p := &cssParser{toks: append(cssTokens(src), cssToken{tt: css.RightBraceToken, text: "}"}), out: &styleSheet{}}
	p.styleBlock(nil)
	return p.out.rules[len(p.out.rules)-1]
}

func parseDeclaration(item []cssToken) (declaration, bool) {
	item = trimSpace(item)
	if len(item) < 2 || item[0].tt != css.IdentToken && item[0].tt != css.CustomPropertyNameToken {
		return declaration{}, false
	}
	rest := trimSpace(item[1:])
	if len(rest) == 0 || rest[0].tt != css.ColonToken {
		return declaration{}, false
	}
	return declaration{prop: item[0].name, value: trimSpace(rest[1:])}, true
}

func trimSpace(ts []cssToken) []cssToken {
	for len(ts) > 0 && ts[0].tt == css.WhitespaceToken {
		ts = ts[1:]
	}
	for len(ts) > 0 && ts[len(ts)-1].tt == css.WhitespaceToken {
		ts = ts[:len(ts)-1]
	}
	return ts
}

func tokensText(ts []cssToken) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.text)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// splitList splits a selector list at its top-level commas.
func splitList(ts []cssToken) [][]cssToken {
	var out [][]cssToken
	depth, start := 0, 0
	for i, t := range ts {
		switch t.tt {
		case css.LeftParenthesisToken, css.LeftBracketToken, css.FunctionToken:
			depth++
		case css.RightParenthesisToken, css.RightBracketToken:
			depth--
		case css.CommaToken:
			if depth == 0 {
				out = append(out, trimSpace(ts[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, trimSpace(ts[start:]))
}

// nest writes nested selectors as top-level ones: & stands for each parent
// selector, and a selector without & is a descendant of it.
func nest(parents, children [][]cssToken) [][]cssToken {
	if parents == nil {
		return children
	}
	if len(parents)*len(children) > maxSelectors {
		parents = [][]cssToken{{{tt: css.DelimToken, text: "*"}}}
	}
	space := cssToken{tt: css.WhitespaceToken, text: " "}
	var out [][]cssToken
	for _, parent := range parents {
		for _, child := range children {
			var sel []cssToken
			hasAmp := false
			for _, t := range child {
				if t.tt == css.DelimToken && t.text == "&" {
					hasAmp = true
					sel = append(sel, parent...)
				} else {
					sel = append(sel, t)
				}
			}
			if !hasAmp {
				sel = append(append(append([]cssToken{}, parent...), space), child...)
			}
			out = append(out, sel)
		}
	}
	return out
}

// compound is a selector's last compound selector (its subject), as far
// as the audit reads it.
type compound struct {
	tag            string // "" when it names none
	ids, classes   []string
	pseudoElements []string
	root           bool // :root, which is <html> only
	// parts are the names of the compound's ::part(), and hasPart says it
	// has one.
	parts   []string
	hasPart bool
	// unreadableShadow is true when the selector uses ::slotted(), or
	// ::part() other than as its subject's last pseudo-element with plain
	// names: what it styles inside a shadow tree cannot be told.
	unreadableShadow bool
}

// legacyPseudoElements may be written with one colon.
var legacyPseudoElements = map[string]bool{"before": true, "after": true, "first-line": true, "first-letter": true}

func subjectOf(sel []cssToken) compound {
	var c compound
	start, depth, firstPart := 0, 0, -1
	for i, t := range sel {
		switch {
		case t.tt == css.FunctionToken && t.name == "slotted":
			c.unreadableShadow = true
			depth++
		case t.tt == css.FunctionToken && t.name == "part":
			if firstPart < 0 {
				firstPart = i
			}
			depth++
		case t.tt == css.LeftParenthesisToken || t.tt == css.LeftBracketToken || t.tt == css.FunctionToken:
			depth++
		case t.tt == css.RightParenthesisToken || t.tt == css.RightBracketToken:
			depth--
		case depth == 0 && (t.tt == css.WhitespaceToken || t.tt == css.ColumnToken || t.tt == css.DelimToken && strings.Contains(">+~", t.text)):
			start = i + 1
		}
	}
	if firstPart >= 0 && firstPart < start {
		c.unreadableShadow = true // a ::part() before a combinator
	}
	ts := sel[start:]
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		switch {
		case t.tt == css.IdentToken && i == 0, t.tt == css.DelimToken && t.text == "*" && i == 0:
			c.tag = t.name
			if t.text == "*" {
				c.tag = "*"
			}
		case t.tt == css.DelimToken && t.text == "|" && i+1 < len(ts): // ns|tag
			i++
			c.tag = ts[i].name
			if ts[i].text == "*" {
				c.tag = "*"
			}
		case t.tt == css.HashToken:
			c.ids = append(c.ids, t.name)
		case t.tt == css.DelimToken && t.text == "." && i+1 < len(ts):
			i++
			c.classes = append(c.classes, ts[i].name)
		case t.tt == css.ColonToken:
			element := i+1 < len(ts) && ts[i+1].tt == css.ColonToken
			if element {
				i++
			}
			if i+1 >= len(ts) {
				break
			}
			i++
			name := ts[i].name
			if ts[i].tt == css.FunctionToken {
				end := skipArguments(ts, i)
				if element && name == "part" {
					c.hasPart = true
					c.parts = append(c.parts, partNames(ts[i+1:end], &c.unreadableShadow)...)
					i = end
					break
				}
				i = end
			}
			switch {
			case element || legacyPseudoElements[name]:
				c.pseudoElements = append(c.pseudoElements, name)
			case name == "root" && ts[i].tt == css.IdentToken:
				c.root = true
			}
		case t.tt == css.LeftBracketToken:
			for i < len(ts) && ts[i].tt != css.RightBracketToken {
				i++
			}
		}
	}
	return c
}

// partNames reads the names in ::part()'s parentheses; anything but names
// and white space there sets *unreadable.
func partNames(args []cssToken, unreadable *bool) []string {
	var names []string
	for _, t := range args {
		switch t.tt {
		case css.IdentToken:
			names = append(names, t.name)
		case css.WhitespaceToken:
		default:
			*unreadable = true
		}
	}
	if len(names) == 0 {
		*unreadable = true
	}
	return names
}

// skipArguments returns the index of the ) that closes the function at i.
func skipArguments(ts []cssToken, i int) int {
	depth := 0
	for ; i < len(ts); i++ {
		switch ts[i].tt {
		case css.FunctionToken, css.LeftParenthesisToken:
			depth++
		case css.RightParenthesisToken:
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return i
}

// mightMatch reports whether the compound can select b: it can unless it
// names another tag, an id b does not have, or a class b lacks, or is
// :root and b is not <html>. Every
// other part of it (attributes, pseudo-classes) is taken to match.
func (c compound) mightMatch(b box) bool {
	if c.tag != "" && c.tag != "*" && c.tag != b.tag || c.root && b.tag != "html" {
		return false
	}
	for _, id := range c.ids {
		if !strings.EqualFold(id, b.id) {
			return false
		}
	}
	for _, cl := range c.classes {
		found := false
		for _, have := range b.classes {
			found = found || strings.EqualFold(cl, have)
		}
		if !found {
			return false
		}
	}
	return true
}

// Pseudo-elements that cannot carry the element's words or cover them.
var harmlessPseudoElements = map[string]bool{
	"selection": true, "-moz-selection": true, "marker": true, "placeholder": true, "-webkit-input-placeholder": true,
	"-moz-placeholder": true, "backdrop": true, "file-selector-button": true, "-webkit-file-upload-button": true,
	"target-text": true, "spelling-error": true, "grammar-error": true, "highlight": true,
}

// cssFinding is one way a rule can reach the element.
type cssFinding struct {
	rule string // the selector and what it sets
	why  string
}

// cssTarget is what page CSS must not restyle: the <cvm-attest> elements
// and their ancestors.
type cssTarget struct {
	elements  []box
	ancestors []box
	// widgetReadsVars is true when the widget's own code reads CSS custom
	// properties (var(--…)): then a page's custom properties reach it.
	widgetReadsVars bool
}

func (tg cssTarget) reach(c compound) (element, ancestor bool) {
	for _, b := range tg.elements {
		element = element || c.mightMatch(b)
	}
	for _, b := range tg.ancestors {
		ancestor = ancestor || c.mightMatch(b)
	}
	return element, ancestor
}

// checkSheet applies the rule to a style sheet.
func (tg cssTarget) checkSheet(src string) []cssFinding {
	sheet := parseSheet(src)
	var out []cssFinding
	for _, name := range sheet.atRules {
		switch name {
		case "import":
			out = append(out, cssFinding{"@import", "It brings in a style sheet the audit does not read; put those rules in a sheet the page links."})
		case "font-face":
			out = append(out, cssFinding{"@font-face", "A font the page brings can draw any word as any other, “Failed” as “Verified”."})
		}
	}
	for _, u := range sheet.unreadable {
		if mentionsWidget(u) {
			out = append(out, cssFinding{u, "The audit cannot read this CSS, and it mentions the element, its parts or a shadow host."})
		}
	}
	for _, r := range sheet.rules {
		out = append(out, tg.checkRule(r)...)
	}
	return out
}

// checkDeclarations applies the rule to a style attribute of the element
// (onElement) or of an ancestor.
func (tg cssTarget) checkDeclarations(src string, onElement bool) []cssFinding {
	r := parseDeclarations(src)
	var out []cssFinding
	for _, u := range r.unreadable {
		out = append(out, cssFinding{u, "The audit cannot read this declaration, on the element or one of its ancestors."})
	}
	for _, d := range r.decls {
		if why := tg.declarationProblem(d, onElement); why != "" {
			out = append(out, cssFinding{d.String(), why})
		}
	}
	return out
}

func mentionsWidget(s string) bool {
	s = strings.ToLower(cssUnescape(s))
	for _, w := range []string{widgetTag, "part", "slotted", "host"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func (tg cssTarget) checkRule(r styleRule) []cssFinding {
	var out []cssFinding
	for _, sel := range r.selectors {
		selText := tokensText(sel)
		c := subjectOf(sel)
		if c.unreadableShadow {
			out = append(out, cssFinding{selText, "It styles what is inside a shadow tree in a way the audit cannot read, which can hide the element’s warning or change what its badge says."})
			continue
		}
		onElement, onAncestor := tg.reach(c)
		if !onElement && !onAncestor {
			continue
		}
		if c.hasPart {
			out = append(out, tg.checkPartRule(r, selText, c, onAncestor)...)
			continue
		}
		for _, u := range r.unreadable {
			out = append(out, cssFinding{selText + " { " + u + " }", "The audit cannot read this declaration, in a rule that can reach the element."})
		}
		if len(c.pseudoElements) > 0 {
			if why := tg.pseudoElementProblem(c, r.decls); why != "" {
				out = append(out, cssFinding{selText, why})
			}
			continue
		}
		for _, d := range r.decls {
			if why := tg.declarationProblem(d, onElement); why != "" {
				out = append(out, cssFinding{selText + " { " + d.String() + " }", why})
			}
		}
	}
	return out
}

// widgetParts are the parts the element exports (web/cvm-attest.js): the
// camera's box, its preview, its button and the button's note, and the
// retry button, for a page to fit them to its layout. None carries the
// verdict, and the element adds no generated content to them. A test keeps
// this list the element's.
var widgetParts = []string{"camera", "preview", "capture", "capture-note", "retry"}

// checkPartRule applies the rule to a selector whose subject has a ::part():
// on one of the element's layout parts, only what keeps the part in its
// place and leaves the element's words alone is harmless; a part the element
// does not export matches nothing; a part of an ancestor (its shadow tree is
// not the audit's to see) fails.
func (tg cssTarget) checkPartRule(r styleRule, selText string, c compound, onAncestor bool) []cssFinding {
	if onAncestor {
		return []cssFinding{{selText, "It styles a part of an ancestor's shadow tree, which the audit cannot see and which can cover the element."}}
	}
	for _, name := range c.parts {
		if !slices.Contains(widgetParts, name) {
			return nil // the element has no such part: the rule styles nothing in it
		}
	}
	var out []cssFinding
	for _, u := range r.unreadable {
		out = append(out, cssFinding{selText + " { " + u + " }", "The audit cannot read this declaration, in a rule that styles a part of the element."})
	}
	if len(c.pseudoElements) > 0 {
		if why := tg.pseudoElementProblem(c, r.decls); why != "" {
			out = append(out, cssFinding{selText, why})
		}
		return out
	}
	for _, d := range r.decls {
		if why := tg.partDeclarationProblem(d); why != "" {
			out = append(out, cssFinding{selText + " { " + d.String() + " }", why})
		}
	}
	return out
}

// Properties plainly harmless on a layout part: its size and box, its
// font and colours, and how its own children line up. Moving it (position,
// transform, negative margins), stacking it (z-index), or drawing outside
// its box (outline) could put it over the element's verdict.
var partProperties = map[string]bool{
	"width": true, "min-width": true, "max-width": true, "height": true, "min-height": true, "max-height": true,
	"inline-size": true, "block-size": true, "min-inline-size": true, "max-inline-size": true, "min-block-size": true,
	"max-block-size": true, "aspect-ratio": true, "object-fit": true, "object-position": true, "box-sizing": true,
	"display": true, "gap": true, "row-gap": true, "column-gap": true, "align-items": true, "align-content": true,
	"align-self": true, "justify-content": true, "justify-items": true, "justify-self": true, "flex-direction": true,
	"flex-wrap": true, "flex-flow": true, "place-content": true, "place-items": true, "place-self": true,
	"color": true, "accent-color": true, "cursor": true, "line-height": true, "text-align": true,
}

var partPropertyFamilies = []string{"margin", "padding", "border", "background", "font"}

// partDeclarationProblem says why d, on a layout part of the element, can
// move it over the element's words or hide what it says; "" when it cannot.
func (tg cssTarget) partDeclarationProblem(d declaration) string {
	switch {
	case strings.HasPrefix(d.prop, "--"):
		if tg.widgetReadsVars {
			return "A custom property set here reaches inside the element."
		}
		return ""
	case !partProperties[d.prop] && !hasFamily(d.prop, partPropertyFamilies):
		return "On the element's layout parts only size, box, font and colour properties are plainly harmless; " + d.prop + " can move a part over the element's verdict or change what it shows."
	case d.prop == "display":
		return "" // hiding a layout part hides no verdict
	}
	return valueProblem(d, false)
}

func (tg cssTarget) pseudoElementProblem(c compound, decls []declaration) string {
	for _, pe := range c.pseudoElements {
		switch {
		case harmlessPseudoElements[pe] || strings.HasPrefix(pe, "-webkit-scrollbar"):
		case pe == "before" || pe == "after":
			for _, d := range decls {
				if d.prop == "content" && !oneOf(d, "none", "normal") {
					return "It adds content to the element or an ancestor, which can be drawn over the element’s badge or words."
				}
			}
		default:
			return "It styles a part (::" + pe + ") of the element or of an ancestor, which can change how the element’s words look."
		}
	}
	return ""
}

// Properties plainly harmless on an ancestor of the element: layout, box,
// font and colour. Those with a value rule are checked by valueProblem.
var ancestorProperties = map[string]bool{
	"color": true, "line-height": true, "text-align": true, "width": true, "min-width": true, "max-width": true,
	"height": true, "min-height": true, "max-height": true, "inline-size": true, "block-size": true,
	"min-inline-size": true, "max-inline-size": true, "min-block-size": true, "max-block-size": true,
	"box-sizing": true, "box-shadow": true, "gap": true, "row-gap": true, "column-gap": true, "grid": true,
	"flex-direction": true, "flex-wrap": true, "flex-flow": true, "justify-content": true, "justify-items": true,
	"align-items": true, "align-content": true, "place-content": true, "place-items": true, "accent-color": true,
	"caret-color": true, "cursor": true, "scroll-behavior": true, "-webkit-font-smoothing": true,
	"-moz-osx-font-smoothing": true, "text-rendering": true, "tab-size": true, "-moz-tab-size": true, "hyphens": true,
	"overflow-wrap": true, "word-wrap": true, "word-break": true, "container": true, "container-type": true,
	"container-name": true, "isolation": true, "color-scheme": true, "z-index": true, "top": true, "right": true,
	"bottom": true, "left": true, "inset": true, "-webkit-tap-highlight-color": true, "touch-action": true,
	"print-color-adjust": true, "display": true, "position": true, "overflow": true, "overflow-x": true,
	"overflow-y": true, "overflow-block": true, "overflow-inline": true, "text-size-adjust": true,
	"-webkit-text-size-adjust": true,
}

var ancestorPropertyFamilies = []string{"margin", "padding", "border", "outline", "background", "font", "list-style", "grid-template", "grid-auto", "scroll-padding", "scroll-margin"}

// Properties plainly harmless on the element itself: where its box sits.
var elementProperties = map[string]bool{"box-sizing": true, "max-width": true, "max-inline-size": true, "display": true}

var elementPropertyFamilies = []string{"margin", "padding"}

func hasFamily(prop string, families []string) bool {
	for _, f := range families {
		if prop == f || strings.HasPrefix(prop, f+"-") {
			return true
		}
	}
	return false
}

// declarationProblem says why d, on the element (onElement) or on an
// ancestor, can hide or restyle what the element shows; "" when it cannot.
func (tg cssTarget) declarationProblem(d declaration, onElement bool) string {
	if strings.HasPrefix(d.prop, "--") {
		if onElement || tg.widgetReadsVars {
			return "A custom property set here reaches inside the element."
		}
		return ""
	}
	if onElement {
		if !elementProperties[d.prop] && !hasFamily(d.prop, elementPropertyFamilies) {
			return "On the element itself only its margins, padding, box sizing, maximum width and display are plainly harmless; " + d.prop + " can hide it or change how its words look."
		}
	} else if !ancestorProperties[d.prop] && !hasFamily(d.prop, ancestorPropertyFamilies) {
		return "On an ancestor of the element, " + d.prop + " is not one of the layout, box, font and colour properties the audit knows to be harmless: it can hide, cover or change what the element shows."
	}
	return valueProblem(d, onElement)
}

var cssWideKeywords = []string{"initial", "inherit", "unset", "revert", "revert-layer"}

// valueProblem checks the values of the allowed properties whose values
// matter.
func valueProblem(d declaration, onElement bool) string {
	if hasFunction(d, "var", "env", "attr") && (d.prop == "display" || d.prop == "position" || strings.HasPrefix(d.prop, "overflow") ||
		hasFamily(d.prop, []string{"margin", "font"}) || d.prop == "line-height" || strings.HasSuffix(d.prop, "text-size-adjust")) {
		return "Its value comes from a variable, so the audit cannot tell whether it hides or shrinks the element."
	}
	switch {
	case d.prop == "display" && onElement:
		if !oneOf(d, append([]string{"block", "inline-block", "flow-root", "flex", "inline-flex", "grid", "inline-grid", "inline"}, cssWideKeywords...)...) {
			return "display on the element can hide it."
		}
	case d.prop == "display":
		if oneOf(d, "none") {
			return "display: none on an ancestor hides the element."
		}
	case d.prop == "position":
		if !oneOf(d, append([]string{"static", "relative"}, cssWideKeywords...)...) {
			return "position " + tokensText(d.value) + " on an ancestor can move the element under other content."
		}
	case strings.HasPrefix(d.prop, "overflow"):
		for _, t := range d.value {
			if t.tt == css.IdentToken && !contains([]string{"visible", "auto", "scroll", "initial", "inherit", "unset", "revert", "revert-layer"}, t.name) {
				return d.prop + ": " + t.name + " on an ancestor can cut the element off."
			}
		}
	case strings.HasSuffix(d.prop, "text-size-adjust"):
		if !oneOf(d, "auto", "none", "100%") {
			return d.prop + " can shrink the element’s words."
		}
	case hasFamily(d.prop, []string{"margin"}):
		if hasNegativeOrFunction(d) {
			return "A negative or computed margin can move the element under other content."
		}
	case d.prop == "outline-offset":
		// An outline is painted over the box's content: inset by its
		// width, it covers everything inside, the element included.
		if hasNegativeOrFunction(d) {
			return "A negative or computed outline offset draws the outline over what the box contains, the element included."
		}
	case d.prop == "font" || d.prop == "font-size" || d.prop == "line-height":
		if hasZeroOrNegative(d) {
			return d.prop + " of zero or less hides the element’s words."
		}
	}
	return ""
}

func oneOf(d declaration, values ...string) bool {
	v := strings.ToLower(tokensText(d.value))
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(v, "important")), "!"))
	return contains(values, v)
}

func hasFunction(d declaration, names ...string) bool {
	for _, t := range d.value {
		if t.tt == css.FunctionToken && contains(names, t.name) {
			return true
		}
	}
	return false
}

func hasNegativeOrFunction(d declaration) bool {
	for _, t := range d.value {
		if t.tt == css.FunctionToken || (t.tt == css.NumberToken || t.tt == css.DimensionToken || t.tt == css.PercentageToken) && strings.HasPrefix(t.text, "-") {
			return true
		}
	}
	return false
}

func hasZeroOrNegative(d declaration) bool {
	for _, t := range d.value {
		if t.tt != css.NumberToken && t.tt != css.DimensionToken && t.tt != css.PercentageToken {
			continue
		}
		n := strings.TrimRight(t.text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%")
		if f, err := strconv.ParseFloat(n, 64); err == nil && f <= 0 {
			return true
		}
	}
	return false
}
