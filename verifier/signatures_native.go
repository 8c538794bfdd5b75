//go:build !js

package verifier

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"math/big"
)

// GoSignatures is the SignatureVerifier built on Go's crypto packages, the
// default outside the browser.
type GoSignatures struct{}

func (GoSignatures) VerifyRSAPSSSHA384(_ context.Context, spki, msg, sig []byte) error {
	key, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return err
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return errors.New("not an RSA key")
	}
	digest := sha512.Sum384(msg)
	return rsa.VerifyPSS(pub, crypto.SHA384, digest[:], sig, &rsa.PSSOptions{SaltLength: 48, Hash: crypto.SHA384})
}

func (GoSignatures) VerifyECDSAP384SHA384(_ context.Context, spki, msg, sig []byte) error {
	key, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return err
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || pub.Curve.Params().BitSize != 384 {
		return errors.New("not a P-384 key")
	}
	if len(sig) != 96 {
		return errors.New("signature must be 96 bytes")
	}
	digest := sha512.Sum384(msg)
	r := new(big.Int).SetBytes(sig[:48])
	s := new(big.Int).SetBytes(sig[48:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return errors.New("ECDSA verification failed")
	}
	return nil
}

func defaultSignatures() SignatureVerifier { return GoSignatures{} }

// goSignatureCache is shared by every Verifier that uses GoSignatures: a
// signature Go's own crypto verified once stays valid, so a new Verifier in
// the same process does not check the pinned chain again. Verifiers with
// another SignatureVerifier keep their own cache: it is their code that
// vouches for what is in it.
var goSignatureCache = newSigCache()

func cacheFor(s SignatureVerifier) *sigCache {
	if _, ok := s.(GoSignatures); ok {
		return goSignatureCache
	}
	return newSigCache()
}
