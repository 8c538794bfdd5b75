// Package ascii folds the case of A–Z and nothing else.
//
// Host names compare case-insensitively in ASCII alone (RFC 4343), and so do
// the vCPU model names of package measure. Unicode folding would do more
// than that: it lets "ſ" (U+017F) stand for "s" and the Kelvin sign (U+212A)
// for "k". The standard library's strings.ToLower and strings.EqualFold also
// link Unicode's case tables into the browser build.
package ascii

// Lower returns s with A–Z lowered; every other byte is left as it is.
func Lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// EqualFold reports whether a and b are equal once A–Z are lowered in both.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
