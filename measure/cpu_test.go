package measure

import (
	"slices"
	"strings"
	"testing"
)

// TestVCPUTypesSorted checks VCPUTypes' hand-written sort against
// slices.Sort (what sort.Strings does), and that each name it lists is one
// VCPUSignature knows.
func TestVCPUTypesSorted(t *testing.T) {
	got := VCPUTypes()
	want := slices.Clone(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("VCPUTypes() = %q, not in sorted order %q", got, want)
	}
	if len(got) < 2 || len(slices.Compact(want)) != len(got) {
		t.Fatalf("VCPUTypes() = %q: expected several distinct names", got)
	}
	for _, name := range got {
		if _, err := VCPUSignature(name); err != nil {
			t.Errorf("VCPUSignature(%q): %v", name, err)
		}
	}
}

// Model names match case-insensitively in ASCII only: a name spelled with a
// Unicode letter that folds to an ASCII one is not a model name.
func TestCanonicalVCPUTypeFoldsASCIIOnly(t *testing.T) {
	for _, name := range VCPUTypes() {
		if canonicalVCPUType(name) == "" {
			t.Errorf("%q is not recognised", name)
		}
		if canonicalVCPUType(strings.ToUpper(name)) != canonicalVCPUType(name) ||
			canonicalVCPUType(strings.ToLower(name)) != canonicalVCPUType(name) {
			t.Errorf("%q: case changes the canonical name", name)
		}
	}
	for _, name := range []string{"EPYC-Mi\u0142an", "EPYC-Milan\u0000", "EPYC-Mila", ""} {
		if got := canonicalVCPUType(name); got != "" {
			t.Errorf("canonicalVCPUType(%q) = %q, want no match", name, got)
		}
	}
	// No model name has an s or a k today, the two ASCII letters Unicode
	// folds other letters to; matching folds A–Z only, so a later one is safe
	// too (internal/ascii).
	for _, name := range []string{"epyc-\u017ftrange", "EPYC-\u212aabini"} {
		if got := canonicalVCPUType(name); got != "" {
			t.Errorf("canonicalVCPUType(%q) = %q, want no match", name, got)
		}
	}
}
