package sigstore

import (
	"errors"
	"strings"
	"time"
)

// MediaType identifies the JSON form of a Result. It changes when a key is
// renamed or its meaning changes.
const MediaType = "application/vnd.cvmtrust.sigstore-verification.v1+json"

// Outcome is the result of one check.
type Outcome string

const (
	Pass    Outcome = "pass"
	Fail    Outcome = "fail"
	Skipped Outcome = "skipped"
)

// Check is one named check and what it found. On failure Field names the
// bundle or certificate field, and Got and Want show the values.
type Check struct {
	Name    string  `json:"name"`
	Outcome Outcome `json:"outcome"`
	Field   string  `json:"field,omitempty"`
	Got     string  `json:"got,omitempty"`
	Want    string  `json:"want,omitempty"`
	Detail  string  `json:"detail,omitempty"`
	err     error
}

// Signer is who signed: the identity in a Fulcio certificate, or the key.
type Signer struct {
	// Issuer is the OIDC issuer that vouched for the identity.
	Issuer string `json:"issuer,omitempty"`
	// SubjectAlternativeName is the URI or email the certificate names.
	SubjectAlternativeName string `json:"subjectAlternativeName,omitempty"`
	// Repository is "owner/name", Ref the git ref (refs/tags/v1.2.0), Commit
	// the source commit, Workflow the path of the top-level workflow (the
	// build configuration), as the CI's identity token stated them.
	// BuildSignerURI names the workflow that held the token, which differs
	// from Workflow when a reusable workflow signs.
	Repository       string `json:"repository,omitempty"`
	RepositoryURI    string `json:"repositoryUri,omitempty"`
	Ref              string `json:"ref,omitempty"`
	Commit           string `json:"commit,omitempty"`
	Workflow         string `json:"workflow,omitempty"`
	BuildSignerURI   string `json:"buildSignerUri,omitempty"`
	BuildTrigger     string `json:"buildTrigger,omitempty"`
	RunInvocationURI string `json:"runInvocationUri,omitempty"`
	// The rest of Fulcio's CI extensions (1.3.6.1.4.1.57264.1.10 to .22,
	// and the legacy workflow name .4), as stated.
	BuildSignerDigest    string `json:"buildSignerDigest,omitempty"`
	RunnerEnvironment    string `json:"runnerEnvironment,omitempty"`
	RepositoryID         string `json:"repositoryId,omitempty"`
	OwnerURI             string `json:"ownerUri,omitempty"`
	OwnerID              string `json:"ownerId,omitempty"`
	BuildConfigURI       string `json:"buildConfigUri,omitempty"`
	BuildConfigDigest    string `json:"buildConfigDigest,omitempty"`
	RepositoryVisibility string `json:"repositoryVisibility,omitempty"`
	WorkflowName         string `json:"workflowName,omitempty"`
	// KeyID is the SHA-256 of the signing key (SubjectPublicKeyInfo), hex.
	KeyID string `json:"keyId"`
}

// LogEntry is a verified transparency log entry.
type LogEntry struct {
	RekorVersion   int    `json:"rekorVersion"` // 1 or 2
	LogURL         string `json:"logUrl,omitempty"`
	LogID          string `json:"logId"` // hex
	LogIndex       int64  `json:"logIndex"`
	Kind           string `json:"kind"`
	KindVersion    string `json:"kindVersion"`
	IntegratedTime string `json:"integratedTime,omitempty"` // RFC 3339; Rekor v1 only
	TreeSize       int64  `json:"treeSize"`
	RootHash       string `json:"rootHash"` // hex
}

// VerifiedTime is a time a log or a timestamp authority vouched for.
type VerifiedTime struct {
	Source string `json:"source"` // "rekor" (integrated time) or "rfc3161"
	URI    string `json:"uri,omitempty"`
	Time   string `json:"time"` // RFC 3339
}

// Subject is an in-toto statement's subject.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement is the in-toto statement a DSSE bundle carried.
type Statement struct {
	Type          string    `json:"type"`
	PredicateType string    `json:"predicateType"`
	Subjects      []Subject `json:"subjects"`
}

