// Command hpkeoracle prints, as JSON, what Go's crypto/hpke exports from the
// recipient context of the RFC 9180 test vector for DHKEM(X25519,
// HKDF-SHA256), HKDF-SHA256, AES-256-GCM (the toolchain's
// src/crypto/hpke/testdata/rfc9180.json): for each length L in [0, 1000), the
// export of a context drawn from SHAKE128 as Go's own test draws it, and
// Export("cvmtrust-receipt-v1", 32). test/hpke-vectors.test.mjs compares
// the page's HPKE module with it.
package main

import (
	"crypto/hpke"
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

type vector struct {
	Mode int    `json:"mode"`
	KEM  uint16 `json:"kem_id"`
	KDF  uint16 `json:"kdf_id"`
	AEAD uint16 `json:"aead_id"`
	Info string `json:"info"`
	SkRm string `json:"skRm"`
	Enc  string `json:"enc"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hpkeoracle:", err)
		os.Exit(1)
	}
}

func run() error {
	b, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src/crypto/hpke/testdata/rfc9180.json"))
	if err != nil {
		return err
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		return err
	}
	for _, v := range vs {
		if v.Mode != 0 || v.KEM != 0x20 || v.KDF != 1 || v.AEAD != 2 {
			continue
		}
		kem, err := hpke.NewKEM(v.KEM)
		if err != nil {
			return err
		}
		sk, _ := hex.DecodeString(v.SkRm)
		enc, _ := hex.DecodeString(v.Enc)
		info, _ := hex.DecodeString(v.Info)
		priv, err := kem.NewPrivateKey(sk)
		if err != nil {
			return err
		}
		r, err := hpke.NewRecipient(enc, priv, hpke.HKDFSHA256(), hpke.AES256GCM(), info)
		if err != nil {
			return err
		}
		src := sha3.NewSHAKE128()
		exports := make([]string, 1000)
		for l := range exports {
			n := make([]byte, 1)
			src.Read(n)
			c := make([]byte, n[0])
			src.Read(c)
			x, err := r.Export(string(c), l)
			if err != nil {
				return err
			}
			exports[l] = hex.EncodeToString(x)
		}
		receipt, err := r.Export("cvmtrust-receipt-v1", 32)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"exports": exports, "receipt": hex.EncodeToString(receipt)})
	}
	return fmt.Errorf("no X25519/HKDF-SHA256/AES-256-GCM vector in rfc9180.json")
}
