// Package sigstore verifies Sigstore bundles: that an artifact (or an
// in-toto statement naming it) was signed by the expected CI identity and
// recorded in a transparency log, against a pinned trusted root. It is the
// release-provenance half of cvmtrust's chain of trust, and builds for the
// browser (js/wasm) without encoding/json, crypto/x509, protobuf or
// sigstore-go.
//
// # Trust setup and policy
//
// A [Verifier] is built once with [New] from [Options]: the [TrustedRoot]
// (the embedded Sigstore public-good root of [PublicGoodTrustedRoot] by
// default, or one parsed with [ParseTrustedRoot]), the signature math
// ([SignatureVerifier]; Go's crypto natively, WebCrypto in the browser) and
// the clock used only for [Policy.MaxAge]. Each call to [Verifier.Verify]
// takes the bundle's JSON and a [Policy]: the artifact or its SHA-256, and
// either the signer's identity (OIDC issuer, identity exact or as a pattern,
// repository, ref pattern, workflow) or a public key.
//
// # What is checked
//
//   - the bundle: media type v0.1, v0.2 or v0.3; a certificate, a chain
//     (v0.1, v0.2; only its leaf is used) or a key; a message signature or
//     a DSSE envelope with one signature;
//   - the signature over the artifact, or over the envelope's PAE, and that
//     the artifact is a subject of the in-toto statement;
//   - each transparency log entry: from a log the trusted root names; its
//     canonicalized body records this signature, key and digest (Rekor v1
//     hashedrekord, intoto, dsse; Rekor v2 hashedrekord and dsse); its
//     inclusion promise (SET over canonical JSON, in the log key's window);
//     its inclusion proof (RFC 9162) up to a checkpoint signed in
//     signed-note format by the log, under the log's name;
//   - each RFC 3161 timestamp: over this signature, signed by a trusted
//     timestamp authority whose chain and window include its time;
//   - the Fulcio certificate: a code-signing leaf issued by a trusted CA,
//     the CA's chain, and every certificate and the CA's window valid at
//     every verified time (the log's integrated time and the timestamps,
//     never the current time); at least one embedded SCT from a trusted CT
//     log (RFC 6962, precertificate form);
//   - the identity: the OIDC issuer (extension 1.3.6.1.4.1.57264.1.8, or .1
//     for older certificates), the SAN, and the GitHub workflow fields
//     (source repository, ref and commit, build configuration; the legacy
//     .2–.6 extensions for older certificates);
//   - that at least one log entry and one verified time exist, and the age
//     of the signature against Policy.MaxAge.
//
// # Results and errors
//
// Verify returns a [Result] if and only if every check passed. A rejection
// is a [*RejectedError] holding the Result, with every check named and its
// outcome; it unwraps to the sentinel error of each failed check
// ([ErrBadSignature], [ErrIdentity], [ErrInclusionProof], ...), so callers
// match with errors.Is. An unusable policy returns an error wrapping
// [ErrBadPolicy] and no Result.
//
// See README.md for the commands, the test data and the differences with
// sigstore-go.
package sigstore
