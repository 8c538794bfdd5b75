package simulated

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	merkleproof "github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// The Merkle tree agrees with transparency-dev/merkle, an independent RFC
// 6962 implementation, on every leaf of every tree up to 40 leaves, and a
// proof for one leaf fails for its neighbour.
func TestMerkleTreeAgreesWithTransparencyDev(t *testing.T) {
	for n := 1; n <= 40; n++ {
		var leaves [][32]byte
		for i := 0; i < n; i++ {
			leaves = append(leaves, leafHash([]byte(fmt.Sprintf("leaf %d", i))))
		}
		root := treeHash(leaves)
		for m := 0; m < n; m++ {
			p := path(m, leaves)
			if err := merkleproof.VerifyInclusion(rfc6962.DefaultHasher, uint64(m), uint64(n), leaves[m][:], p, root[:]); err != nil {
				t.Fatalf("size %d, leaf %d: %v", n, m, err)
			}
			if n > 1 {
				other := leaves[(m+1)%n]
				if err := merkleproof.VerifyInclusion(rfc6962.DefaultHasher, uint64(m), uint64(n), other[:], p, root[:]); err == nil {
					t.Fatalf("size %d, leaf %d: the proof holds for another leaf", n, m)
				}
			}
		}
	}
	if got := rfc6962.DefaultHasher.HashLeaf([]byte("x")); !bytes.Equal(got, func() []byte { h := leafHash([]byte("x")); return h[:] }()) {
		t.Fatal("leaf hash differs")
	}
}

// Log entry bodies are canonical JSON (RFC 8785), as Rekor stores them.
func TestBodiesAreCanonicalJSON(t *testing.T) {
	in := instance(t)
	for _, k := range kinds {
		b := k.sign(t, in, testIdentity(), BreakNone)
		var v struct {
			VerificationMaterial struct {
				TlogEntries []struct {
					CanonicalizedBody []byte `json:"canonicalizedBody"`
				} `json:"tlogEntries"`
			} `json:"verificationMaterial"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		body := v.VerificationMaterial.TlogEntries[0].CanonicalizedBody
		canon, err := jsoncanonicalizer.Transform(body)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if !bytes.Equal(canon, body) {
			t.Errorf("%s: body is not canonical:\n%s\n%s", k, body, canon)
		}
	}
}

// The SET is over canonical JSON: the payload signSET builds is what
// jsoncanonicalizer makes of the same fields.
func TestSETPayloadIsCanonical(t *testing.T) {
	body := []byte(`{"kind":"x"}`)
	fields := map[string]any{"body": base64.StdEncoding.EncodeToString(body), "integratedTime": 1700000000, "logID": "00ff", "logIndex": 42}
	raw, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	want, err := jsoncanonicalizer.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := setPayload([]byte{0, 0xff}, body, 1700000000, 42); got != string(want) {
		t.Fatalf("SET payload\n got %s\nwant %s", got, want)
	}
}

// Every instance's Rekor v2 key begins with a 0x00 byte, in the trusted root
// a page is given: the key WebKitGTK refuses as SubjectPublicKeyInfo, met on
// every run instead of one run in 256.
func TestRekorV2KeyBeginsWithZero(t *testing.T) {
	for i := range 3 {
		in, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := in.TrustedRootJSON()
		if err != nil {
			t.Fatal(err)
		}
		var root struct {
			Tlogs []struct {
				BaseURL   string `json:"baseUrl"`
				PublicKey struct {
					RawBytes   string `json:"rawBytes"`
					KeyDetails string `json:"keyDetails"`
				} `json:"publicKey"`
			} `json:"tlogs"`
		}
		if err := json.Unmarshal(raw, &root); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, l := range root.Tlogs {
			if l.PublicKey.KeyDetails != "PKIX_ED25519" {
				continue
			}
			found = true
			spki, err := base64.StdEncoding.DecodeString(l.PublicKey.RawBytes)
			if err != nil || len(spki) != 44 {
				t.Fatalf("instance %d: Rekor v2 key %q is not a 44-byte Ed25519 SubjectPublicKeyInfo", i, l.PublicKey.RawBytes)
			}
			if spki[12] != 0 {
				t.Errorf("instance %d: Rekor v2 public key begins with %#02x, want 0x00", i, spki[12])
			}
		}
		if !found {
			t.Fatalf("instance %d: no Ed25519 log in the trusted root", i)
		}
	}
}
