//go:build js && wasm

package main

import (
	"context"
	"encoding/base64"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
	"github.com/cvmtrust/cvmtrust/measure"
	"github.com/cvmtrust/cvmtrust/release"
	"github.com/cvmtrust/cvmtrust/release/provenance"
	"github.com/cvmtrust/cvmtrust/sigstore"
	"github.com/cvmtrust/cvmtrust/wasm/internal/jsval"
)

// Keys of the policy object of verifyRelease and verifyBundle: who signs,
// and for a release, how old it may be and the lowest one accepted.
var (
	signerPolicyKeys = []string{
		"issuer", "identity", "identityRegexp", "repository", "refPattern", "workflow", "maxAgeSeconds",
		"simulatedTrustedRoot",
	}
	releasePolicyKeys = append([]string{"maxAgeUnsafe", "minTag", "minSignedAt"}, signerPolicyKeys...)
	bundlePolicyKeys  = append([]string{"artifact", "artifactDigest", "key"}, signerPolicyKeys...)
)

// maxBundleBytes bounds a bundle argument: public bundles are a few KB.
const maxBundleBytes = 1 << 20

// verifyReleaseJS implements cvmtrust.verifyRelease(bundle, policy): it
// verifies a release bundle against the signer the page names
// (release/provenance), takes the launch manifest from the verified
// statement and recomputes its launch digest. It resolves with
// {verified: true, the release's name, measurement, signer and log entry,
// result} or {verified: false, reason, detail, result}; it rejects only on
// unusable arguments.
func verifyReleaseJS(args []jsval.Value) (any, error) {
	if len(args) != 2 {
		return nil, errfmt.Errorf("want 2 arguments (bundle, policy), got %d", len(args))
	}
	bundle, err := bundleArg(args[0])
	if err != nil {
		return nil, err
	}
	r, err := policyReader(args[1], releasePolicyKeys)
	if err != nil {
		return nil, err
	}
	pol, trust, err := decodeSigstorePolicy(r)
	if err != nil {
		return nil, err
	}
	min, err := decodeReleaseTerms(r, pol)
	if err != nil {
		return nil, err
	}
	v, err := sigstoreVerifierFor(trust)
	if err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(context.Background(), callTimeout)
	defer cancel()
	rel, res, err := provenance.Verify(ctx, v.Verifier, bundle, pol)
	if errors.Is(err, sigstore.ErrBadPolicy) {
		return nil, err
	}
	if err == nil {
		err = min.Check(rel)
	}
	out := map[string]any{"verified": err == nil, "simulated": v.Simulated()}
	out["result"] = nil
	if res != nil {
		out["result"] = res.JSONValue()
	}
	if err != nil {
		out["reason"] = releaseReason(err)
		out["detail"] = err.Error()
		return jsval.ValueOf(out)
	}
	m, signer := rel.Manifest, rel.Bundle.Signer
	out["name"] = m.Release
	out["measurement"] = m.Measurement.String()
	out["sourceCommit"] = m.SourceCommit
	out["vcpus"] = m.VCPUs
	out["vmmType"] = string(m.VMMType)
	out["recomputed"] = true // the launch digest, from the signed manifest, by measure in this page
	out["repository"] = signer.Repository
	out["repositoryUri"] = signer.RepositoryURI
	out["commit"] = signer.Commit
	out["workflow"] = signer.Workflow
	out["ref"] = signer.Ref
	out["tag"] = rel.Tag() // the release's name is the tag it was signed from (provenance.Verify)
	out["signer"] = signer.SubjectAlternativeName
	out["issuer"] = signer.Issuer
	out["signedAt"] = rel.Bundle.SignedAt
	if len(rel.Bundle.LogEntries) > 0 {
		e := rel.Bundle.LogEntries[0]
		out["logIndex"] = float64(e.LogIndex)
		out["logUrl"] = e.LogURL
		out["integratedTime"] = e.IntegratedTime
	}
	return jsval.ValueOf(out)
}

// verifyBundleJS implements cvmtrust.verifyBundle(bundle, policy): any
// Sigstore bundle, against an artifact (bytes, or its SHA-256 in hex) and a
// signer. It resolves with the verifier's Result, verified or not.
func verifyBundleJS(args []jsval.Value) (any, error) {
	if len(args) != 2 {
		return nil, errfmt.Errorf("want 2 arguments (bundle, policy), got %d", len(args))
	}
	bundle, err := bundleArg(args[0])
	if err != nil {
		return nil, err
	}
	r, err := policyReader(args[1], bundlePolicyKeys)
	if err != nil {
		return nil, err
	}
	pol, trust, err := decodeSigstorePolicy(r)
	if err != nil {
		return nil, err
	}
	v, err := sigstoreVerifierFor(trust)
	if err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(context.Background(), callTimeout)
	defer cancel()
	res, err := v.Verify(ctx, bundle, pol)
	if err != nil {
		rej, ok := errors.AsType[*sigstore.RejectedError](err)
		if !ok {
			return nil, err
		}
		res = rej.Result
	}
	return jsval.ValueOf(res.JSONValue())
}

