//go:build !(js && wasm)

package simulated

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"time"

	"github.com/digitorus/timestamp"
)

// tsa is an RFC 3161 timestamp authority: a root and a leaf whose only
// extended key usage, critical as RFC 3161 §2.3 requires, is timeStamping.
type tsa struct {
	root, leaf       *x509.Certificate
	rootKey, leafKey *ecdsa.PrivateKey
}

func newTSA(notBefore time.Time) (*tsa, error) {
	t := &tsa{}
	var err error
	if t.rootKey, err = newKeyP384(); err != nil {
		return nil, err
	}
	if t.leafKey, err = newKeyP256(); err != nil {
		return nil, err
	}
	notAfter := notBefore.AddDate(10, 0, 0)
	t.root, err = issue(&x509.Certificate{
		Subject:   pkix.Name{Organization: []string{Organization}, CommonName: "simulated-tsa-root"},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 0, MaxPathLenZero: true,
	}, nil, t.rootKey.Public(), t.rootKey)
	if err != nil {
		return nil, err
	}
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
	if err != nil {
		return nil, err
	}
	t.leaf, err = issue(&x509.Certificate{
		Subject:   pkix.Name{Organization: []string{Organization}, CommonName: "simulated-tsa"},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: eku}},
	}, t.root, t.leafKey.Public(), t.rootKey)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// stamp returns a DER TimeStampResp over the SHA-256 of data at time at.
func (t *tsa) stamp(data []byte, at time.Time) ([]byte, error) {
	digest := sha256.Sum256(data)
	ts := timestamp.Timestamp{
		HashAlgorithm: crypto.SHA256,
		HashedMessage: digest[:],
		Time:          at,
		Policy:        asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2},
		Ordering:      false,
		Qualified:     false,
	}
	return ts.CreateResponseWithOpts(t.leaf, t.leafKey, crypto.SHA256)
}
