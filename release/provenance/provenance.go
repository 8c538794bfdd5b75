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
//     manifest's source_commit when that is stated (ErrCommitMismatch).
//
// Which subject is passed as the artifact does not matter for what is
// proven: step 3 requires the subjects to be exactly the manifest's
// artifacts, and the manifest is inside the signed statement.
package provenance

import (
	"context"
	"encoding/base64"
	"errors"

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
)

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
		var rej *sigstore.RejectedError
		if errors.As(err, &rej) {
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
	return &Release{Manifest: m, Bundle: res}, res, nil
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
