package seal

import (
	"bytes"
	"crypto/hpke"
	"errors"
	"testing"

	"github.com/cvmtrust/cvmtrust/protocol"
)

func keyFor(t *testing.T, kem string) (protocol.HPKEKey, hpke.PrivateKey) {
	t.Helper()
	k := protocol.HPKEKey{KEM: kem, KDF: protocol.KDFHKDFSHA256, AEAD: protocol.AEADAES256GCM}
	s, err := ResolveSuite(k)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := s.KEM.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k.PublicKey = priv.PublicKey().Bytes()
	return k, priv
}

// TestSealOpensOnlyForThatReport: the ciphertext opens with the report it
// was sealed to, and with no other.
func TestSealOpensOnlyForThatReport(t *testing.T) {
	for _, kem := range []string{protocol.KEMMLKEM768X25519, protocol.KEMX25519} {
		k, priv := keyFor(t, kem)
		s, _ := ResolveSuite(k)
		report := bytes.Repeat([]byte{1}, protocol.ReportSize)
		ct, err := Seal(k, report, []byte("a face"))
		if err != nil {
			t.Fatal(err)
		}
		other := bytes.Repeat([]byte{2}, protocol.ReportSize)
		if _, err := hpke.Open(priv, s.KDF, s.AEAD, protocol.EnrollInfo(other), ct); err == nil {
			t.Fatalf("%s: opened with another report's info", kem)
		}
		pt, err := hpke.Open(priv, s.KDF, s.AEAD, protocol.EnrollInfo(report), ct)
		if err != nil || string(pt) != "a face" {
			t.Fatalf("%s: open: %q, %v", kem, pt, err)
		}
	}
}

func TestSealRejects(t *testing.T) {
	k, _ := keyFor(t, protocol.KEMMLKEM768X25519)
	report := make([]byte, protocol.ReportSize)
	bad := func(mut func(*protocol.HPKEKey)) protocol.HPKEKey { c := k; mut(&c); return c }
	for name, tc := range map[string]struct {
		k      protocol.HPKEKey
		report []byte
		want   error
	}{
		"unknown KEM":   {bad(func(c *protocol.HPKEKey) { c.KEM = "DHKEM-P256-HKDF-SHA256" }), report, ErrUnknownKEM},
		"unknown KDF":   {bad(func(c *protocol.HPKEKey) { c.KDF = "HKDF-SHA512" }), report, ErrUnknownKDF},
		"unknown AEAD":  {bad(func(c *protocol.HPKEKey) { c.AEAD = "ChaCha20Poly1305" }), report, ErrUnknownAEAD},
		"short report":  {k, report[:100], protocol.ErrReportSize},
		"truncated key": {bad(func(c *protocol.HPKEKey) { c.PublicKey = c.PublicKey[:10] }), report, nil},
	} {
		_, err := Seal(tc.k, tc.report, []byte("x"))
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// The receipt key is the one the recipient's context exports: Open derives
// the same key from the ciphertext, and every upload has its own.
func TestReceiptKey(t *testing.T) {
	for _, kem := range []string{protocol.KEMMLKEM768X25519, protocol.KEMX25519} {
		k, priv := keyFor(t, kem)
		s, _ := ResolveSuite(k)
		report := bytes.Repeat([]byte{1}, protocol.ReportSize)
		info := protocol.EnrollInfo(report)
		ct, key, err := SealWithReceiptKey(k, report, []byte("a face"))
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != protocol.ReceiptKeySize {
			t.Fatalf("%s: receipt key of %d bytes", kem, len(key))
		}
		// Negative first: a changed ciphertext, another report, a short one.
		tampered := bytes.Clone(ct)
		tampered[len(tampered)-1] ^= 1
		if _, _, err := Open(s, priv, info, tampered); err == nil {
			t.Fatalf("%s: a tampered ciphertext opened", kem)
		}
		if _, _, err := Open(s, priv, protocol.EnrollInfo(make([]byte, protocol.ReportSize)), ct); err == nil {
			t.Fatalf("%s: opened with another report's info", kem)
		}
		if _, _, err := Open(s, priv, info, ct[:s.EncSize]); !errors.Is(err, ErrShortCiphertext) {
			t.Fatalf("%s: a ciphertext with no payload: %v", kem, err)
		}
		pt, rkey, err := Open(s, priv, info, ct)
		if err != nil || string(pt) != "a face" {
			t.Fatalf("%s: open: %q, %v", kem, pt, err)
		}
		if !bytes.Equal(rkey, key) {
			t.Fatalf("%s: recipient's receipt key %x, sender's %x", kem, rkey, key)
		}
		// One-shot hpke.Open still opens it: the format is unchanged.
		if _, err := hpke.Open(priv, s.KDF, s.AEAD, info, ct); err != nil {
			t.Fatalf("%s: hpke.Open: %v", kem, err)
		}
		_, key2, _ := SealWithReceiptKey(k, report, []byte("a face"))
		if bytes.Equal(key, key2) {
			t.Fatalf("%s: two uploads share a receipt key", kem)
		}
	}
}
