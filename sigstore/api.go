package sigstore

import (
	"context"
	"time"
)

// Scheme is a signature scheme. Together with a Hash it names the math a
// SignatureVerifier does.
type Scheme uint8

const (
	ECDSA       Scheme = iota + 1 // signature given as r||s (IEEE P1363), as WebCrypto takes it
	Ed25519                       // pure Ed25519; the hash is ignored
	RSAPKCS1v15                   // RSASSA-PKCS1-v1_5
	RSAPSS                        // RSASSA-PSS, MGF1 with the same hash, salt as long as the hash
)

func (s Scheme) String() string {
	switch s {
	case ECDSA:
		return "ECDSA"
	case Ed25519:
		return "Ed25519"
	case RSAPKCS1v15:
		return "RSA-PKCS1-v1_5"
	case RSAPSS:
		return "RSA-PSS"
	}
	return "unknown scheme"
}

// Hash is a digest algorithm.
type Hash uint8

const (
	SHA256 Hash = iota + 1
	SHA384
	SHA512
)

func (h Hash) String() string {
	switch h {
	case SHA256:
		return "SHA-256"
	case SHA384:
		return "SHA-384"
	case SHA512:
		return "SHA-512"
	}
	return "unknown hash"
}

// Size is the digest length in bytes.
func (h Hash) Size() int {
	switch h {
	case SHA256:
		return 32
	case SHA384:
		return 48
	case SHA512:
		return 64
	}
	return 0
}

// SignatureVerifier is the signature math the verifier needs. The native
// build uses Go's crypto; the browser build supplies WebCrypto. Public keys
// are SubjectPublicKeyInfo DER; implementations hash msg themselves.
type SignatureVerifier interface {
	Verify(ctx context.Context, scheme Scheme, hash Hash, spki, msg, sig []byte) error
}

// DigestVerifier is implemented by a SignatureVerifier that can also check
// a signature over a digest computed elsewhere. It is needed only to verify
// a message signature when the caller has the artifact's digest but not its
// bytes; WebCrypto cannot, so in the browser pass the artifact itself.
type DigestVerifier interface {
	VerifyDigest(ctx context.Context, scheme Scheme, hash Hash, spki, digest, sig []byte) error
}

// Options is the trust setup, fixed for the life of a Verifier.
type Options struct {
	// TrustedRoot holds the Fulcio CAs, transparency logs, CT logs and
	// timestamp authorities to trust. Nil means the embedded Sigstore
	// public-good root (see PublicGoodTrustedRoot).
	TrustedRoot *TrustedRoot
	// Signatures does the signature math. Nil means Go's crypto natively;
	// the browser build must set it.
	Signatures SignatureVerifier
	// Now is the clock for Policy.MaxAge. Nil means time.Now. Certificates
	// are never checked against it: they are checked at the time the log
	// or a timestamp authority vouches for.
	Now func() time.Time
}

// Policy is what one call to Verify demands of a bundle.
//
// Exactly one of the artifact forms is required: Artifact (its bytes) or
// ArtifactDigest (its SHA-256). For a DSSE bundle they name a subject of the
// in-toto statement.
//
// A bundle signed with a Fulcio certificate is checked against the identity
// fields: Issuer is required, and the signer must be named by Identity, by
// IdentityRegexp, or by Repository and Workflow together (the SAN of a CI
// certificate changes with every tag; the repository and workflow do not);
// the others narrow further. A bundle signed with a long-lived key is
// checked with Key instead; setting Key and an identity is an error.
type Policy struct {
	Artifact       []byte
	ArtifactDigest []byte // SHA-256 of the artifact

	// Issuer is the OIDC issuer the certificate must name, exactly.
	Issuer string
	// Identity is the certificate's subject alternative name (URI or email),
	// exactly; IdentityRegexp is an RE2 expression that must match all of it.
	// Regular expressions are not linked into the browser build (they would
	// add about 100 KB): there IdentityRegexp is refused as ErrBadPolicy.
	Identity       string
	IdentityRegexp string
	// Repository is "owner/name"; the certificate's source repository must
	// be that repository.
	Repository string
	// RefPattern is a glob (path.Match: * and ? do not cross '/') the
	// source ref must match, such as "refs/tags/v*".
	RefPattern string
	// Workflow is the path of the workflow that signed, such as
	// ".github/workflows/release.yml"; it must equal the path in the
	// certificate's build configuration URI.
	Workflow string
	// MaxAge, when positive, rejects a bundle signed longer ago than this,
	// by the earliest verified signing time.
	MaxAge time.Duration

	// Key is a PEM "PUBLIC KEY" or DER SubjectPublicKeyInfo: the bundle
	// must be signed by it (cosign's --key mode).
	Key []byte
}