// Result is the verifier's account of one bundle. Verify returns a Result
// if and only if every check passed; on rejection the Result is reachable
// from the error (see RejectedError).
type Result struct {
	MediaType       string `json:"mediaType"`
	Verified        bool   `json:"verified"`
	BundleMediaType string `json:"bundleMediaType,omitempty"`
	// Simulated is true when the trusted root is a simulated Sigstore
	// instance: such a bundle proves nothing about a real release.
	Simulated bool `json:"simulated"`
	// TrustedRoot names the trusted root used.
	TrustedRoot string `json:"trustedRoot"`
	Signer      Signer `json:"signer"`
	// ArtifactDigest is the SHA-256 of the artifact (or subject) that was
	// checked, hex.
	ArtifactDigest string         `json:"artifactDigest,omitempty"`
	LogEntries     []LogEntry     `json:"logEntries"`
	VerifiedTimes  []VerifiedTime `json:"verifiedTimes"`
	// SignedAt is the earliest verified time, RFC 3339.
	SignedAt string `json:"signedAt,omitempty"`
	// PayloadType and Payload are the DSSE envelope's, for a DSSE bundle;
	// Statement is the payload decoded when it is an in-toto statement.
	PayloadType string     `json:"payloadType,omitempty"`
	Payload     []byte     `json:"payload,omitempty"`
	Statement   *Statement `json:"statement,omitempty"`
	Checks      []Check    `json:"checks"`

	signedAt time.Time // SignedAt, as a time
}

// SigningTime is the earliest verified time (SignedAt), or the zero time
// when none verified.
func (r *Result) SigningTime() time.Time { return r.signedAt }

// Failed returns the checks that failed, in order.
func (r *Result) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Outcome == Fail {
			out = append(out, c)
		}
	}
	return out
}

// Errors matchable with errors.Is on the error Verify returns. A rejection
// wraps one of these for every failed check.
var (
	ErrMalformedBundle     = errors.New("malformed bundle")
	ErrUnsupported         = errors.New("unsupported bundle content")
	ErrMalformedCert       = errors.New("malformed certificate")
	ErrBadChain            = errors.New("certificate does not chain to a trusted certificate authority")
	ErrCertValidity        = errors.New("certificate not valid at the verified time")
	ErrIdentity            = errors.New("signer identity does not match the policy")
	ErrSCT                 = errors.New("no valid signed certificate timestamp")
	ErrBadSignature        = errors.New("signature does not verify")
	ErrKeyMismatch         = errors.New("signing key does not match")
	ErrArtifact            = errors.New("artifact digest does not match")
	ErrLogEntry            = errors.New("transparency log entry does not match the bundle")
	ErrSET                 = errors.New("signed entry timestamp does not verify")
	ErrInclusionProof      = errors.New("inclusion proof does not verify")
	ErrCheckpoint          = errors.New("checkpoint does not verify")
	ErrTimestamp           = errors.New("RFC 3161 timestamp does not verify")
	ErrNoVerifiedTime      = errors.New("no verified signing time")
	ErrTooOld              = errors.New("signed longer ago than the policy allows")
	ErrBadPolicy           = errors.New("invalid policy")
	ErrBadTrustedRoot      = errors.New("invalid trusted root")
	ErrMissingTransparency = errors.New("no verified transparency log entry")
)

// RejectedError is returned when a bundle fails one or more checks. It
// unwraps to the sentinel error of each failed check.
type RejectedError struct {
	Result *Result
}

func (e *RejectedError) Error() string {
	var b strings.Builder
	b.WriteString("bundle rejected: ")
	for i, c := range e.Result.Failed() {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.Name)
		if c.Detail != "" {
			b.WriteString(": ")
			b.WriteString(c.Detail)
		}
	}
	return b.String()
}

func (e *RejectedError) Unwrap() []error {
	var errs []error
	for _, c := range e.Result.Checks {
		if c.Outcome == Fail && c.err != nil {
			errs = append(errs, c.err)
		}
	}
	return errs
}
