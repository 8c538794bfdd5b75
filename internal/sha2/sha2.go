// Package sha2 is SHA-256, SHA-384 and SHA-512 (FIPS 180-4) for the packages
// that the browser build links: the verifier, the launch digest, the
// Sigstore verifier and the evidence protocol.
//
// Natively (every build but js) it forwards to crypto/sha256 and
// crypto/sha512, with their assembly, so nothing native gets slower. In the
// js/wasm build it uses the implementation in pure.go. The reason is size:
// crypto/sha256 and crypto/sha512 sit on crypto/internal/fips140, whose
// package initialisation links the whole module (DRBG, AES, GCM, SHA-3,
// HMAC, the self-tests, GODEBUG and bisect handling); measured on an empty
// Go wasm the two packages cost 96 KB of brotli-compressed code, while a
// plain SHA-2 costs a few. Wasm has no SHA assembly, so the standard
// library runs its generic Go code there too, and the code here is the same
// algorithm written for the same machine.
//
// The pure implementation is compiled and tested in every build: FIPS 180-4
// test vectors, a differential test against crypto/sha256 and crypto/sha512
// over random lengths around the block boundaries and in pieces, and a fuzz
// target (pure_test.go). Its benchmarks run against the standard library's
// generic code with
//
//	go test -tags purego -run XXX -bench . ./internal/sha2
package sha2

// Digest and block sizes in bytes.
const (
	Size256 = 32
	Size384 = 48
	Size512 = 64

	BlockSize256 = 64  // SHA-256
	BlockSize512 = 128 // SHA-384 and SHA-512
)
