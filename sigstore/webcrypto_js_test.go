//go:build js

package sigstore

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/cert"
)

// webCrypto is a SignatureVerifier on the JavaScript host's WebCrypto
// (crypto.subtle), as the page's is: the test runs the js/wasm build under
// Node (GOOS=js GOARCH=wasm go test with go_js_wasm_exec on the PATH).
type webCrypto struct{}

func await(p js.Value) (js.Value, error) {
	done := make(chan js.Value, 1)
	failed := make(chan error, 1)
	onOK := js.FuncOf(func(_ js.Value, args []js.Value) any { done <- args[0]; return nil })
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		failed <- errors.New(args[0].Call("toString").String())
		return nil
	})
	defer onOK.Release()
	defer onErr.Release()
	p.Call("then", onOK, onErr)
	select {
	case v := <-done:
		return v, nil
	case err := <-failed:
		return js.Undefined(), err
	}
}

func bytesToJS(b []byte) js.Value {
	u := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u, b)
	return u
}

func (webCrypto) Verify(_ context.Context, scheme Scheme, hash Hash, spki, msg, sig []byte) error {
	kt, _, err := cert.ParseSPKI(spki)
	if err != nil {
		return err
	}
	hashName := map[Hash]string{SHA256: "SHA-256", SHA384: "SHA-384", SHA512: "SHA-512"}[hash]
	importAlg := map[string]any{}
	verifyAlg := map[string]any{}
	switch scheme {
	case ECDSA:
		curve := map[cert.KeyType]string{cert.KeyECDSAP256: "P-256", cert.KeyECDSAP384: "P-384", cert.KeyECDSAP521: "P-521"}[kt]
		importAlg = map[string]any{"name": "ECDSA", "namedCurve": curve}
		verifyAlg = map[string]any{"name": "ECDSA", "hash": hashName}
	case Ed25519:
		importAlg = map[string]any{"name": "Ed25519"}
		verifyAlg = importAlg
	case RSAPKCS1v15:
		importAlg = map[string]any{"name": "RSASSA-PKCS1-v1_5", "hash": hashName}
		verifyAlg = importAlg
	case RSAPSS:
		importAlg = map[string]any{"name": "RSA-PSS", "hash": hashName}
		verifyAlg = map[string]any{"name": "RSA-PSS", "saltLength": hash.Size()}
	default:
		return fmt.Errorf("unsupported scheme %v", scheme)
	}
	subtle := js.Global().Get("crypto").Get("subtle")
	key, err := await(subtle.Call("importKey", "spki", bytesToJS(spki), importAlg, false, []any{"verify"}))
	if err != nil {
		return err
	}
	ok, err := await(subtle.Call("verify", verifyAlg, key, bytesToJS(sig), bytesToJS(msg)))
	if err != nil {
		return err
	}
	if !ok.Bool() {
		return errors.New("WebCrypto: signature does not verify")
	}
	return nil
}

// TestWebCryptoConformance: the browser build, with WebCrypto doing the
// math, reaches the expected verdict on every conformance case (artifact
// given as bytes: WebCrypto cannot verify a bare digest) and verifies
// every real bundle.
func TestWebCryptoConformance(t *testing.T) {
	for _, c := range conformanceCases(t) {
		opts := Options{Signatures: webCrypto{}}
		if c.trustedRoot != nil {
			tr, err := ParseTrustedRoot(c.trustedRoot)
			if err != nil {
				if c.wantOK {
					t.Errorf("%s: %v", c.name, err)
				}
				continue
			}
			opts.TrustedRoot = tr
		}
		v, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(context.Background(), c.bundle, c.policy(false))
		if (err == nil) != c.wantOK {
			t.Errorf("%s: verified = %v, want %v (%v)", c.name, err == nil, c.wantOK, err)
		}
	}
	v, _ := New(Options{Signatures: webCrypto{}})
	for _, c := range realCases(t) {
		bundle, p := c.load(t)
		if _, err := v.Verify(context.Background(), bundle, p); err != nil {
			t.Errorf("%s: %v", c.Bundle, err)
		}
	}
}

// BenchmarkWebCryptoVerify: warm verification in the js/wasm build with the
// host's WebCrypto (Node's here; the page's in the browser benchmarks).
func BenchmarkWebCryptoVerify(b *testing.B) {
	for _, name := range []string{"happy-path-v0.3", "happy-path-intoto-in-dsse-v3", "rekor2-happy-path"} {
		c := caseNamed(b, name)
		opts := Options{Signatures: webCrypto{}}
		if c.trustedRoot != nil {
			opts.TrustedRoot, _ = ParseTrustedRoot(c.trustedRoot)
		}
		v, _ := New(opts)
		p := c.policy(false)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := v.Verify(context.Background(), c.bundle, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