// bundleArg accepts the bundle's JSON as a string or a Uint8Array.
func bundleArg(v jsval.Value) ([]byte, error) {
	var b []byte
	if v.Type() == jsval.TypeString {
		s, err := v.String()
		if err != nil {
			return nil, err
		}
		b = []byte(s)
	} else {
		var err error
		if b, err = bytesArg("bundle", v); err != nil {
			return nil, errors.New("bundle must be the bundle's JSON, as a string or a Uint8Array")
		}
	}
	if len(b) > maxBundleBytes {
		return nil, errfmt.Errorf("bundle is %d bytes, at most %d", len(b), maxBundleBytes)
	}
	return b, nil
}

// policyReader reads a policy object that may have keys.
func policyReader(v jsval.Value, keys []string) (*reader, error) {
	obj, err := objectArg("policy", v)
	if err != nil {
		return nil, err
	}
	r := &reader{obj: obj, path: "policy"}
	r.onlyKeys(keys)
	return r, r.err
}

// decodeSigstorePolicy reads the policy object. simulatedTrustedRoot is the
// only way to verify against another trusted root than the embedded
// public-good one, and it must be a simulated instance's root.
func decodeSigstorePolicy(r *reader) (sigstore.Policy, string, error) {
	var err error
	p := sigstore.Policy{
		Issuer:         r.string("issuer"),
		Identity:       r.string("identity"),
		IdentityRegexp: r.string("identityRegexp"),
		Repository:     r.string("repository"),
		RefPattern:     r.string("refPattern"),
		Workflow:       r.string("workflow"),
		ArtifactDigest: r.hex("artifactDigest"),
	}
	if art, ok := r.get("artifact", jsval.TypeObject, "a Uint8Array"); ok {
		if p.Artifact, err = bytesArg("policy.artifact", art); err != nil {
			return p, "", err
		}
	}
	if r.has("maxAgeSeconds") {
		secs := r.uint("maxAgeSeconds", uint64(math.MaxInt64/int64(time.Second)))
		if secs == 0 && r.err == nil {
			r.fail("maxAgeSeconds", "must be a positive number of seconds")
		}
		p.MaxAge = time.Duration(secs) * time.Second
	}
	root := r.string("simulatedTrustedRoot")
	if key := r.string("key"); key != "" {
		p.Key = []byte(key)
	}
	if r.err != nil {
		return p, "", r.err
	}
	if p.Key == nil && (p.Issuer == "" || (p.Identity == "" && p.IdentityRegexp == "" && (p.Repository == "" || p.Workflow == ""))) {
		return p, "", errors.New("policy must name the signer: issuer, and identity, or repository and workflow")
	}
	return p, root, nil
}

// decodeReleaseTerms reads what a release policy adds to the signer: a
// limit on the release's age, which must be given (maxAgeSeconds) or lifted
// in words (maxAgeUnsafe), and the lowest release accepted, by version tag
// (minTag) or by signing time in seconds since 1970 (minSignedAt).
func decodeReleaseTerms(r *reader, p sigstore.Policy) (provenance.Minimum, error) {
	unsafe := r.bool("maxAgeUnsafe")
	min := provenance.Minimum{Tag: r.string("minTag")}
	if r.has("minSignedAt") {
		min.SignedAt = time.Unix(int64(r.uint("minSignedAt", maxSafeInteger)), 0)
	}
	if r.err != nil {
		return min, r.err
	}
	if p.MaxAge == 0 && !unsafe {
		return min, errors.New("policy must limit the release's age (maxAgeSeconds), or accept any age in words (maxAgeUnsafe: true): without a limit a rollback to any earlier release passes")
	}
	if err := min.Validate(); err != nil {
		return min, errfmt.Errorf("policy.minTag: %w", err)
	}
	return min, nil
}

var (
	sigstoreMu        sync.Mutex
	sigstoreVerifiers = map[string]*sigstoreVerifier{}
)

// sigstoreVerifier is a Verifier and whether its root is simulated.
type sigstoreVerifier struct {
	*sigstore.Verifier
	simulated bool
}

func (v *sigstoreVerifier) Simulated() bool { return v.simulated }

// maxSigstoreVerifiers bounds the cache: the public-good root and the
// simulated roots of a test page or two.
const maxSigstoreVerifiers = 4

