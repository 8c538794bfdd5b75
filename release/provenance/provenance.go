// Package provenance verifies a signed release: a Sigstore bundle whose
// in-toto statement carries a cvmtrust launch manifest (package release),
// signed by the identity a page or an auditor names. It is the glue between
// the Sigstore verifier (package sigstore) and the release statement
// (package release), shared by the browser build and the native tests so
// that both judge a release bundle the same way.
//
// Verify runs in this order, and stops at the first step that fails:
//
//  1. the bundle must be a DSSE envelope of an in-toto statement with at
//     least one SHA-256 subject (else ErrNotRelease);
//  2. sigstore.Verifier.Verify with the caller's policy and that subject as
//     the artifact: signature, certificate chain, identity, transparency
//     log, age (a *sigstore.RejectedError);
//  3. release.ManifestFromStatement on the verified payload: the statement
//     is a release statement whose subjects are exactly the manifest's
//     artifacts and whose launch digest recomputes (release and measure
//     errors);
//  4. the certificate's source commit, when it has one, equals the
//     manifest's source_commit when that is stated (ErrCommitMismatch);
//  5. the certificate says the release was built from a tag, and the
//     manifest's release name is that tag (ErrReleaseName): the name a
//     page shows is the one the signer vouched for, not the manifest's
//     word alone.
//
// Minimum.Check then tells whether a verified release is one a caller still
// accepts: no older than a given tag or signing time (ErrBelowMinimum).
//
// Which subject is passed as the artifact does not matter for what is
// proven: step 3 requires the subjects to be exactly the manifest's
// artifacts, and the manifest is inside the signed statement.
package provenance

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/strictjson"
	"github.com/cvmtrust/cvmtrust/measure"
	"github.com/cvmtrust/cvmtrust/release"
	"github.com/cvmtrust/cvmtrust/sigstore"
)

var (
	// ErrNotRelease: the bundle does not sign an in-toto statement with a
	// SHA-256 subject, so it cannot be a release.
	ErrNotRelease = errors.New("the bundle does not sign a release statement")
	// ErrCommitMismatch: the certificate says the release was built from
	// one commit and the manifest names another.
	ErrCommitMismatch = errors.New("the certificate's source commit is not the manifest's")
	// ErrReleaseName: the manifest's release name is not the tag the
	// certificate says the release was built from, or it names no tag.
	ErrReleaseName = errors.New("the manifest's release name is not the tag it was signed from")
	// ErrBelowMinimum: the release is older than the lowest release the
	// caller accepts (Minimum).
	ErrBelowMinimum = errors.New("the release is older than the lowest release accepted")
	// ErrBadMinimum: a Minimum's tag is not a version that orders.
	ErrBadMinimum = errors.New("the lowest release accepted is not a version tag")
)

// tagPrefix is how a git ref names a tag.
const tagPrefix = "refs/tags/"

// Release is a verified release.
type Release struct {
	// Manifest is the launch manifest from the verified statement; its
	// measurement was recomputed from its contents.
	Manifest *measure.Manifest
	// Bundle is the Sigstore verifier's Result: the signer, the log
	// entries and every check.
	Bundle *sigstore.Result
}

// Verify checks bundleJSON against p (whose Artifact and ArtifactDigest must
// be empty: the subject comes from the statement) and returns the release.
// On a Sigstore rejection the error is a *sigstore.RejectedError holding
// the Result; a Result also comes back with errors of steps 3 and 4.
func Verify(ctx context.Context, v *sigstore.Verifier, bundleJSON []byte, p sigstore.Policy) (*Release, *sigstore.Result, error) {
	if p.Artifact != nil || p.ArtifactDigest != nil {
		return nil, nil, errfmt.Errorf("%w: the artifact of a release bundle is its statement's subject; do not set one", sigstore.ErrBadPolicy)
	}
	digest, err := subjectDigest(bundleJSON)
	if err != nil {
		return nil, nil, err
	}
	p.ArtifactDigest = digest
	res, err := v.Verify(ctx, bundleJSON, p)
	if err != nil {
		if rej, ok := errors.AsType[*sigstore.RejectedError](err); ok {
			return nil, rej.Result, err
		}
		return nil, nil, err
	}
	if res.PayloadType != release.PayloadType {
		return nil, res, errfmt.Errorf("%w: payload type %q", ErrNotRelease, res.PayloadType)
	}
	m, err := release.ManifestFromStatement(res.Payload)
	if err != nil {
		return nil, res, err
	}
	if m.SourceCommit != "" && res.Signer.Commit != "" && m.SourceCommit != res.Signer.Commit {
		return nil, res, errfmt.Errorf("%w: certificate %s, manifest %s", ErrCommitMismatch, res.Signer.Commit, m.SourceCommit)
	}
	tag, ok := strings.CutPrefix(res.Signer.Ref, tagPrefix)
	if !ok {
		return nil, res, errfmt.Errorf("%w: the certificate says it was built from %q, not from a tag", ErrReleaseName, res.Signer.Ref)
	}
	if m.Release != tag {
		return nil, res, errfmt.Errorf("%w: the manifest names %q, the certificate the tag %q", ErrReleaseName, m.Release, tag)
	}
	return &Release{Manifest: m, Bundle: res}, res, nil
}

