package sigstore

import (
	"context"
	"errors"

	"github.com/cvmtrust/cvmtrust/internal/cert"
	"github.com/cvmtrust/cvmtrust/internal/der"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
)

// curveSize is the byte length of a scalar on the key's curve.
func curveSize(kt cert.KeyType) int {
	switch kt {
	case cert.KeyECDSAP256:
		return 32
	case cert.KeyECDSAP384:
		return 48
	case cert.KeyECDSAP521:
		return 66
	}
	return 0
}

// defaultAlgorithm is how Sigstore signs with a key of this type: ECDSA
// with the hash that matches the curve, Ed25519, or RSA PKCS#1 v1.5 with
// SHA-256.
func defaultAlgorithm(kt cert.KeyType) (Scheme, Hash) {
	switch kt {
	case cert.KeyECDSAP256:
		return ECDSA, SHA256
	case cert.KeyECDSAP384:
		return ECDSA, SHA384
	case cert.KeyECDSAP521:
		return ECDSA, SHA512
	case cert.KeyEd25519:
		return Ed25519, 0
	}
	return RSAPKCS1v15, SHA256
}

// certAlgorithm maps a certificate's signature algorithm.
func certAlgorithm(a cert.SigAlg) (Scheme, Hash) {
	switch a {
	case cert.SigECDSASHA256:
		return ECDSA, SHA256
	case cert.SigECDSASHA384:
		return ECDSA, SHA384
	case cert.SigECDSASHA512:
		return ECDSA, SHA512
	case cert.SigEd25519:
		return Ed25519, 0
	case cert.SigRSAPKCS1SHA256:
		return RSAPKCS1v15, SHA256
	case cert.SigRSAPKCS1SHA384:
		return RSAPKCS1v15, SHA384
	case cert.SigRSAPKCS1SHA512:
		return RSAPKCS1v15, SHA512
	case cert.SigRSAPSSSHA384:
		return RSAPSS, SHA384
	}
	return 0, 0
}

// derToP1363 turns an ASN.1 ECDSA-Sig-Value into r||s of the curve's size.
func derToP1363(sig []byte, size int) ([]byte, error) {
	s := der.String(sig)
	var inner, r, sv der.String
	if !s.ReadASN1(&inner, der.SEQUENCE) || !s.Empty() ||
		!inner.ReadASN1(&r, der.INTEGER) || !inner.ReadASN1(&sv, der.INTEGER) || !inner.Empty() {
		return nil, errors.New("ECDSA signature is not a DER SEQUENCE of two INTEGERs")
	}
	out := make([]byte, 2*size)
	for i, n := range []der.String{r, sv} {
		if len(n) == 0 || n[0]&0x80 != 0 || (len(n) > 1 && n[0] == 0 && n[1]&0x80 == 0) {
			return nil, errors.New("ECDSA signature integer is negative or not minimally encoded")
		}
		if n[0] == 0 && len(n) > 1 {
			n = n[1:]
		}
		if len(n) > size {
			return nil, errors.New("ECDSA signature integer out of range")
		}
		copy(out[(i+1)*size-len(n):], n)
	}
	return out, nil
}

// verifyWith checks sig over msg with a key of type kt. ECDSA signatures
// come in DER, as Sigstore writes them.
func verifyWith(ctx context.Context, sv SignatureVerifier, kt cert.KeyType, spki []byte, scheme Scheme, hash Hash, msg, sig []byte) error {
	if scheme == ECDSA {
		size := curveSize(kt)
		if size == 0 {
			return errfmt.Errorf("%v signature with a non-EC key", scheme)
		}
		var err error
		if sig, err = derToP1363(sig, size); err != nil {
			return err
		}
	}
	if (scheme == Ed25519) != (kt == cert.KeyEd25519) || ((scheme == RSAPKCS1v15 || scheme == RSAPSS) != (kt == cert.KeyRSA)) {
		return errfmt.Errorf("%v signature does not fit the key", scheme)
	}
	return sv.Verify(ctx, scheme, hash, spki, msg, sig)
}

// verifyCertSignature checks that issuer signed c.
func verifyCertSignature(ctx context.Context, sv SignatureVerifier, issuer, c *cert.Certificate) error {
	scheme, hash := certAlgorithm(c.SigAlg)
	return verifyWith(ctx, sv, issuer.KeyType, issuer.SPKI, scheme, hash, c.RawTBS, c.Signature)
}

func hashBytes(h Hash, b []byte) []byte {
	switch h {
	case SHA256:
		s := sha2.Sum256(b)
		return s[:]
	case SHA384:
		s := sha2.Sum384(b)
		return s[:]
	case SHA512:
		s := sha2.Sum512(b)
		return s[:]
	}
	return nil
}