// sigstoreVerifierFor returns the Verifier for the embedded public-good
// trusted root (simulatedRoot empty) or for a simulated instance's root,
// made once and kept: parsing a root and checking its CAs' chains is the
// costly part of a first verification.
func sigstoreVerifierFor(simulatedRoot string) (*sigstoreVerifier, error) {
	signaturesOnce.Do(func() { signatures, signaturesErr = newWebCrypto() })
	if signaturesErr != nil {
		return nil, signaturesErr
	}
	key := ""
	if simulatedRoot != "" {
		sum := sha2.Sum256([]byte(simulatedRoot))
		key = base64.RawStdEncoding.EncodeToString(sum[:])
	}
	sigstoreMu.Lock()
	defer sigstoreMu.Unlock()
	if v, ok := sigstoreVerifiers[key]; ok {
		return v, nil
	}
	var root *sigstore.TrustedRoot
	var err error
	if simulatedRoot == "" {
		root, err = sigstore.PublicGoodTrustedRoot()
	} else {
		root, err = sigstore.ParseTrustedRoot([]byte(simulatedRoot))
		if err == nil && !root.Simulated {
			err = errors.New("policy.simulatedTrustedRoot is not a simulated Sigstore instance's root (its services are not under " +
				sigstore.SimulatedHostSuffix + "); real releases are verified against the embedded public-good root")
		}
		if err == nil {
			root.Name = "SIMULATED Sigstore instance given by the page"
		}
	}
	if err != nil {
		return nil, err
	}
	v, err := sigstore.New(sigstore.Options{TrustedRoot: root, Signatures: signatures})
	if err != nil {
		return nil, err
	}
	if len(sigstoreVerifiers) >= maxSigstoreVerifiers {
		clear(sigstoreVerifiers)
	}
	sv := &sigstoreVerifier{Verifier: v, simulated: root.Simulated}
	sigstoreVerifiers[key] = sv
	return sv, nil
}

// releaseReason says in plain words why a release bundle was not accepted;
// the exact check is in the Result.
func releaseReason(err error) string {
	if rej, ok := errors.AsType[*sigstore.RejectedError](err); ok {
		for _, c := range rej.Result.Failed() {
			switch c.Name {
			case "issuer":
				return "The release was signed with an identity from another sign-in provider than the one this page trusts."
			case "repository":
				return "The release was built from another repository than the one this page trusts."
			case "ref":
				return "The release was built from a branch or tag this page does not accept."
			case "workflow":
				return "The release was built by another workflow than the one this page trusts."
			case "identity":
				return "The release was signed by someone other than the signer this page trusts."
			case "maxAge":
				return "The release was signed longer ago than this page accepts; the server must run a newer release."
			}
		}
	}
	switch {
	case errors.Is(err, sigstore.ErrMalformedBundle), errors.Is(err, sigstore.ErrUnsupported), errors.Is(err, sigstore.ErrMalformedCert):
		return "The release's signature could not be read."
	case errors.Is(err, sigstore.ErrBadSignature), errors.Is(err, sigstore.ErrKeyMismatch):
		return "The release's signature does not match it: the release was changed after it was signed."
	case errors.Is(err, sigstore.ErrArtifact):
		return "The signature is for other files than this release's."
	case errors.Is(err, sigstore.ErrBadChain), errors.Is(err, sigstore.ErrCertValidity), errors.Is(err, sigstore.ErrSCT):
		return "The release's signing certificate does not come from the certificate authority this page trusts."
	case errors.Is(err, sigstore.ErrLogEntry), errors.Is(err, sigstore.ErrSET),
		errors.Is(err, sigstore.ErrInclusionProof), errors.Is(err, sigstore.ErrCheckpoint), errors.Is(err, sigstore.ErrTimestamp),
		errors.Is(err, sigstore.ErrNoVerifiedTime), errors.Is(err, sigstore.ErrMissingTransparency):
		return "The release is not recorded in the public transparency log as it must be."
	case errors.Is(err, provenance.ErrNotRelease), errors.Is(err, release.ErrPredicateType):
		return "The signed file is not a release of the server's software."
	case errors.Is(err, measure.ErrMeasurementMismatch):
		return "The signed release does not add up: its launch measurement does not follow from its contents."
	case errors.Is(err, provenance.ErrCommitMismatch):
		return "The signed release names another source commit than the build that signed it."
	case errors.Is(err, provenance.ErrReleaseName):
		return "The signed release's name is not the tag it was built from."
	case errors.Is(err, provenance.ErrBelowMinimum):
		return "The release is older than the lowest release this page accepts; the server must run a newer release."
	case errors.Is(err, sigstore.ErrIdentity):
		return "The release was signed by someone other than the signer this page trusts."
	}
	return "The signed release could not be read as a release of the server's software."
}
