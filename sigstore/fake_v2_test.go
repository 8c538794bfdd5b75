//go:build !js

package sigstore

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// fakeV2 adds to fakeInstance a Rekor v2 log (Ed25519) and a timestamp
// authority (a P-256 root and a time-stamping leaf).
type fakeV2 struct {
	*fakeInstance
	logPub       ed25519.PublicKey
	logPriv      ed25519.PrivateKey
	tsaRoot, tsa *x509.Certificate
	tsaKey       *ecdsa.PrivateKey
}

const fakeV2Host = "log2026.fake.test"

func newFakeV2(t *testing.T) *fakeV2 {
	f := &fakeV2{fakeInstance: newFakeInstance(t)}
	f.logPub, f.logPriv, _ = ed25519.GenerateKey(rand.Reader)
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.tsaKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(10), Subject: pkix.Name{CommonName: "fake tsa root"},
		NotBefore: f.now.Add(-time.Hour), NotAfter: f.now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	f.tsaRoot, _ = x509.ParseCertificate(der)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(11), Subject: pkix.Name{CommonName: "fake tsa"},
		NotBefore: f.now.Add(-time.Hour), NotAfter: f.now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}
	der, err := x509.CreateCertificate(rand.Reader, leafTmpl, f.tsaRoot, &f.tsaKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	f.tsa, _ = x509.ParseCertificate(der)
	return f
}

func (f *fakeV2) trustedRoot(t *testing.T) *TrustedRoot {
	tr, err := ParseTrustedRoot(f.trustedRootJSON(t))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func (f *fakeV2) trustedRootJSON(t *testing.T) []byte {
	logSPKI, _ := x509.MarshalPKIXPublicKey(f.logPub)
	id := sha256.Sum256(logSPKI)
	ctSPKI := spkiOf(t, f.ctKey)
	ctID := sha256.Sum256(ctSPKI)
	doc := map[string]any{"mediaType": TrustedRootMediaType,
		"tlogs": []any{map[string]any{"baseUrl": "https://" + fakeV2Host, "hashAlgorithm": "SHA2_256",
			"publicKey": map[string]any{"rawBytes": logSPKI, "keyDetails": "PKIX_ED25519",
				"validFor": map[string]any{"start": "2025-01-01T00:00:00Z"}},
			"logId": map[string]any{"keyId": id[:]}}},
		"ctlogs": []any{map[string]any{"baseUrl": "https://ct.fake.test", "hashAlgorithm": "SHA2_256",
			"publicKey": map[string]any{"rawBytes": ctSPKI, "keyDetails": "PKIX_ECDSA_P256_SHA_256",
				"validFor": map[string]any{"start": "2025-01-01T00:00:00Z"}},
			"logId": map[string]any{"keyId": ctID[:]}}},
		"certificateAuthorities": []any{map[string]any{"uri": "https://fulcio.fake.test",
			"certChain": map[string]any{"certificates": []any{map[string]any{"rawBytes": f.ca.Raw}}},
			"validFor":  map[string]any{"start": "2025-01-01T00:00:00Z"}}},
		"timestampAuthorities": []any{map[string]any{"uri": "https://tsa.fake.test",
			"certChain": map[string]any{"certificates": []any{map[string]any{"rawBytes": f.tsa.Raw}, map[string]any{"rawBytes": f.tsaRoot.Raw}}},
			"validFor":  map[string]any{"start": "2025-01-01T00:00:00Z"}}},
	}
	data, _ := json.Marshal(doc)
	return data
}

var (
	oidSHA256Alg = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidTSAPolicy = asn1.ObjectIdentifier{1, 2, 3, 4}
)

// timestamp makes an RFC 3161 TimeStampResp over sig at genTime.
func (f *fakeV2) timestamp(t *testing.T, sig []byte, genTime time.Time) []byte {
	imprint := sha256.Sum256(sig)
	algID := func(b *cryptobyte.Builder, oid asn1.ObjectIdentifier) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
	}
	var info cryptobyte.Builder
	info.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1ObjectIdentifier(oidTSAPolicy)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			algID(b, oidSHA256Alg)
			b.AddASN1OctetString(imprint[:])
		})
		b.AddASN1Int64(99)
		b.AddASN1GeneralizedTime(genTime.UTC())
	})
	tstInfo := info.BytesOrPanic()
	md := sha256.Sum256(tstInfo)
	attrs := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier(oidContentType))
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier(oidTSTInfo)) })
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier(oidMessageDigest))
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1OctetString(md[:]) })
		})
	}
	var set cryptobyte.Builder
	set.AddASN1(cbasn1.SET, attrs)
	attrDigest := sha256.Sum256(set.BytesOrPanic())
	tsaSig, _ := ecdsa.SignASN1(rand.Reader, f.tsaKey, attrDigest[:])
	var resp cryptobyte.Builder
	resp.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(0) })
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier(oidSignedData))
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1Int64(3)
					b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { algID(b, oidSHA256Alg) })
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier(oidTSTInfo))
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(tstInfo)
						})
					})
					b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1Int64(1)
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddBytes(f.tsa.RawIssuer)
								b.AddASN1BigInt(f.tsa.SerialNumber)
							})
							algID(b, oidSHA256Alg)
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), attrs)
							algID(b, asn1.ObjectIdentifier(oidECDSASHA256))
							b.AddASN1OctetString(tsaSig)
						})
					})
				})
			})
		})
	})
	return resp.BytesOrPanic()
}

