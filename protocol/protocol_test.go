package protocol

import (
	"bytes"
	"encoding/hex"
	"errors"
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
