package pageaudit

import "strings"

// jsReferences is what a JavaScript module names for loading: specifiers of
// static imports and re-exports, string-literal dynamic imports and
// import.meta.resolve calls (both resolved through the import map, as
// imports are), and files located with new URL('literal', import.meta.url),
// which is how a module names a file it fetches or imports by URL (the
// widget's wasm, Go's loader, the HPKE module).
type jsReferences struct {
	static, dynamic, metaResolve, relativeURLs []string
	// opaqueDynamic counts import() calls whose argument is not a literal.
	opaqueDynamic int
}

// scanJS finds the references in src. It is a lexer, not a parser: it
// skips comments, strings, template literals and regular expressions, and
// recognizes the few forms above among the tokens that remain. A module
// that hides an import from it (an import() of a computed string) is
// counted in opaqueDynamic, so the auditor can say so.
func scanJS(src string) jsReferences {
	var refs jsReferences
	toks := jsTokens(src)
	str := func(i int) (string, bool) {
		if i < len(toks) && toks[i].kind == tokString {
			return toks[i].text, true
		}
		return "", false
	}
	is := func(i int, text string) bool {
		return i >= 0 && i < len(toks) && toks[i].kind != tokString && toks[i].text == text
	}
	// fromClause returns the specifier after the next "from" at this
	// statement's level, scanning at most a few hundred tokens.
	fromClause := func(i int) (string, bool) {
		for j := i; j < len(toks) && j < i+400; j++ {
			if toks[j].kind == tokString || is(j, ";") || is(j, "(") {
				return "", false
			}
			if is(j, "from") {
				return str(j + 1)
			}
		}
		return "", false
	}
	for i, t := range toks {
		if t.kind != tokIdent || is(i-1, ".") {
			continue
		}
		switch t.text {
		case "import":
			switch {
			case is(i+1, "("):
				if s, ok := str(i + 2); ok && (is(i+3, ")") || is(i+3, ",")) {
					refs.dynamic = append(refs.dynamic, s)
				} else {
					refs.opaqueDynamic++
				}
			case is(i+1, ".") && is(i+2, "meta") && is(i+3, ".") && is(i+4, "resolve") && is(i+5, "("):
				if s, ok := str(i + 6); ok {
					refs.metaResolve = append(refs.metaResolve, s)
				}
			case is(i+1, "."): // import.meta
			default:
				if s, ok := str(i + 1); ok {
					refs.static = append(refs.static, s)
				} else if s, ok := fromClause(i + 1); ok {
					refs.static = append(refs.static, s)
				}
			}
		case "export":
			if is(i+1, "*") || is(i+1, "{") {
				if s, ok := fromClause(i + 1); ok {
					refs.static = append(refs.static, s)
				}
			}
		case "new":
			// new URL('x', import.meta.url)
			if is(i+1, "URL") && is(i+2, "(") && is(i+4, ",") && is(i+5, "import") && is(i+6, ".") && is(i+7, "meta") && is(i+8, ".") && is(i+9, "url") {
				if s, ok := str(i + 3); ok {
					refs.relativeURLs = append(refs.relativeURLs, s)
				}
			}
		}
	}
	return refs
}

// importsOnly returns the specifiers of a module that does nothing but
// import others for their effect (import 'x'; import 'y';), as a page's
// inline module that loads the widget does; ok is false for any other code.
func importsOnly(src string) (specs []string, ok bool) {
	toks := jsTokens(src)
	for i := 0; i < len(toks); {
		if toks[i].kind != tokIdent || toks[i].text != "import" || i+1 >= len(toks) || toks[i+1].kind != tokString {
			return nil, false
		}
		specs = append(specs, toks[i+1].text)
		i += 2
		if i < len(toks) && toks[i].kind == tokPunct && toks[i].text == ";" {
			i++
		}
	}
	return specs, len(specs) > 0
}

type tokKind int

const (
	tokPunct tokKind = iota
	tokIdent
	tokString // a string literal's value (escapes other than \' \" \\ kept as written)
)

type jsToken struct {
	kind tokKind
	text string
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// jsTokens splits src into identifiers, string literals and punctuation,
// dropping comments, whitespace, template literals and regular expressions.
func jsTokens(src string) []jsToken {
	var toks []jsToken
	// A '/' starts a regular expression unless it follows a value.
	regexAllowed := func() bool {
		if len(toks) == 0 {
			return true
		}
		last := toks[len(toks)-1]
		switch {
		case last.kind == tokString:
			return false
		case last.kind == tokIdent:
			switch last.text {
			case "return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "instanceof", "yield", "await":
				return true
			}
			return false
		}
		return !strings.Contains(")]}", last.text)
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return toks
			}
			i += end + 4
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for j < len(src) && src[j] != c && src[j] != '\n' {
				if src[j] == '\\' && j+1 < len(src) {
					if n := src[j+1]; n == '\'' || n == '"' || n == '\\' {
						b.WriteByte(n)
						j += 2
						continue
					}
					b.WriteByte('\\')
					j++
				}
				b.WriteByte(src[j])
				j++
			}
			toks = append(toks, jsToken{tokString, b.String()})
			i = j + 1
		case c == '`':
			i = skipTemplate(src, i+1)
			toks = append(toks, jsToken{tokPunct, ")"}) // a value, as regexAllowed sees it
		case c == '/' && regexAllowed():
			j, inClass := i+1, false
			for j < len(src) && src[j] != '\n' {
				if src[j] == '\\' {
					j += 2
					continue
				}
				if src[j] == '[' {
					inClass = true
				} else if src[j] == ']' {
					inClass = false
				} else if src[j] == '/' && !inClass {
					break
				}
				j++
			}
			i = j + 1
			for i < len(src) && isIdentByte(src[i]) { // flags
				i++
			}
			toks = append(toks, jsToken{tokPunct, ")"}) // a value
		case isIdentByte(c):
			j := i
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			toks = append(toks, jsToken{tokIdent, src[i:j]})
			i = j
		default:
			toks = append(toks, jsToken{tokPunct, string(c)})
			i++
		}
	}
	return toks
}

// skipTemplate returns the index after the template literal whose body
// starts at i, skipping ${...} expressions (which may nest templates).
func skipTemplate(src string, i int) int {
	for i < len(src) {
		switch {
		case src[i] == '\\':
			i += 2
		case src[i] == '`':
			return i + 1
		case strings.HasPrefix(src[i:], "${"):
			depth := 1
			i += 2
			for i < len(src) && depth > 0 {
				switch src[i] {
				case '{':
					depth++
				case '}':
					depth--
				case '`':
					i = skipTemplate(src, i+1) - 1
				case '\'', '"':
					q := src[i]
					i++
					for i < len(src) && src[i] != q {
						if src[i] == '\\' {
							i++
						}
						i++
					}
				}
				i++
			}
		default:
			i++
		}
	}
	return i
}
