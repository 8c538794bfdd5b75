//go:build js

package sigstore

// In the browser the page's WebCrypto does the math; the wasm main passes it
// in Options.Signatures. Linking Go's ECDSA and RSA here would only add size.
func defaultSignatures() SignatureVerifier { return nil }