// dsseBundle signs an in-toto statement about artifact, logs it as a Rekor
// v2 dsse 0.0.2 entry (bodyEdit may alter the logged body) and timestamps
// the signature.
func (f *fakeV2) dsseBundle(t *testing.T, artifact []byte, bodyEdit func(map[string]any)) []byte {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := f.issue(t, f.leafTemplate(), key, true)
	digest := sha256.Sum256(artifact)
	statement, _ := json.Marshal(map[string]any{"_type": "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "manifest.json", "digest": map[string]any{"sha256": hexString(digest[:])}}},
		"predicateType": "https://cvmtrust.dev/test/v1", "predicate": map[string]any{}})
	paeDigest := sha256.Sum256(pae(inTotoPayloadType, statement))
	sig, _ := ecdsa.SignASN1(rand.Reader, key, paeDigest[:])
	payloadHash := sha256.Sum256(statement)
	bodyDoc := map[string]any{"apiVersion": "0.0.2", "kind": "dsse", "spec": map[string]any{"dsseV002": map[string]any{
		"payloadHash": map[string]any{"algorithm": "SHA2_256", "digest": payloadHash[:]},
		"signatures": []any{map[string]any{"content": sig, "verifier": map[string]any{
			"x509Certificate": map[string]any{"rawBytes": leaf}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}}}}}
	if bodyEdit != nil {
		bodyEdit(bodyDoc)
	}
	body, _ := json.Marshal(bodyDoc)
	root := leafHash(body)
	note := fakeV2Host + "\n1\n" + base64.StdEncoding.EncodeToString(root) + "\n"
	h := sha256.New()
	h.Write([]byte(fakeV2Host + "\n\x01"))
	h.Write(f.logPub)
	hint := h.Sum(nil)[:4]
	noteSig := ed25519.Sign(f.logPriv, []byte(note))
	checkpoint := note + "\n\u2014 " + fakeV2Host + " " + base64.StdEncoding.EncodeToString(append(hint, noteSig...)) + "\n"
	logSPKI, _ := x509.MarshalPKIXPublicKey(f.logPub)
	logID := sha256.Sum256(logSPKI)
	b, _ := json.Marshal(map[string]any{
		"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
		"verificationMaterial": map[string]any{
			"certificate": map[string]any{"rawBytes": leaf},
			"tlogEntries": []any{map[string]any{
				"logId":       map[string]any{"keyId": logID[:]},
				"kindVersion": map[string]any{"kind": "dsse", "version": "0.0.2"},
				"inclusionProof": map[string]any{"treeSize": "1", "rootHash": root, "hashes": []any{},
					"checkpoint": map[string]any{"envelope": checkpoint}},
				"canonicalizedBody": body,
			}},
			"timestampVerificationData": map[string]any{"rfc3161Timestamps": []any{
				map[string]any{"signedTimestamp": f.timestamp(t, sig, f.now)}}},
		},
		"dsseEnvelope": map[string]any{"payload": statement, "payloadType": inTotoPayloadType,
			"signatures": []any{map[string]any{"sig": sig}}},
	})
	return b
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&0xf]
	}
	return string(out)
}

