package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// The vectors were computed independently (Python's hashlib) from the
// definitions in the package comment.
func TestReportDataVector(t *testing.T) {
	nonce := make([]byte, 32)
	for i := range nonce {
		nonce[i] = byte(i)
	}
	got, err := ReportData(nonce, []byte("public key"))
	if err != nil {
		t.Fatal(err)
	}
	want := "e1c060de7c591268f644f88821d832477d5ebc8faf06156a488f900eaa379db20f07506ee48b9c30db6c7ccd61860cf7dc316e26a21c47580cc80c4f7d8c7139"
	if hex.EncodeToString(got[:]) != want {
		t.Fatalf("ReportData = %x, want %s", got, want)
	}
	other, _ := ReportData(nonce, []byte("public keY"))
	if other == got {
		t.Fatal("the key does not change the binding")
	}
}

func TestReportDataRejectsNonceSize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := ReportData(make([]byte, n), []byte("k")); !errors.Is(err, ErrNonceSize) {
			t.Errorf("nonce of %d bytes: %v, want ErrNonceSize", n, err)
		}
	}
}

func TestEnrollInfoVector(t *testing.T) {
	want, _ := hex.DecodeString("63766d74727573742d656e726f6c6c2d7631f19511e1d8608e346710e57ed081d5a1f9beb5e3274667d45c4d0f509cdb7d8d33eb07e47700b811baa01c9070324996")
	if got := EnrollInfo(bytes.Repeat([]byte{7}, ReportSize)); !bytes.Equal(got, want) {
		t.Fatalf("EnrollInfo = %x, want %x", got, want)
	}
}

// testdata/protocol/evidence-vectors.json is computed with Python's hashlib
// from the byte layout (gen-evidence-vectors.py beside it).
func TestEvidenceVectors(t *testing.T) {
	b, err := os.ReadFile("../testdata/protocol/evidence-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct {
			Name          string `json:"name"`
			Version       int    `json:"version"`
			Nonce         []byte `json:"nonce"`
			HPKEPublicKey []byte `json:"hpke_public_key"`
			TLSSPKIDER    string `json:"tls_spki_der"`
			TLSSPKISHA256 []byte `json:"tls_spki_sha256"`
			ReportData    string `json:"report_data"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	versions := map[int]int{}
	for _, v := range file.Vectors {
		var got [64]byte
		switch v.Version {
		case Version:
			got, err = ReportData(v.Nonce, v.HPKEPublicKey)
		case VersionTLS:
			spki, _ := hex.DecodeString(v.TLSSPKIDER)
			if sum := sha256.Sum256(spki); !bytes.Equal(sum[:], v.TLSSPKISHA256) {
				t.Fatalf("%s: tls_spki_sha256 is not SHA-256 of tls_spki_der", v.Name)
			}
			got, err = ReportDataV2(v.Nonce, v.TLSSPKISHA256, v.HPKEPublicKey)
		default:
			t.Fatalf("%s: version %d", v.Name, v.Version)
		}
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if hex.EncodeToString(got[:]) != v.ReportData {
			t.Errorf("%s: REPORT_DATA %x, want %s", v.Name, got, v.ReportData)
		}
		versions[v.Version]++
	}
	if versions[Version] == 0 || versions[VersionTLS] == 0 {
		t.Fatalf("vectors per version: %v", versions)
	}
}

// A v2 binding differs from v1's for the same nonce and key, and from
// itself under another TLS key; a TLS key hash of another size is refused.
func TestReportDataV2(t *testing.T) {
	nonce, key := make([]byte, 32), []byte("public key")
	v1, _ := ReportData(nonce, key)
	a, err := ReportDataV2(nonce, make([]byte, 32), key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ReportDataV2(nonce, bytes.Repeat([]byte{1}, 32), key)
	if a == v1 || a == b {
		t.Fatal("the version or the TLS key does not change the binding")
	}
	for _, n := range []int{0, 31, 33, 48} {
		if _, err := ReportDataV2(nonce, make([]byte, n), key); !errors.Is(err, ErrTLSKeySize) {
			t.Errorf("TLS key hash of %d bytes: %v, want ErrTLSKeySize", n, err)
		}
	}
	if _, err := ReportDataV2(make([]byte, 31), make([]byte, 32), key); !errors.Is(err, ErrNonceSize) {
		t.Errorf("short nonce: %v, want ErrNonceSize", err)
	}
}
