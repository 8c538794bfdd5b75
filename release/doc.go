// Package release defines the signed form of a cvmtrust release: its launch
// manifest (cvmtrust-launch-manifest/v1, see measure/README.md) as the
// predicate of an in-toto Statement v1 whose subjects are the release's
// artifacts (OVMF image, kernel, initrd) by SHA-256.
//
// # Writing
//
// NewStatement builds the statement for a manifest and the file names of its
// artifacts. CI signs it (a DSSE envelope with payload type
// application/vnd.in-toto+json in a Sigstore bundle); see
// docs/release-provenance.md.
//
// # Reading
//
// ManifestFromStatement takes the payload of a statement whose signature was
// verified and returns its manifest only when the statement is a release
// statement (PredicateType), its subjects are exactly the manifest's
// artifacts, and the manifest is valid with a launch digest that recomputes.
// It does not verify signatures: that is the Sigstore verifier's job, and the
// payload given here must be the one it verified.
//
// The package builds for js/wasm. JSON is decoded behind decodeStatement so
// that a smaller decoder can replace encoding/json in the browser build.
package release
