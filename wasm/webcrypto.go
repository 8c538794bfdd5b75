//go:build js && wasm

package main

import (
	"context"
	"errors"
	"sync"

	"github.com/cvmtrust/cvmtrust/verifier"
	"github.com/cvmtrust/cvmtrust/wasm/internal/jsval"
)

// errSignatureInvalid is what WebCrypto's verify() answering false becomes.
var errSignatureInvalid = errors.New("webcrypto: signature does not verify")

// webCrypto implements verifier.SignatureVerifier with the browser's
// crypto.subtle. Imported keys are cached by algorithm and SPKI bytes: the
// AMD roots and a gateway's VCEK are the same on every verification, and
// importKey is the costly step.
type webCrypto struct {
	subtle jsval.Value

	mu   sync.Mutex
	keys map[string]jsval.Value
}

var _ verifier.SignatureVerifier = (*webCrypto)(nil)

// maxCachedKeys bounds the key cache: three AMD products' roots and
// intermediates, the VCEKs of the few gateways a page talks to, and the
// Sigstore trusted root's CAs and logs with a few signing certificates.
const maxCachedKeys = 128

func newWebCrypto() (*webCrypto, error) {
	c, err := jsval.Global().Get("crypto")
	if err != nil {
		return nil, err
	}
	subtle, err := c.Get("subtle")
	if err != nil {
		return nil, err
	}
	if subtle.Type() != jsval.TypeObject {
		return nil, errors.New("webcrypto: crypto.subtle is unavailable (the page must be served over https or from localhost)")
	}
	return &webCrypto{subtle: subtle, keys: map[string]jsval.Value{}}, nil
}

// VerifyRSAPSSSHA384 implements verifier.SignatureVerifier.
func (w *webCrypto) VerifyRSAPSSSHA384(ctx context.Context, spki, msg, sig []byte) error {
	key, err := w.importKey(ctx, "spki", spki, map[string]any{"name": "RSA-PSS", "hash": "SHA-384"})
	if err != nil {
		return err
	}
	return w.verify(ctx, map[string]any{"name": "RSA-PSS", "saltLength": 48}, key, msg, sig)
}

// VerifyECDSAP384SHA384 implements verifier.SignatureVerifier. WebCrypto
// takes the r||s form the verifier passes.
func (w *webCrypto) VerifyECDSAP384SHA384(ctx context.Context, spki, msg, sig []byte) error {
	key, err := w.importKey(ctx, "spki", spki, map[string]any{"name": "ECDSA", "namedCurve": "P-384"})
	if err != nil {
		return err
	}
	return w.verify(ctx, map[string]any{"name": "ECDSA", "hash": "SHA-384"}, key, msg, sig)
}

// importKey imports keyData, in format ("spki" or "raw"), for verifying
// with alg.
func (w *webCrypto) importKey(ctx context.Context, format string, keyData []byte, alg map[string]any) (jsval.Value, error) {
	// A key is imported for one algorithm, and an RSA key for one hash too.
	// The algorithm's values are all strings.
	field := func(k string) string { v, _ := alg[k].(string); return v }
	cacheKey := field("name") + "\x00" + field("hash") + "\x00" + field("namedCurve") + "\x00" + format + "\x00" + string(keyData)
	w.mu.Lock()
	key, ok := w.keys[cacheKey]
	w.mu.Unlock()
	if ok {
		return key, nil
	}
	data, err := uint8Array(keyData)
	if err != nil {
		return jsval.Value{}, err
	}
	p, err := w.subtle.Call("importKey", format, data, alg, false, []any{"verify"})
	if err != nil {
		return jsval.Value{}, err
	}
	key, err = await(ctx, p)
	if err != nil {
		return jsval.Value{}, errors.New("webcrypto: public key not accepted: " + err.Error())
	}
	w.mu.Lock()
	if len(w.keys) >= maxCachedKeys {
		clear(w.keys)
	}
	w.keys[cacheKey] = key
	w.mu.Unlock()
	return key, nil
}

func (w *webCrypto) verify(ctx context.Context, params map[string]any, key jsval.Value, msg, sig []byte) error {
	jsSig, err := uint8Array(sig)
	if err != nil {
		return err
	}
	jsMsg, err := uint8Array(msg)
	if err != nil {
		return err
	}
	p, err := w.subtle.Call("verify", params, key, jsSig, jsMsg)
	if err != nil {
		return err
	}
	ok, err := await(ctx, p)
	if err != nil {
		return errors.New("webcrypto: " + err.Error())
	}
	if valid, err := ok.Bool(); err != nil || !valid {
		return errSignatureInvalid
	}
	return nil
}

// uint8Array copies b into a new Uint8Array.
func uint8Array(b []byte) (jsval.Value, error) {
	ctor, err := jsval.Global().Get("Uint8Array")
	if err != nil {
		return jsval.Value{}, err
	}
	arr, err := ctor.New(len(b))
	if err != nil {
		return jsval.Value{}, err
	}
	if _, err := jsval.CopyBytesToJS(arr, b); err != nil {
		return jsval.Value{}, err
	}
	return arr, nil
}
