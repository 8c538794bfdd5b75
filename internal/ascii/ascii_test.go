package ascii

import (
	"strings"
	"testing"
)

func TestLower(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"Fulcio.SigStore.DEV": "fulcio.sigstore.dev",
		"already-lower-123":   "already-lower-123",
		"@[`{":                "@[`{", // the bytes beside A–Z
		"\u212aELVIN":         "\u212aelvin",
		"\u00c9COLE":          "\u00c9cole", // É is not A–Z
		"A\x00Z\xff":          "a\x00z\xff",
	} {
		if got := Lower(in); got != want {
			t.Errorf("Lower(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEqualFold(t *testing.T) {
	for _, p := range [][2]string{{"", ""}, {"epyc-ROME", "EPYC-rome"}, {"AZaz09", "azAZ09"}} {
		if !EqualFold(p[0], p[1]) {
			t.Errorf("EqualFold(%q, %q) = false", p[0], p[1])
		}
	}
	for _, p := range [][2]string{{"EPYC", "EPY"}, {"a\u017f", "as"}, {"@", "`"}, {"[", "{"}} {
		if EqualFold(p[0], p[1]) {
			t.Errorf("EqualFold(%q, %q) = true", p[0], p[1])
		}
	}
	// The letters Unicode folds onto s and k: equal under strings.EqualFold,
	// not here.
	for _, p := range [][2]string{{"epyc-\u017f", "EPYC-S"}, {"\u212aabini", "kabini"}} {
		if !strings.EqualFold(p[0], p[1]) {
			t.Fatalf("%q does not fold to %q in Unicode: the test is wrong", p[0], p[1])
		}
		if EqualFold(p[0], p[1]) {
			t.Errorf("EqualFold(%q, %q) = true", p[0], p[1])
		}
	}
}

// Against strings.EqualFold and strings.ToLower on ASCII, where they must agree.
func FuzzASCII(f *testing.F) {
	f.Add("Milan", "mILAN")
	f.Fuzz(func(t *testing.T, a, b string) {
		ascii := func(s string) bool {
			for i := 0; i < len(s); i++ {
				if s[i] >= 0x80 {
					return false
				}
			}
			return true
		}
		if !ascii(a) || !ascii(b) {
			return
		}
		if got, want := EqualFold(a, b), strings.EqualFold(a, b); got != want {
			t.Errorf("EqualFold(%q, %q) = %v, strings.EqualFold %v", a, b, got, want)
		}
		if got, want := Lower(a), strings.ToLower(a); got != want {
			t.Errorf("Lower(%q) = %q, strings.ToLower %q", a, got, want)
		}
	})
}
