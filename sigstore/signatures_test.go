//go:build !js

package sigstore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/cert"
)

// TestGoSignatures checks every scheme and hash the verifier may ask for,
// and that a flipped bit fails each.
func TestGoSignatures(t *testing.T) {
	ctx := context.Background()
	msg := []byte("release manifest")
	type tc struct {
		name   string
		kt     cert.KeyType
		scheme Scheme
		hash   Hash
		spki   []byte
		sig    []byte // DER for ECDSA, as Sigstore writes it
	}
	var cases []tc
	for _, c := range []struct {
		curve elliptic.Curve
		kt    cert.KeyType
		hash  Hash
	}{{elliptic.P256(), cert.KeyECDSAP256, SHA256}, {elliptic.P384(), cert.KeyECDSAP384, SHA384}, {elliptic.P521(), cert.KeyECDSAP521, SHA512}} {
		k, _ := ecdsa.GenerateKey(c.curve, rand.Reader)
		spki, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		sig, err := ecdsa.SignASN1(rand.Reader, k, hashBytes(c.hash, msg))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tc{c.curve.Params().Name, c.kt, ECDSA, c.hash, spki, sig})
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	spki, _ := x509.MarshalPKIXPublicKey(pub)
	cases = append(cases, tc{"Ed25519", cert.KeyEd25519, Ed25519, 0, spki, ed25519.Sign(priv, msg)})
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	spki, _ = x509.MarshalPKIXPublicKey(&rk.PublicKey)
	for _, h := range []struct {
		h  Hash
		ch crypto.Hash
	}{{SHA256, crypto.SHA256}, {SHA384, crypto.SHA384}, {SHA512, crypto.SHA512}} {
		sig, _ := rsa.SignPKCS1v15(rand.Reader, rk, h.ch, hashBytes(h.h, msg))
		cases = append(cases, tc{"RSA PKCS1 " + h.h.String(), cert.KeyRSA, RSAPKCS1v15, h.h, spki, sig})
		sig, _ = rsa.SignPSS(rand.Reader, rk, h.ch, hashBytes(h.h, msg), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		cases = append(cases, tc{"RSA PSS " + h.h.String(), cert.KeyRSA, RSAPSS, h.h, spki, sig})
	}
	for _, c := range cases {
		kt, imported, err := cert.ParseSPKI(c.spki)
		if err != nil || kt != c.kt {
			t.Fatalf("%s: ParseSPKI: %v %v", c.name, kt, err)
		}
		if err := verifyWith(ctx, GoSignatures{}, kt, imported, c.scheme, c.hash, msg, c.sig); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		bad := append([]byte(nil), c.sig...)
		bad[len(bad)-1] ^= 1
		if err := verifyWith(ctx, GoSignatures{}, kt, imported, c.scheme, c.hash, msg, bad); err == nil {
			t.Errorf("%s: a flipped signature verified", c.name)
		}
		if err := verifyWith(ctx, GoSignatures{}, kt, imported, c.scheme, c.hash, append([]byte("x"), msg...), c.sig); err == nil {
			t.Errorf("%s: another message verified", c.name)
		}
	}
}

func TestDERToP1363(t *testing.T) {
	for _, bad := range [][]byte{
		{0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01},       // negative r
		{0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01}, // r not minimal
		{0x30, 0x03, 0x02, 0x01, 0x01},                         // no s
		{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00}, // trailing byte
	} {
		if _, err := derToP1363(bad, 32); err == nil {
			t.Errorf("%x accepted", bad)
		}
	}
	out, err := derToP1363([]byte{0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x02}, 4)
	if err != nil || string(out) != "\x00\x00\x00\x80\x00\x00\x00\x02" {
		t.Errorf("%x, %v", out, err)
	}
}

// webCryptoLike stands for the browser's SignatureVerifier: it verifies
// messages but cannot verify a bare digest.
type webCryptoLike struct{ calls int }

func (w *webCryptoLike) Verify(ctx context.Context, scheme Scheme, hash Hash, spki, msg, sig []byte) error {
	w.calls++
	return GoSignatures{}.Verify(ctx, scheme, hash, spki, msg, sig)
}

// TestBrowserSignatureVerifier: the verifier does all its math through
// Options.Signatures, and a message signature checked by digest needs a
// DigestVerifier, which is refused with a clear error otherwise.
func TestBrowserSignatureVerifier(t *testing.T) {
	sv := &webCryptoLike{}
	v, err := New(Options{Signatures: sv})
	if err != nil {
		t.Fatal(err)
	}
	c := caseNamed(t, "happy-path-v0.3")
	if _, err := v.Verify(context.Background(), c.bundle, c.policy(false)); err != nil {
		t.Fatal(err)
	}
	if sv.calls < 5 {
		t.Errorf("only %d signature checks went through Options.Signatures", sv.calls)
	}
	if _, err := v.Verify(context.Background(), c.bundle, c.policy(true)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("digest form without a DigestVerifier: %v", err)
	}
	// A DSSE bundle needs no DigestVerifier: the envelope is signed.
	d := caseNamed(t, "happy-path-intoto-in-dsse-v3")
	if _, err := v.Verify(context.Background(), d.bundle, d.policy(true)); err != nil {
		t.Fatal(err)
	}
}
