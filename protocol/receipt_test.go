//go:build !js

package protocol

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

type receiptVectors struct {
	Vectors []struct {
		Key     string  `json:"key"`
		Receipt Receipt `json:"receipt"`
		Msg     string  `json:"msg"`
		MAC     string  `json:"mac"`
	} `json:"vectors"`
}

func loadReceiptVectors(t *testing.T) receiptVectors {
	t.Helper()
	b, err := os.ReadFile("../testdata/protocol/receipt-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v receiptVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

// Negative cases first: a receipt that differs from the MACed one in any
// field, a wrong key, a missing or truncated MAC are all refused.
func TestVerifyReceiptRefuses(t *testing.T) {
	v := loadReceiptVectors(t).Vectors[0]
	key, _ := hex.DecodeString(v.Key)
	good := v.Receipt
	good.MAC, _ = hex.DecodeString(v.MAC)
	otherKey := append([]byte(nil), key...)
	otherKey[0] ^= 1
	cases := map[string]struct {
		key []byte
		r   func(Receipt) Receipt
	}{
		"other key":     {otherKey, func(r Receipt) Receipt { return r }},
		"short key":     {key[:16], func(r Receipt) Receipt { return r }},
		"no mac":        {key, func(r Receipt) Receipt { r.MAC = nil; return r }},
		"truncated mac": {key, func(r Receipt) Receipt { r.MAC = r.MAC[:31]; return r }},
		"version":       {key, func(r Receipt) Receipt { r.Version = 2; return r }},
		"receipt id":    {key, func(r Receipt) Receipt { r.ReceiptID += "0"; return r }},
		"status":        {key, func(r Receipt) Receipt { r.Status = StatusAlreadyEnrolled; return r }},
		"report": {key, func(r Receipt) Receipt {
			r.ReportSHA384 = append([]byte(nil), r.ReportSHA384...)
			r.ReportSHA384[47] ^= 1
			return r
		}},
		"received at": {key, func(r Receipt) Receipt { r.ReceivedAt = "2026-11-29T06:00:01Z"; return r }},
		// Moving a byte across the field boundary must change the message.
		"boundary": {key, func(r Receipt) Receipt {
			r.ReceiptID, r.Status = r.ReceiptID+"e", "nrolled"
			return r
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := VerifyReceipt(c.key, c.r(good))
			if !errors.Is(err, ErrReceiptMAC) {
				t.Fatalf("VerifyReceipt = %v, want ErrReceiptMAC", err)
			}
		})
	}
	if err := VerifyReceipt(key, good); err != nil {
		t.Fatalf("the vector's own receipt: %v", err)
	}
}

// The vectors were computed independently (Python's hmac).
func TestReceiptMACVectors(t *testing.T) {
	for i, v := range loadReceiptVectors(t).Vectors {
		key, _ := hex.DecodeString(v.Key)
		if got := hex.EncodeToString(receiptMessage(v.Receipt)); got != v.Msg {
			t.Errorf("vector %d: msg = %s, want %s", i, got, v.Msg)
		}
		if got := hex.EncodeToString(ReceiptMAC(key, v.Receipt)); got != v.MAC {
			t.Errorf("vector %d: mac = %s, want %s", i, got, v.MAC)
		}
		r := v.Receipt
		r.MAC = ReceiptMAC(key, r)
		if err := VerifyReceipt(key, r); err != nil {
			t.Errorf("vector %d: %v", i, err)
		}
	}
}
