// Package verifier checks that an AMD SEV-SNP attestation report comes from
// genuine hardware running the expected code, and that it speaks for a
// fresh nonce and the key a client is about to encrypt to.
//
// # Trust setup and expectations
//
// A [Verifier] is built once with [New] from [Options]: the trusted roots
// (the pinned AMD roots of [AMDRoots] by default), the clock, the signature
// math and an optional KDS [Fetcher]. Each call to [Verifier.Verify] takes
// the [Evidence] (report and certificates) and an [Expectation]: the
// launch measurements the caller accepts, the REPORT_DATA or the evidence
// protocol [Binding] of nonce and HPKE key (and, in v2, TLS key), the TLS
// key the caller saw, policy, VMPL and TCB floors.
//
// An expected measurement is required. Skipping that check takes the
// loudly named AnyMeasurementUnsafe option; combining it with measurements
// is an error, as is any other contradictory expectation ([ErrBadExpectation]).
//
// # What is checked
//
//   - the report: size, version (2, 3 or 5), reserved fields, signature
//     algorithm, and that its signing-key field names the certificate given;
//   - the product (Milan, Genoa, Turin), from the report's CPUID fields
//     (version 3 and later) and from the certificate's issuer, which must
//     agree; an unknown product is rejected;
//   - the chain ARK → ASK/ASVK → VCEK/VLEK (RSA-PSS SHA-384) up to a pinned
//     ARK, each certificate valid at the verifier's clock; an ARK that comes
//     with the evidence is compared with the pinned one, never trusted;
//   - the report signature (ECDSA P-384 over bytes 0x0–0x29F);
//   - the VCEK's hwID and SPL extensions against CHIP_ID and REPORTED_TCB,
//     decoded per product (Turin: 8-byte chip id and an FMC SPL);
//   - policy (debug, migration agent, SMT, ABI), VMPL, TCB floors on the
//     reported, committed, current and launch TCBs, guest SVN;
//   - MEASUREMENT, REPORT_DATA, HOST_DATA and ID_KEY_DIGEST as expected;
//   - the TLS key the caller was served (Expectation.TLSKeySHA256) against
//     the one a v2 Binding binds, so that a proxy terminating TLS in front
//     of the attested machine is seen ([ErrTLSKey]);
//   - revocation against AMD's CRL for the product, signed by the ARK. When
//     no CRL can be had, the Result says revocation was not checked.
//
// # Results and errors
//
// Verify returns a [Result] if and only if every check passed. On rejection
// it returns a [*RejectedError] whose Result lists every check with its
// outcome and, for failures, the field with got and want; errors.Is matches
// the sentinel of each failed check ([ErrMeasurement], [ErrBadSignature], …).
// The Result's JSON form is identified by [MediaType].
//
// # Browser build
//
// The package builds for js/wasm and does not use syscall/js. Certificates
// are parsed with internal/der (cryptobyte's reading rules without
// encoding/asn1, compared with cryptobyte in its tests) rather than
// crypto/x509 to keep the binary small, and the signature math is behind
// [SignatureVerifier] so that a page can supply WebCrypto.
package verifier
