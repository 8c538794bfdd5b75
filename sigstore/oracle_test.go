//go:build !js

package sigstore

import (
	"bytes"
	"crypto/sha256"
	"sync"
	"time"

	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	sigsig "github.com/sigstore/sigstore/pkg/signature"
)

// oracleInput is one verification, as both verifiers take it.
type oracleInput struct {
	bundle      []byte
	trustedRoot []byte // nil: the embedded public-good root
	artifact    []byte
	byDigest    bool
	key         []byte
	issuer      string
	identity    string
}

// oracleVerify verifies with sigstore-go v1.3.0, configured as its own
// sigstore-conformance client configures it: one SCT for certificates, one
// transparency log entry, one integrated time when the bundle has an
// inclusion promise, one signed timestamp when the bundle and the trusted
// root have them.
func oracleVerify(in oracleInput) error {
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(in.bundle); err != nil {
		return err
	}
	trJSON := in.trustedRoot
	if trJSON == nil {
		trJSON = publicGoodJSON
	}
	tr, err := oracleTrustedRoot(trJSON)
	if err != nil {
		return err
	}
	var material root.TrustedMaterial = tr
	var artifactOpt verify.ArtifactPolicyOption
	if in.byDigest {
		d := sha256.Sum256(in.artifact)
		artifactOpt = verify.WithArtifactDigest("sha256", d[:])
	} else {
		artifactOpt = verify.WithArtifact(bytes.NewReader(in.artifact))
	}
	var policyOpts []verify.PolicyOption
	var config []verify.VerifierOption
	if in.key != nil {
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(in.key)
		if err != nil {
			return err
		}
		keyMaterial := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			v, err := sigsig.LoadDefaultVerifier(pub)
			if err != nil {
				return nil, err
			}
			return root.NewExpiringKey(v, time.Time{}, time.Time{}), nil
		})
		material = root.TrustedMaterialCollection{keyMaterial, tr}
		policyOpts = append(policyOpts, verify.WithKey())
	} else {
		config = append(config, verify.WithSignedCertificateTimestamps(1))
		id, err := verify.NewShortCertificateIdentity(in.issuer, "", in.identity, "")
		if err != nil {
			return err
		}
		policyOpts = append(policyOpts, verify.WithCertificateIdentity(id))
	}
	ts, err := b.Timestamps()
	if err != nil {
		return err
	}
	if len(material.TimestampingAuthorities()) > 0 && len(ts) > 0 {
		config = append(config, verify.WithSignedTimestamps(1))
	}
	if len(material.RekorLogs()) > 0 {
		config = append(config, verify.WithTransparencyLog(1))
		if b.HasInclusionPromise() {
			config = append(config, verify.WithIntegratedTimestamps(1))
		}
	}
	v, err := verify.NewVerifier(material, config...)
	if err != nil {
		return err
	}
	_, err = v.Verify(&b, verify.NewPolicy(artifactOpt, policyOpts...))
	return err
}

// oracleRoots holds each trusted root sigstore-go has parsed, by its JSON:
// the exhaustive tamper test verifies hundreds of thousands of bundles
// against a handful of roots, and parsing one costs more than verifying.
var oracleRoots sync.Map

func oracleTrustedRoot(trJSON []byte) (*root.TrustedRoot, error) {
	if tr, ok := oracleRoots.Load(string(trJSON)); ok {
		return tr.(*root.TrustedRoot), nil
	}
	tr, err := root.NewTrustedRootFromJSON(trJSON)
	if err != nil {
		return nil, err
	}
	oracleRoots.Store(string(trJSON), tr)
	return tr, nil
}
