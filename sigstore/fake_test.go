//go:build !js

package sigstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// fakeInstance is a minimal Sigstore instance made up in the test: a
// Fulcio root, a CT log and a Rekor v1 log, each an ECDSA P-256 key. It
// exists to break one field of a certificate at a time, which real bundles
// cannot offer. The simulated instance (package sigstore/simulated) is the
// full one.
type fakeInstance struct {
	caKey, ctKey, logKey *ecdsa.PrivateKey
	ca                   *x509.Certificate
	now                  time.Time
}

func newFakeInstance(t *testing.T) *fakeInstance {
	f := &fakeInstance{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.caKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.ctKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.logKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake fulcio root"},
		NotBefore: f.now.Add(-time.Hour), NotAfter: f.now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &f.caKey.PublicKey, f.caKey)
	if err != nil {
		t.Fatal(err)
	}
	f.ca, _ = x509.ParseCertificate(der)
	return f
}

func spkiOf(t *testing.T, k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (f *fakeInstance) trustedRoot(t *testing.T) *TrustedRoot {
	key := func(k *ecdsa.PrivateKey, url string) map[string]any {
		spki := spkiOf(t, k)
		id := sha256.Sum256(spki)
		return map[string]any{"baseUrl": url, "hashAlgorithm": "SHA2_256",
			"publicKey": map[string]any{"rawBytes": spki, "keyDetails": "PKIX_ECDSA_P256_SHA_256",
				"validFor": map[string]any{"start": "2025-01-01T00:00:00Z"}},
			"logId": map[string]any{"keyId": id[:]}}
	}
	doc := map[string]any{"mediaType": TrustedRootMediaType,
		"tlogs":  []any{key(f.logKey, "https://rekor.fake.test")},
		"ctlogs": []any{key(f.ctKey, "https://ct.fake.test")},
		"certificateAuthorities": []any{map[string]any{"uri": "https://fulcio.fake.test",
			"certChain": map[string]any{"certificates": []any{map[string]any{"rawBytes": f.ca.Raw}}},
			"validFor":  map[string]any{"start": "2025-01-01T00:00:00Z"}}},
	}
	data, err := json.Marshal(doc) // []byte fields become base64, as protobuf's JSON writes them
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ParseTrustedRoot(data)
	if err != nil {
		t.Fatal(err)
	}
	tr.Name = "fake instance (test only)"
	return tr
}

func utf8Ext(oid string, v string) pkix.Extension {
	val, _ := asn1.MarshalWithParams(v, "utf8")
	return pkix.Extension{Id: parseOID(oid), Value: val}
}

func parseOID(s string) asn1.ObjectIdentifier {
	var oid asn1.ObjectIdentifier
	n := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			oid = append(oid, n)
			n = 0
			continue
		}
		n = n*10 + int(s[i]-'0')
	}
	return oid
}

// leafTemplate is a GitHub Actions Fulcio leaf for repository o/r.
func (f *fakeInstance) leafTemplate() *x509.Certificate {
	return &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: f.now.Add(-5 * time.Minute),
		NotAfter: f.now.Add(5 * time.Minute), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: []pkix.Extension{
			{Id: parseOID(oidSAN), Critical: true, Value: sanURI("https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1")},
			utf8Ext(oidIssuerV2, githubIssuer),
			utf8Ext(oidSourceRepoURI, "https://github.com/o/r"),
			utf8Ext(oidSourceRef, "refs/tags/v1"),
			utf8Ext(oidSourceDigest, "0123456789abcdef0123456789abcdef01234567"),
			utf8Ext(oidBuildConfig, "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1"),
		}}
}

func sanURI(uri string) []byte {
	var b cryptobyte.Builder
	b.AddASN1(0x30, func(b *cryptobyte.Builder) {
		b.AddASN1(0x86, func(b *cryptobyte.Builder) { b.AddBytes([]byte(uri)) })
	})
	return b.BytesOrPanic()
}

