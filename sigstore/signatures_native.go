//go:build !js

package sigstore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"math/big"
)

// GoSignatures is the SignatureVerifier built on Go's crypto packages, the
// default outside the browser. It also verifies prehashed signatures.
type GoSignatures struct{}

func digest(h Hash, msg []byte) ([]byte, crypto.Hash, error) {
	switch h {
	case SHA256:
		d := sha256.Sum256(msg)
		return d[:], crypto.SHA256, nil
	case SHA384:
		d := sha512.Sum384(msg)
		return d[:], crypto.SHA384, nil
	case SHA512:
		d := sha512.Sum512(msg)
		return d[:], crypto.SHA512, nil
	}
	return nil, 0, errors.New("unsupported hash")
}

func (g GoSignatures) Verify(ctx context.Context, scheme Scheme, hash Hash, spki, msg, sig []byte) error {
	if scheme == Ed25519 {
		key, err := x509.ParsePKIXPublicKey(spki)
		if err != nil {
			return err
		}
		pub, ok := key.(ed25519.PublicKey)
		if !ok {
			return errors.New("not an Ed25519 key")
		}
		if !ed25519.Verify(pub, msg, sig) {
			return errors.New("Ed25519 verification failed")
		}
		return nil
	}
	d, _, err := digest(hash, msg)
	if err != nil {
		return err
	}
	return g.VerifyDigest(ctx, scheme, hash, spki, d, sig)
}

func (GoSignatures) VerifyDigest(_ context.Context, scheme Scheme, hash Hash, spki, d, sig []byte) error {
	key, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return err
	}
	_, ch, err := digest(hash, nil)
	if err != nil {
		return err
	}
	if len(d) != ch.Size() {
		return errors.New("digest length does not match the hash")
	}
	switch scheme {
	case ECDSA:
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok || len(sig)%2 != 0 {
			return errors.New("not an ECDSA key or signature")
		}
		r := new(big.Int).SetBytes(sig[:len(sig)/2])
		s := new(big.Int).SetBytes(sig[len(sig)/2:])
		if !ecdsa.Verify(pub, d, r, s) {
			return errors.New("ECDSA verification failed")
		}
		return nil
	case RSAPKCS1v15, RSAPSS:
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return errors.New("not an RSA key")
		}
		if scheme == RSAPSS {
			return rsa.VerifyPSS(pub, ch, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: ch})
		}
		return rsa.VerifyPKCS1v15(pub, ch, d, sig)
	}
	return errors.New("unsupported signature scheme for a digest")
}

func defaultSignatures() SignatureVerifier { return GoSignatures{} }
