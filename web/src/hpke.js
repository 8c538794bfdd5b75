// The entry of web/dist/hpke.js, the HPKE (RFC 9180) the widget seals with:
// hpke-js (@hpke/core, @hpke/hybridkem-x-wing, @hpke/dhkem-x25519, MIT),
// bundled by scripts/build-wasm.sh from the versions locked in
// package-lock.json. Only the suites of evidence protocol v1 are exported:
// KEM MLKEM768-X25519 (X-Wing, 0x647a) or DHKEM(X25519, HKDF-SHA256), KDF
// HKDF-SHA256, AEAD AES-256-GCM.
export { CipherSuite, HkdfSha256, Aes256Gcm } from '@hpke/core';
export { XWing } from '@hpke/hybridkem-x-wing';
export { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
