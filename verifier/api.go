package verifier

import (
	"context"
	"time"
)

// Evidence is what a gateway or an auditor supplies: the report and the
// certificates that endorse it. Certificates may be PEM or DER.
type Evidence struct {
	// Report is the 1184-byte ATTESTATION_REPORT as the firmware returned it.
	Report []byte
	// VCEK or VLEK is the endorsement key certificate; set at most one. When
	// both are empty the verifier fetches the VCEK through Options.Fetcher.
	VCEK []byte
	VLEK []byte
	// Chain holds the ASK (for a VCEK) or ASVK (for a VLEK), optionally
	// followed by an ARK. An ARK here is compared with the pinned one and
	// never trusted on its own. Empty: fetched through Options.Fetcher.
	Chain []byte
	// CRL is AMD's certificate revocation list for the product. Empty:
	// fetched through Options.Fetcher if there is one, else the Result says
	// revocation was not checked.
	CRL []byte
}

// Binding is the evidence protocol binding of a fresh nonce and the
// gateway's HPKE public key into REPORT_DATA (see package protocol): v1, or
// v2 when TLSKeySHA256 is set.
type Binding struct {
	Nonce         []byte
	HPKEPublicKey []byte
	// TLSKeySHA256 is the SHA-256 of the TLS SubjectPublicKeyInfo that
	// evidence v2 names (protocol.TLSKey). Nil: evidence v1.
	TLSKeySHA256 []byte
}

// TCBFloor is a minimum for each security patch level. Zero means no floor.
// FMC applies to Turin and later only.
type TCBFloor struct {
	Bootloader uint8 `json:"bl"`
	TEE        uint8 `json:"tee"`
	SNP        uint8 `json:"snp"`
	Microcode  uint8 `json:"ucode"`
	FMC        uint8 `json:"fmc"`
}

// Policy is what the guest policy must say. The zero value is the safe
// default: no debugging, no migration agent, SMT allowed, any ABI.
type Policy struct {
	AllowDebug          bool
	AllowMigrationAgent bool
	// RequireNoSMT rejects a guest whose policy allows SMT (hyperthreading).
	RequireNoSMT bool
	MinABIMajor  uint8
	MinABIMinor  uint8
}

// Expectation is what one call to Verify expects of the evidence.
type Expectation struct {
	// Measurements lists the launch digests (48 bytes each) of the releases
	// the caller accepts. Required unless AnyMeasurementUnsafe is set.
	Measurements [][]byte
	// AnyMeasurementUnsafe skips the measurement check. The guest could then
	// be running any code at all; it exists for debugging only.
	AnyMeasurementUnsafe bool

	// ReportData is the exact 64-byte REPORT_DATA expected. Binding is the
	// v1 alternative; setting both is an error.
	ReportData []byte
	Binding    *Binding
	// TLSKeySHA256, when set, is the SHA-256 of the SubjectPublicKeyInfo of
	// the TLS certificate the caller was served on the connection that
	// brought the evidence. It must equal the TLS key of a v2 Binding, or
	// the TLS of that connection ends somewhere other than the attested
	// machine (ErrTLSKey).
	TLSKeySHA256 []byte

	Policy Policy
	// VMPL, when set, is the exact VMPL the report must carry.
	VMPL *int
	// MinTCB is applied to the reported, committed, current and launch TCBs.
	MinTCB TCBFloor
	// BulletinTCBFloor raises MinTCB, component by component, to the floor
	// AMD's security bulletins require for the report's line of processors
	// (BulletinFloors). The Result's TCBFloor says which floor applied and
	// where it came from.
	BulletinTCBFloor bool
	MinGuestSVN      uint32
	// HostData and IDKeyDigest, when set, must equal the report's fields.
	HostData    []byte
	IDKeyDigest []byte
	// RequireRevocationCheck fails verification when no CRL can be had,
	// instead of reporting the revocation check as skipped.
	RequireRevocationCheck bool
}

// Fetcher gets AMD KDS documents (certificates and CRLs) by KDS path, such
// as "/vcek/v1/Milan/cert_chain". It is untrusted: whatever it returns must
// chain to the pinned roots. A KDS proxy client implements it.
type Fetcher interface {
	Fetch(ctx context.Context, path string) ([]byte, error)
}

// SignatureVerifier is the signature math the verifier needs. The native
// build uses Go's crypto; the browser build supplies WebCrypto. Public keys
// are SubjectPublicKeyInfo DER. Implementations hash msg themselves.
type SignatureVerifier interface {
	// VerifyRSAPSSSHA384 checks an RSASSA-PSS signature with SHA-384, MGF1
	// SHA-384 and a 48-byte salt.
	VerifyRSAPSSSHA384(ctx context.Context, spki, msg, sig []byte) error
	// VerifyECDSAP384SHA384 checks an ECDSA P-384 signature given as r||s,
	// each 48 bytes big-endian (IEEE P1363, as WebCrypto takes it).
	VerifyECDSAP384SHA384(ctx context.Context, spki, msg, sig []byte) error
}

// Options is the trust setup, fixed for the life of a Verifier.
type Options struct {
	// Roots are the trusted AMD roots. Nil means the pinned AMD roots.
	Roots *Roots
	// Now is the clock for certificate and CRL validity. Nil means time.Now.
	Now func() time.Time
	// Signatures does the signature math. Nil means Go's crypto natively;
	// the browser build must set it.
	Signatures SignatureVerifier
	// Fetcher fetches missing certificates and the CRL. Nil: evidence must
	// carry its certificates, and revocation is reported as not checked
	// unless the evidence carries a CRL.
	Fetcher Fetcher
}