// TestRekorV2DSSE: a Rekor v2 dsse 0.0.2 entry with an RFC 3161 timestamp
// verifies, and fails when the logged body records another payload.
// sigstore-go v1.3.0 cannot verify such entries (README, difference 4).
func TestRekorV2DSSE(t *testing.T) {
	f := newFakeV2(t)
	v, err := New(Options{TrustedRoot: f.trustedRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	artifact := []byte(`{"launch":"manifest"}`)
	d := sha256.Sum256(artifact)
	policy := Policy{ArtifactDigest: d[:], Issuer: githubIssuer,
		Identity: "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1", Repository: "o/r"}
	bundle := f.dsseBundle(t, artifact, nil)
	res, err := v.Verify(context.Background(), bundle, policy)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.LogEntries) != 1 || res.LogEntries[0].RekorVersion != 2 || res.LogEntries[0].Kind != "dsse" ||
		len(res.VerifiedTimes) != 1 || res.VerifiedTimes[0].Source != "rfc3161" || res.Statement.PredicateType != "https://cvmtrust.dev/test/v1" {
		t.Fatalf("Result: %+v", res)
	}
	if err := oracleVerify(oracleInput{bundle: bundle, trustedRoot: f.trustedRootJSON(t), artifact: artifact,
		byDigest: true, issuer: policy.Issuer, identity: policy.Identity}); err == nil {
		t.Error("sigstore-go now verifies Rekor v2 dsse entries: update README difference 4")
	}

	other := f.dsseBundle(t, artifact, func(b map[string]any) {
		b["spec"].(map[string]any)["dsseV002"].(map[string]any)["payloadHash"].(map[string]any)["digest"] = make([]byte, 32)
	})
	if _, err := v.Verify(context.Background(), other, policy); !errors.Is(err, ErrLogEntry) {
		t.Fatalf("another payload in the log: %v", err)
	}
}

// refusesKey plays a browser that will not import one public key (WebKitGTK
// refuses an Ed25519 SubjectPublicKeyInfo whose key begins with 0x00): every
// other signature is checked with Go's crypto.
type refusesKey struct{ spki []byte }

var errKeyRefused = errors.New("webcrypto: public key not accepted: DataError")

func (r refusesKey) Verify(ctx context.Context, scheme Scheme, hash Hash, spki, msg, sig []byte) error {
	if bytes.Equal(spki, r.spki) {
		return errKeyRefused
	}
	return GoSignatures{}.Verify(ctx, scheme, hash, spki, msg, sig)
}

// TestUnusableKeySaysWhy: when the log's or the timestamp authority's key
// cannot be used, the refusal carries that cause, not only "no signature
// verifies".
func TestUnusableKeySaysWhy(t *testing.T) {
	f := newFakeV2(t)
	artifact := []byte(`{"launch":"manifest"}`)
	d := sha256.Sum256(artifact)
	policy := Policy{ArtifactDigest: d[:], Issuer: githubIssuer,
		Identity: "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1", Repository: "o/r"}
	bundle := f.dsseBundle(t, artifact, nil)
	logSPKI, _ := x509.MarshalPKIXPublicKey(f.logPub)
	for _, c := range []struct {
		name, check, words string
		spki               []byte
	}{
		{"the log's key", "checkpoint", "no checkpoint signature by the log verifies", logSPKI},
		{"the timestamp authority's key", "timestamp", "no trusted timestamp authority signed the timestamp", f.tsa.RawSubjectPublicKeyInfo},
	} {
		v, err := New(Options{TrustedRoot: f.trustedRoot(t), Signatures: refusesKey{c.spki}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(context.Background(), bundle, policy)
		var rej *RejectedError
		if !errors.As(err, &rej) {
			t.Fatalf("%s refused: %v, want a rejection", c.name, err)
		}
		found := false
		for _, ch := range rej.Result.Failed() {
			if strings.Contains(ch.Detail, c.words) && strings.Contains(ch.Detail, errKeyRefused.Error()) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s refused: no failed check says %q with the cause %q: %v", c.name, c.words, errKeyRefused, rej.Result.Failed())
		}
	}
}
