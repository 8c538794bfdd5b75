package simulated

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

const testKeyHint = "simulated-release-key"

func (k kind) signWithKey(t testing.TB, in *Instance, key *ecdsa.PrivateKey, b Break) []byte {
	t.Helper()
	o := BundleOptions{Version: k.version, RekorV2: k.rekorV2, Break: b, InToto: k.intoto}
	var out []byte
	var err error
	if k.dsse {
		st, _ := demoStatement(t)
		out, err = in.SignStatementWithKey(key, testKeyHint, st, o)
	} else {
		out, err = in.SignArtifactWithKey(key, testKeyHint, testArtifact, o)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// verifyWithKey is sigstore-go's verification of a key-signed bundle: the
// key as trusted material beside the instance's trusted root (for the
// logs and the timestamp authority).
func verifyWithKey(t testing.TB, in *Instance, trustedKey *ecdsa.PublicKey, k kind, bundleJSON []byte) error {
	t.Helper()
	trj, err := in.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := root.NewTrustedRootFromJSON(trj)
	if err != nil {
		t.Fatal(err)
	}
	v, err := signature.LoadECDSAVerifier(trustedKey, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	keys := root.NewTrustedPublicKeyMaterialFromMapping(map[string]*root.ExpiringKey{
		testKeyHint: root.NewExpiringKey(v, in.created.Add(-History), time.Time{}),
	})
	opts := []verify.VerifierOption{verify.WithTransparencyLog(1)}
	if k.rekorV2 {
		opts = append(opts, verify.WithSignedTimestamps(1))
	} else {
		opts = append(opts, verify.WithIntegratedTimestamps(1))
	}
	verifier, err := verify.NewVerifier(root.TrustedMaterialCollection{tr, keys}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return err
	}
	_, err = verifier.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", k.digest(t)), verify.WithKey()))
	return err
}

func TestSigstoreGoKeySignedBundles(t *testing.T) {
	in := instance(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		t.Run(k.String()+"/rejects another key", func(t *testing.T) {
			if err := verifyWithKey(t, in, &otherKey.PublicKey, k, k.signWithKey(t, in, key, BreakNone)); err == nil {
				t.Fatal("sigstore-go accepted a bundle signed by a key it does not trust")
			}
		})
		for _, b := range Breaks {
			if b.needsCertificate() || !b.AppliesTo(k.rekorV2) {
				continue
			}
			t.Run(k.String()+"/"+string(b), func(t *testing.T) {
				err := verifyWithKey(t, in, &key.PublicKey, k, k.signWithKey(t, in, key, b))
				if err == nil {
					t.Fatal("sigstore-go accepted the broken bundle")
				}
				t.Logf("sigstore-go: %v", err)
			})
		}
		t.Run(k.String(), func(t *testing.T) {
			if err := verifyWithKey(t, in, &key.PublicKey, k, k.signWithKey(t, in, key, BreakNone)); err != nil {
				t.Fatalf("sigstore-go rejects: %v", err)
			}
		})
	}
}

func TestSignWithKeyRefusesCertificateBreaks(t *testing.T) {
	in := instance(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range Breaks {
		if !b.needsCertificate() {
			continue
		}
		if _, err := in.SignArtifactWithKey(key, testKeyHint, testArtifact, BundleOptions{Break: b}); err == nil {
			t.Errorf("%s: a key-signed bundle was made", b)
		}
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.SignArtifactWithKey(p384, testKeyHint, testArtifact, BundleOptions{}); err == nil {
		t.Error("signed with a P-384 key")
	}
}
