package provenance

import "strings"

// Release tags compare as semantic versions (semver.org), written as Go
// modules write them: "v" and MAJOR[.MINOR[.PATCH]] (a missing part is 0),
// then an optional -PRERELEASE and +BUILD (ignored). A minimum is a release,
// never a pre-release, so two pre-releases never need ordering: a
// pre-release is below its release, and that is all. golang.org/x/mod/semver
// orders the same way, and the tests hold this to it; it is not linked here
// because it added 4 KB of brotli-compressed wasm to a page whose budget had
// none left (web/README.md, Figures).

// version is a parsed tag: its three numbers, decimal without leading zeros,
// and whether it is a pre-release.
type version struct {
	core [3]string
	pre  bool
}

// parseVersion reads a tag as a version; ok is false when it is not one.
func parseVersion(tag string) (v version, ok bool) {
	rest, found := strings.CutPrefix(tag, "v")
	if !found {
		return v, false
	}
	rest, _, _ = strings.Cut(rest, "+")
	rest, pre, hasPre := strings.Cut(rest, "-")
	v.core = [3]string{"0", "0", "0"}
	n := 0
	for found = true; found && n < 3; n++ {
		if v.core[n], rest, found = strings.Cut(rest, "."); !isNumber(v.core[n]) {
			return v, false
		}
	}
	// No fourth part; and a pre-release names all three.
	if found || hasPre && (pre == "" || n != 3) {
		return v, false
	}
	v.pre = hasPre
	return v, true
}

// isNumber is a decimal number as semantic versions write one: digits, and
// no leading zero.
func isNumber(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != "" && (s == "0" || s[0] != '0')
}

// below reports whether a is below m, a release (not a pre-release).
func (a version) below(m version) bool {
	for i := range a.core {
		x, y := a.core[i], m.core[i]
		if len(x) != len(y) {
			return len(x) < len(y)
		}
		if x != y {
			return x < y
		}
	}
	return a.pre
}
