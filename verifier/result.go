package verifier

import (
	"errors"
	"strings"
)

// MediaType identifies the JSON form of a Result. It changes when a key is
// renamed or its meaning changes.
const MediaType = "application/vnd.cvmtrust.verification.v1+json"

// Values of Result.Binding.
const (
	BindingV1 = "cvmtrust-evidence-v1"
	BindingV2 = "cvmtrust-evidence-v2"
)

// Outcome is the result of one check.
type Outcome string

const (
	Pass    Outcome = "pass"
	Fail    Outcome = "fail"
	Skipped Outcome = "skipped"
)

// Check is one named check and what it found. On failure Field names the
// report or certificate field, and Got and Want show the values (hex for
// bytes).
type Check struct {
	Name    string  `json:"name"`
	Outcome Outcome `json:"outcome"`
	Field   string  `json:"field,omitempty"`
	Got     string  `json:"got,omitempty"`
	Want    string  `json:"want,omitempty"`
	Detail  string  `json:"detail,omitempty"`
	err     error
}

// TCB is a TCB_VERSION decoded for its product.
type TCB struct {
	Raw        string `json:"raw"` // 16 hex digits, the u64 as printed by AMD tools
	Bootloader uint8  `json:"bl"`
	TEE        uint8  `json:"tee"`
	SNP        uint8  `json:"snp"`
	Microcode  uint8  `json:"ucode"`
	FMC        *uint8 `json:"fmc,omitempty"` // Turin and later
}

// ReportSummary is the part of the report a person or a page shows.
type ReportSummary struct {
	Version      uint32 `json:"version"`
	GuestSVN     uint32 `json:"guestSvn"`
	Policy       string `json:"policy"` // hex u64
	VMPL         uint32 `json:"vmpl"`
	Signer       string `json:"signer"` // VCEK or VLEK
	ChipID       string `json:"chipId"` // hex; zeros when masked
	Measurement  string `json:"measurement"`
	ReportData   string `json:"reportData"`
	HostData     string `json:"hostData"`
	ReportedTCB  TCB    `json:"reportedTcb"`
	CommittedTCB TCB    `json:"committedTcb"`
	CurrentTCB   TCB    `json:"currentTcb"`
	LaunchTCB    TCB    `json:"launchTcb"`
	SHA384       string `json:"sha384"` // of the whole report: what an upload is sealed to
}

// Result is the verifier's account of one piece of evidence. Verify returns
// a Result if and only if every check passed; on rejection the Result is
// reachable from the error (see RejectedError).
type Result struct {
	MediaType string `json:"mediaType"`
	Verified  bool   `json:"verified"`
	// Simulated is true when the chain ends at a root added with
	// Roots.WithSimulated rather than a pinned AMD root. Such evidence proves
	// nothing about hardware.
	Simulated  bool           `json:"simulated"`
	Product    string         `json:"product,omitempty"`
	Report     *ReportSummary `json:"report,omitempty"`
	Revocation string         `json:"revocation"` // "checked", or why not
	// TCBFloor is the floor the TCBs were held to, when there was one.
	TCBFloor *AppliedTCBFloor `json:"tcbFloor,omitempty"`
	// Binding names the REPORT_DATA layout checked when the expectation
	// had a Binding: "cvmtrust-evidence-v1" (nonce, HPKE key) or
	// "cvmtrust-evidence-v2" (nonce, TLS key, HPKE key).
	Binding string `json:"binding,omitempty"`
	// TLSKeySHA256 is, for evidence v2, the hex SHA-256 of the TLS
	// SubjectPublicKeyInfo the report binds.
	TLSKeySHA256 string  `json:"tlsKeySha256,omitempty"`
	VerifiedAt   string  `json:"verifiedAt"` // RFC 3339, the verifier's clock
	Checks       []Check `json:"checks"`
}

// AppliedTCBFloor is the floor a report's TCBs were held to: the
// Expectation's MinTCB, raised to the bulletins' floor for the report's
// line when BulletinTCBFloor asked for it.
type AppliedTCBFloor struct {
	Floor TCBFloor `json:"floor"`
	// Line and Bulletins say where the bulletins' part came from: the
	// processor line (CPULine) and the bulletins that set it.
	Line      string   `json:"line,omitempty"`
	Bulletins []string `json:"bulletins,omitempty"`
}

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
	ErrMalformedReport     = errors.New("malformed attestation report")
	ErrMalformedCert       = errors.New("malformed certificate")
	ErrMissingCerts        = errors.New("certificates missing and no fetcher")
	ErrUnknownProduct      = errors.New("unknown or mismatched AMD product")
	ErrUntrustedRoot       = errors.New("ARK does not match the pinned AMD root")
	ErrBadChain            = errors.New("certificate chain does not verify")
	ErrCertExpired         = errors.New("certificate not valid at the verification time")
	ErrBadSignature        = errors.New("report signature does not verify")
	ErrKeyMismatch         = errors.New("signing key does not match the certificate")
	ErrTCBMismatch         = errors.New("endorsement key certificate does not match the report")
	ErrMeasurement         = errors.New("launch measurement not allowed")
	ErrReportData          = errors.New("report data does not match")
	ErrTLSKey              = errors.New("the TLS key is not the attested one")
	ErrPolicy              = errors.New("guest policy not acceptable")
	ErrVMPL                = errors.New("VMPL not as expected")
	ErrTCBTooLow           = errors.New("TCB below the floor")
	ErrGuestSVN            = errors.New("guest SVN below the minimum")
	ErrHostData            = errors.New("host data does not match")
	ErrIDKeyDigest         = errors.New("ID key digest does not match")
	ErrRevoked             = errors.New("certificate revoked")
	ErrBadCRL              = errors.New("CRL does not verify")
	ErrRevocationUnchecked = errors.New("revocation could not be checked")
	ErrBadExpectation      = errors.New("invalid expectation")
)

// RejectedError is returned when evidence fails one or more checks. It
// unwraps to the sentinel error of each failed check.
type RejectedError struct {
	Result *Result
}

func (e *RejectedError) Error() string {
	var b strings.Builder
	b.WriteString("attestation rejected: ")
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
