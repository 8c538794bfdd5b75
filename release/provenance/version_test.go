package provenance

import (
	"testing"

	"golang.org/x/mod/semver"
)

// TestVersionsAsSemver: which tags are versions, and whether one is below a
// minimum (a release's tag), exactly as golang.org/x/mod/semver says, over
// tags that exercise each rule (missing parts, leading zeros, pre-releases,
// build metadata) and every pair of them.
func TestVersionsAsSemver(t *testing.T) {
	tags := []string{
		"v0", "v1", "v1.4", "v1.4.0", "v1.4.1", "v1.10.0", "v1.9.9", "v2.0.0", "v10.0.0", "v1.4.0+build.7",
		"v1.4.0-rc.1", "v1.4.0-rc.10", "v1.4.0-beta", "v1.4.0-1", "v1.4.0-0.3.7", "v1.4.0-rc.1+meta", "v0.0.0-0", "v1.3.9-rc.1",
		// Not versions.
		"", "v", "1.4.0", "v1-rc.1", "v1.4-rc.1", "v1.4.0.1-rc.1", "v01.4.0", "v1.04.0", "v1.4.00", "v1.4-rc.1", "v1.4.0-", "v1.4.0.1", "v1..4", "V1.4.0", "v-1",
		"nightly", "cvmtrust-demo-simulated",
	}
	for _, a := range tags {
		va, ok := parseVersion(a)
		// A pre-release's identifiers are taken as they come: they only ever make a tag lower.
		if want := semver.IsValid(a); ok != want && !(ok && va.pre) {
			t.Errorf("%q: a version %v, semver says %v", a, ok, want)
			continue
		}
		if !ok || !semver.IsValid(a) {
			continue
		}
		for _, m := range tags {
			if (Minimum{Tag: m}).Validate() != nil {
				if semver.IsValid(m) && semver.Prerelease(m) == "" {
					t.Errorf("minimum %q refused, semver says it is a release", m)
				}
				continue
			}
			vm, _ := parseVersion(m)
			if got, want := va.below(vm), semver.Compare(a, m) < 0; got != want {
				t.Errorf("%q below %q: %v, semver says %v", a, m, got, want)
			}
		}
	}
}
