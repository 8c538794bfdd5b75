package measure

import (
	"slices"
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
