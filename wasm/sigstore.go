//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"errors"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/sigstore"
)

var _ sigstore.SignatureVerifier = (*webCrypto)(nil)

// An Ed25519 SubjectPublicKeyInfo (RFC 8410) is this DER prefix and the
// 32-byte key.
var ed25519SPKIPrefix = []byte{0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00}

const ed25519KeySize = 32

// ecdsaCurves maps the length of an r||s signature to its WebCrypto curve;
// the Sigstore verifier turns DER signatures into r||s of the key's size.
var ecdsaCurves = map[int]string{64: "P-256", 96: "P-384", 132: "P-521"}

// Verify implements sigstore.SignatureVerifier with crypto.subtle: ECDSA
// P-256/P-384/P-521, Ed25519, RSASSA-PKCS1-v1_5 and RSA-PSS (salt as long
// as the hash). Keys are imported once and cached with the AMD keys.
func (w *webCrypto) Verify(ctx context.Context, scheme sigstore.Scheme, hash sigstore.Hash, spki, msg, sig []byte) error {
	var alg, params map[string]any
	hashName := hash.String()
	switch scheme {
	case sigstore.ECDSA:
		curve, ok := ecdsaCurves[len(sig)]
		if !ok || hash.Size() == 0 {
			return errfmt.Errorf("webcrypto: no ECDSA curve with %d-byte signatures and %v", len(sig), hash)
		}
		alg = map[string]any{"name": "ECDSA", "namedCurve": curve}
		params = map[string]any{"name": "ECDSA", "hash": hashName}
	case sigstore.Ed25519:
		// Imported raw: WebKitGTK refuses the SubjectPublicKeyInfo of an
		// Ed25519 key whose first byte is 0x00 (one key in 256), and every
		// engine takes the raw 32 bytes.
		if len(spki) != len(ed25519SPKIPrefix)+ed25519KeySize || !bytes.HasPrefix(spki, ed25519SPKIPrefix) {
			return errors.New("webcrypto: not an Ed25519 SubjectPublicKeyInfo")
		}
		alg = map[string]any{"name": "Ed25519"}
		key, err := w.importKey(ctx, "raw", spki[len(ed25519SPKIPrefix):], alg)
		if err != nil {
			return err
		}
		return w.verify(ctx, alg, key, msg, sig)
	case sigstore.RSAPKCS1v15:
		if hash.Size() == 0 {
			return errfmt.Errorf("webcrypto: RSA PKCS#1 v1.5 with %v", hash)
		}
		alg = map[string]any{"name": "RSASSA-PKCS1-v1_5", "hash": hashName}
		params = map[string]any{"name": "RSASSA-PKCS1-v1_5"}
	case sigstore.RSAPSS:
		if hash.Size() == 0 {
			return errfmt.Errorf("webcrypto: RSA-PSS with %v", hash)
		}
		alg = map[string]any{"name": "RSA-PSS", "hash": hashName}
		params = map[string]any{"name": "RSA-PSS", "saltLength": hash.Size()}
	default:
		return errfmt.Errorf("webcrypto: unsupported signature scheme %v", scheme)
	}
	key, err := w.importKey(ctx, "spki", spki, alg)
	if err != nil {
		return err
	}
	return w.verify(ctx, params, key, msg, sig)
}
