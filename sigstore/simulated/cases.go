//go:build !(js && wasm)

package simulated

import (
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/cvmtrust/cvmtrust/measure"
)

// The policy the release cases are judged by: what a page that trusts this
// repository's releases pins (docs/release-provenance.md).
const (
	// ReleaseSANRegexp matches the release workflow of ReleaseRepository
	// run for any tag (the demo release is not named vX.Y.Z; a production
	// page pins the version pattern docs/release-provenance.md gives).
	ReleaseSANRegexp = `^https://github\.com/cvmtrust/cvmtrust/\.github/workflows/release\.yml@refs/tags/`
	// ReleaseRepositoryURI is the source repository URI (extension
	// 1.3.6.1.4.1.57264.1.12) a release must come from.
	ReleaseRepositoryURI = "https://github.com/" + ReleaseRepository
	// ReleaseMaxAge is the oldest a release may be signed.
	ReleaseMaxAge = 90 * 24 * time.Hour
)

// ReleaseCase is a bundle for a release and what a verifier that pins
// GitHubActionsIssuer, ReleaseSANRegexp and ReleaseRepositoryURI, with a
// maximum age of ReleaseMaxAge, against the instance's trusted root, must
// conclude.
type ReleaseCase struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Verified: the bundle verifies for the policy, its statement yields a
	// manifest (release.ManifestFromStatement), and it is young enough.
	Verified bool `json:"verified"`
	// Measurement is the launch digest of the statement's manifest when
	// Verified; it differs from the release's in the other-release case.
	Measurement string `json:"measurement,omitempty"`
	Bundle      []byte `json:"-"`
}

// ReleaseCases signs the release statement of m in every way a page must
// tell apart: the release itself in each bundle version and in both Rekor
// logs (verified), signed by another identity, with a tampered manifest,
// for another release, too old, and spoiled in each way Breaks lists.
func (in *Instance) ReleaseCases(m *measure.Manifest) ([]ReleaseCase, error) {
	id := ReleaseIdentity(m)
	st, err := releaseStatement(m)
	if err != nil {
		return nil, err
	}
	measurement := hex.EncodeToString(m.Measurement[:])

	wrongIssuer := id
	wrongIssuer.Issuer = "https://accounts.google.com"
	ref, commit := id.Workflow.Ref, id.Workflow.SHA

	tampered, err := tamperVCPUs(st)
	if err != nil {
		return nil, err
	}
	other := *m
	other.Release = m.Release + "-other"
	other.VCPUs = m.VCPUs%measure.MaxVCPUs + 1
	if other.Measurement, err = other.Recompute(); err != nil {
		return nil, err
	}
	otherSt, err := releaseStatement(&other)
	if err != nil {
		return nil, err
	}

	type spec struct {
		name, description string
		id                Identity
		statement         []byte
		o                 BundleOptions
		verified          bool
		measurement       string
	}
	specs := []spec{
		{"release", "the release, signed by its workflow, in a v0.3 bundle logged in Rekor v1", id, st, BundleOptions{}, true, measurement},
		{"release-rekor-v2", "the release in a v0.3 bundle logged in Rekor v2 with an RFC 3161 timestamp", id, st, BundleOptions{RekorV2: true}, true, measurement},
		{"release-v0.2", "the release in a v0.2 bundle", id, st, BundleOptions{Version: "0.2"}, true, measurement},
		{"release-v0.1", "the release in a v0.1 bundle", id, st, BundleOptions{Version: "0.1"}, true, measurement},
		{"other-release", "another release, validly signed: its measurement is not this release's", ReleaseIdentity(&other), otherSt, BundleOptions{}, true, hex.EncodeToString(other.Measurement[:])},
		{"old-release", "another, earlier release, validly signed 600 days ago: a rollback to it must be refused by age", ReleaseIdentity(&other), otherSt, BundleOptions{SignedAt: in.created.Add(-600 * 24 * time.Hour)}, false, ""},
		{"misnamed", "the release, signed from another tag than its name", GitHubActions(ReleaseRepository, ReleaseWorkflow, "refs/tags/"+m.Release+"-renamed", commit), st, BundleOptions{}, false, ""},
		{"wrong-issuer", "signed by the right workflow URI but certified by another OIDC issuer", wrongIssuer, st, BundleOptions{}, false, ""},
		{"other-repository", "signed by the release workflow of another repository", GitHubActions("someone/cvmtrust-fork", ReleaseWorkflow, ref, commit), st, BundleOptions{}, false, ""},
		{"other-workflow", "signed by another workflow of the repository", GitHubActions(ReleaseRepository, ".github/workflows/ci.yml", ref, commit), st, BundleOptions{}, false, ""},
		{"branch-build", "signed by the release workflow run for a branch, not a tag", GitHubActions(ReleaseRepository, ReleaseWorkflow, "refs/heads/main", commit), st, BundleOptions{}, false, ""},
		{"tampered-manifest", "validly signed, but the manifest in the statement claims another vCPU count than its measurement", id, tampered, BundleOptions{}, false, ""},
		{"too-old", "the release, signed 400 days ago: older than the maximum age", id, st, BundleOptions{SignedAt: in.created.Add(-400 * 24 * time.Hour)}, false, ""},
	}
	for _, b := range Breaks {
		o := BundleOptions{Break: b, RekorV2: !b.AppliesTo(false)}
		specs = append(specs, spec{"break-" + string(b), "the release with one part spoiled: " + string(b), id, st, o, false, ""})
	}
	cases := make([]ReleaseCase, 0, len(specs))
	for _, s := range specs {
		bundle, err := in.SignStatement(s.id, s.statement, s.o)
		if err != nil {
			return nil, err
		}
		cases = append(cases, ReleaseCase{Name: s.name, Description: s.description, Verified: s.verified, Measurement: s.measurement, Bundle: bundle})
	}
	return cases, nil
}

// tamperVCPUs returns the statement with one more vCPU in its manifest and
// nothing else changed, so that the measurement no longer recomputes.
func tamperVCPUs(statement []byte) ([]byte, error) {
	var st map[string]any
	if err := json.Unmarshal(statement, &st); err != nil {
		return nil, err
	}
	pred, _ := st["predicate"].(map[string]any)
	vcpus, _ := pred["vcpus"].(float64)
	pred["vcpus"] = vcpus + 1
	return json.Marshal(st)
}