// Tag is the tag the release was signed from, which is its name.
func (r *Release) Tag() string { return r.Manifest.Release }

// Minimum is the lowest release a caller accepts: by the tag it was built
// from, a semantic version (v1.4.0, compared as semver.org orders versions;
// the release's tag must then be one too),
// or by when it was signed, the earliest time the transparency log or a
// timestamp authority vouches for. A zero field sets no minimum. A release
// can be withdrawn this way without a new one: every page that raises its
// minimum past it refuses it (docs/release-provenance.md).
type Minimum struct {
	Tag      string
	SignedAt time.Time
}

// Validate returns an error wrapping ErrBadMinimum when m's tag is not the
// tag of a release: a version, and not a pre-release.
func (m Minimum) Validate() error {
	if v, ok := parseVersion(m.Tag); m.Tag != "" && (!ok || v.pre) {
		return errfmt.Errorf("%w: %q (a release's version tag is like v1.4.0)", ErrBadMinimum, m.Tag)
	}
	return nil
}

// Check returns nil when rel is at or above m, and an error wrapping
// ErrBelowMinimum (or ErrBadMinimum, for a tag that does not order) when it
// is not.
func (m Minimum) Check(rel *Release) error {
	if err := m.Validate(); err != nil {
		return err
	}
	want, _ := parseVersion(m.Tag)
	// A release whose tag is not a version is below any version.
	if got, ok := parseVersion(rel.Tag()); m.Tag != "" && (!ok || got.below(want)) {
		return errfmt.Errorf("%w: %q is below %s", ErrBelowMinimum, rel.Tag(), m.Tag)
	}
	if rel.Bundle.SigningTime().Before(m.SignedAt) {
		return errfmt.Errorf("%w: signed at %s, before %s", ErrBelowMinimum, rel.Bundle.SignedAt, m.SignedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// subjectDigest reads, without trusting it yet, the SHA-256 of the first
// subject of the bundle's DSSE statement.
func subjectDigest(bundleJSON []byte) ([]byte, error) {
	doc, err := strictjson.Parse(bundleJSON)
	if err != nil {
		return nil, errfmt.Errorf("%w: %v", sigstore.ErrMalformedBundle, err)
	}
	env := doc.Get("dsseEnvelope")
	if env == nil {
		return nil, errfmt.Errorf("%w: it has no DSSE envelope (a message signature signs a file, not a release)", ErrNotRelease)
	}
	payload := env.Get("payload")
	if payload == nil || payload.Kind != strictjson.String {
		return nil, errfmt.Errorf("%w: the DSSE envelope has no payload", ErrNotRelease)
	}
	raw, err := base64.StdEncoding.DecodeString(payload.Text)
	if err != nil {
		return nil, errfmt.Errorf("%w: the DSSE payload is not base64", sigstore.ErrMalformedBundle)
	}
	st, err := strictjson.Parse(raw)
	if err != nil {
		return nil, errfmt.Errorf("%w: the DSSE payload is not JSON: %v", ErrNotRelease, err)
	}
	subjects := st.Get("subject")
	if subjects == nil || subjects.Kind != strictjson.Array {
		return nil, errfmt.Errorf("%w: the statement has no subjects", ErrNotRelease)
	}
	for _, s := range subjects.Items {
		if h := s.Get("digest").Get("sha256"); h != nil && h.Kind == strictjson.String {
			var d measure.SHA256
			if err := d.UnmarshalText([]byte(h.Text)); err != nil {
				return nil, errfmt.Errorf("%w: %v", ErrNotRelease, err)
			}
			return d[:], nil
		}
	}
	return nil, errfmt.Errorf("%w: no subject has a SHA-256 digest", ErrNotRelease)
}
