//go:build !(js && wasm)

package simulated

import (
	"github.com/cvmtrust/cvmtrust/measure"
	"github.com/cvmtrust/cvmtrust/release"
)

// The identity SignRelease signs as: the release workflow of this
// repository, run for the tag named after the release.
const (
	ReleaseRepository = "cvmtrust/cvmtrust"
	ReleaseWorkflow   = ".github/workflows/release.yml"
)

// ReleaseArtifactNames are the file names SignRelease gives the artifacts
// in the statement's subjects (the names the release workflow publishes).
var ReleaseArtifactNames = release.ArtifactNames{OVMF: "OVMF.fd", Kernel: "vmlinuz", Initrd: "initrd.img"}

// ReleaseIdentity is the identity SignRelease signs a release as: GitHub
// Actions running ReleaseWorkflow of ReleaseRepository for the tag
// refs/tags/<m.Release> at m.SourceCommit (zeros when the manifest has
// none).
func ReleaseIdentity(m *measure.Manifest) Identity {
	commit := m.SourceCommit
	if commit == "" {
		commit = "0000000000000000000000000000000000000000"
	}
	return GitHubActions(ReleaseRepository, ReleaseWorkflow, "refs/tags/"+m.Release, commit)
}

// SignRelease signs the release statement of m (release.NewStatement, with
// ReleaseArtifactNames for the artifacts m has) as CI would, with
// ReleaseIdentity, in a v0.3 bundle logged in Rekor v1 (or in Rekor v2 with
// an RFC 3161 timestamp when o.RekorV2).
func (in *Instance) SignRelease(m *measure.Manifest, o BundleOptions) ([]byte, error) {
	st, err := releaseStatement(m)
	if err != nil {
		return nil, err
	}
	return in.SignStatement(ReleaseIdentity(m), st, o)
}

// releaseStatement is m's release statement with its artifacts named
// ReleaseArtifactNames.
func releaseStatement(m *measure.Manifest) ([]byte, error) {
	names := release.ArtifactNames{OVMF: ReleaseArtifactNames.OVMF}
	if m.Kernel != nil {
		names.Kernel = ReleaseArtifactNames.Kernel
	}
	if m.Initrd != nil {
		names.Initrd = ReleaseArtifactNames.Initrd
	}
	return release.NewStatement(m, names)
}

// SignRelease makes a fresh simulated instance and returns a bundle of m's
// release statement signed by it, and the instance's trusted root: what a
// demo serves so that a page can verify a release without the public-good
// instance. Both are SIMULATED; see the package documentation.
func SignRelease(m *measure.Manifest) (bundleJSON, trustedRootJSON []byte, err error) {
	in, err := New(Options{})
	if err != nil {
		return nil, nil, err
	}
	if bundleJSON, err = in.SignRelease(m, BundleOptions{}); err != nil {
		return nil, nil, err
	}
	if trustedRootJSON, err = in.TrustedRootJSON(); err != nil {
		return nil, nil, err
	}
	return bundleJSON, trustedRootJSON, nil
}