// issue signs tmpl for key, with an embedded SCT from the fake CT log over
// the precertificate (the same TBS without the SCT extension).
func (f *fakeInstance) issue(t *testing.T, tmpl *x509.Certificate, key *ecdsa.PrivateKey, withSCT bool) []byte {
	pre, err := x509.CreateCertificate(rand.Reader, tmpl, f.ca, &key.PublicKey, f.caKey)
	if err != nil {
		t.Fatal(err)
	}
	if !withSCT {
		return pre
	}
	preCert, _ := x509.ParseCertificate(pre)
	issuerHash := sha256.Sum256(f.ca.RawSubjectPublicKeyInfo)
	ts := uint64(tmpl.NotBefore.Add(time.Second).UnixMilli())
	var signed cryptobyte.Builder
	signed.AddUint8(0)
	signed.AddUint8(0)
	signed.AddUint64(ts)
	signed.AddUint16(1)
	signed.AddBytes(issuerHash[:])
	signed.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(preCert.RawTBSCertificate) })
	signed.AddUint16(0)
	digest := sha256.Sum256(signed.BytesOrPanic())
	sig, _ := ecdsa.SignASN1(rand.Reader, f.ctKey, digest[:])
	logID := sha256.Sum256(spkiOf(t, f.ctKey))
	var sct cryptobyte.Builder
	sct.AddUint8(0)
	sct.AddBytes(logID[:])
	sct.AddUint64(ts)
	sct.AddUint16(0)
	sct.AddUint8(4) // sha256
	sct.AddUint8(3) // ecdsa
	sct.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sig) })
	var list cryptobyte.Builder
	list.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sct.BytesOrPanic()) })
	})
	val, _ := asn1.Marshal(list.BytesOrPanic())
	final := *tmpl
	final.ExtraExtensions = append(append([]pkix.Extension(nil), tmpl.ExtraExtensions...),
		pkix.Extension{Id: parseOID(oidSCTList), Value: val})
	der, err := x509.CreateCertificate(rand.Reader, &final, f.ca, &key.PublicKey, f.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// bundle signs artifact with a fresh key under a leaf made from tmpl, logs
// it as a Rekor v1 hashedrekord entry (a one-leaf tree) and returns the
// bundle's JSON.
func (f *fakeInstance) bundle(t *testing.T, artifact []byte, tmpl *x509.Certificate, withSCT bool) []byte {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := f.issue(t, tmpl, key, withSCT)
	digest := sha256.Sum256(artifact)
	sig, _ := ecdsa.SignASN1(rand.Reader, key, digest[:])
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf})
	body, _ := json.Marshal(map[string]any{"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": map[string]any{
		"data":      map[string]any{"hash": map[string]any{"algorithm": "sha256", "value": hex.EncodeToString(digest[:])}},
		"signature": map[string]any{"content": sig, "publicKey": map[string]any{"content": certPEM}}}})
	logSPKI := spkiOf(t, f.logKey)
	logID := sha256.Sum256(logSPKI)
	entry := &tlogEntry{logIndex: 7, logID: logID[:], integratedTime: f.now.Unix(), body: body}
	setDigest := sha256.Sum256(canonicalSETPayload(entry))
	set, _ := ecdsa.SignASN1(rand.Reader, f.logKey, setDigest[:])
	root := leafHash(body)
	note := "rekor.fake.test - 42\n1\n" + base64.StdEncoding.EncodeToString(root) + "\n"
	noteDigest := sha256.Sum256([]byte(note))
	noteSig, _ := ecdsa.SignASN1(rand.Reader, f.logKey, noteDigest[:])
	checkpoint := note + "\n\u2014 rekor.fake.test " + base64.StdEncoding.EncodeToString(append(logID[:4:4], noteSig...)) + "\n"
	b, _ := json.Marshal(map[string]any{
		"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
		"verificationMaterial": map[string]any{
			"certificate": map[string]any{"rawBytes": leaf},
			"tlogEntries": []any{map[string]any{
				"logIndex": "7", "logId": map[string]any{"keyId": logID[:]},
				"kindVersion":      map[string]any{"kind": "hashedrekord", "version": "0.0.1"},
				"integratedTime":   strconv.FormatInt(f.now.Unix(), 10),
				"inclusionPromise": map[string]any{"signedEntryTimestamp": set},
				"inclusionProof": map[string]any{"logIndex": "0", "treeSize": "1", "rootHash": root, "hashes": []any{},
					"checkpoint": map[string]any{"envelope": checkpoint}},
				"canonicalizedBody": body,
			}},
		},
		"messageSignature": map[string]any{"messageDigest": map[string]any{"algorithm": "SHA2_256", "digest": digest[:]},
			"signature": sig},
	})
	return b
}
