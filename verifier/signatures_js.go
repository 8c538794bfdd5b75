//go:build js

package verifier

// In the browser the page's WebCrypto does the math; the wasm main passes it
// in Options.Signatures. Linking Go's RSA and ECDSA here would only add size.
func defaultSignatures() SignatureVerifier { return nil }

func cacheFor(SignatureVerifier) *sigCache { return newSigCache() }
