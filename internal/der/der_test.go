package der

import (
	"bytes"
	encasn1 "encoding/asn1"
	"encoding/pem"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The oracle is cryptobyte: every read here must succeed or fail as
// cryptobyte's does and give the same value, except that times are only
// accepted in the forms RFC 5280 allows (cryptobyte also takes offsets and
// UTCTime without seconds).

// walk reads s as a tree of elements with both readers and reports the first
// difference. Every primitive is also read as each typed value.
func walk(t *testing.T, in []byte, depth int) {
	t.Helper()
	a, b := String(in), cryptobyte.String(in)
	for !a.Empty() || !b.Empty() {
		if depth > 32 {
			return
		}
		// Typed reads on the next element, on copies.
		compareTyped(t, a, b)
		var av String
		var bv cryptobyte.String
		var at Tag
		var bt cbasn1.Tag
		aok, bok := a.ReadAnyASN1(&av, &at), b.ReadAnyASN1(&bv, &bt)
		if aok != bok {
			t.Fatalf("ReadAnyASN1(%x): der %v, cryptobyte %v", []byte(in), aok, bok)
		}
		if !aok {
			return
		}
		if byte(at) != byte(bt) || !bytes.Equal(av, bv) || len(a) != len(b) {
			t.Fatalf("ReadAnyASN1(%x): der tag %x %x, cryptobyte tag %x %x", []byte(in), at, []byte(av), bt, []byte(bv))
		}
		if at&classConstructed != 0 {
			walk(t, av, depth+1)
		}
	}
}

func compareTyped(t *testing.T, a String, b cryptobyte.String) {
	t.Helper()
	if len(a) == 0 {
		return
	}
	tag := Tag(a[0])
	{
		a, b := a, b
		var ae String
		var be cryptobyte.String
		var at Tag
		var bt cbasn1.Tag
		aok, bok := a.ReadAnyASN1Element(&ae, &at), b.ReadAnyASN1Element(&be, &bt)
		if aok != bok || aok && (byte(at) != byte(bt) || !bytes.Equal(ae, be) || len(a) != len(b)) {
			t.Fatalf("ReadAnyASN1Element(%x): der %v, cryptobyte %v", []byte(a), aok, bok)
		}
	}
	{
		a, b := a, b
		var ai, bi int64
		aok, bok := a.ReadASN1Int64WithTag(&ai, tag), b.ReadASN1Int64WithTag(&bi, cbasn1.Tag(tag))
		if aok != bok || aok && (ai != bi || len(a) != len(b)) {
			t.Fatalf("ReadASN1Int64WithTag(%x): der %v %d, cryptobyte %v %d", []byte(a), aok, ai, bok, bi)
		}
	}
	{
		a, b := a, b
		var ao OID
		var bo encasn1.ObjectIdentifier
		aok, bok := a.ReadASN1ObjectIdentifier(&ao), b.ReadASN1ObjectIdentifier(&bo)
		if aok != bok || aok && (ao.String() != bo.String() || !ao.Equal(OID(bo)) || len(a) != len(b)) {
			t.Fatalf("ReadASN1ObjectIdentifier(%x): der %v %v, cryptobyte %v %v", []byte(a), aok, ao, bok, bo)
		}
	}
	{
		a, b := a, b
		var abs BitString
		var bbs encasn1.BitString
		aok, bok := a.ReadASN1BitString(&abs), b.ReadASN1BitString(&bbs)
		if aok != bok || aok && (abs.BitLength != bbs.BitLength || !bytes.Equal(abs.Bytes, bbs.Bytes)) {
			t.Fatalf("ReadASN1BitString(%x): der %v, cryptobyte %v", []byte(a), aok, bok)
		}
	}
	for _, utc := range []bool{true, false} {
		a, b := a, b
		var at, bt time.Time
		var aok, bok bool
		if utc {
			aok, bok = a.ReadASN1UTCTime(&at), b.ReadASN1UTCTime(&bt)
		} else {
			aok, bok = a.ReadASN1GeneralizedTime(&at), b.ReadASN1GeneralizedTime(&bt)
		}
		switch {
		case aok && !bok:
			t.Fatalf("time(%x): der accepts %v, cryptobyte refuses", []byte(a), at)
		case aok && (!at.Equal(bt) || len(a) != len(b)):
			t.Fatalf("time(%x): der %v, cryptobyte %v", []byte(a), at, bt)
		case bok && !aok:
			// Only a form RFC 5280 excludes: an offset or no seconds.
			var body cryptobyte.String
			bb := cryptobyte.String(a)
			bb.ReadAnyASN1(&body, nil)
			if n := len(body); n > 0 && body[n-1] == 'Z' && (utc && n == 13 || !utc && n == 15) {
				t.Fatalf("time(%x): cryptobyte accepts %v, der refuses", []byte(a), bt)
			}
		}
	}
}

// corpus returns the DER of every certificate and CRL under testdata/kds.
func corpus(t testing.TB) [][]byte {
	var out [][]byte
	root := filepath.Join("..", "..", "testdata", "kds")
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch filepath.Ext(path) {
		case ".der", ".crl":
			out = append(out, b)
		case ".pem":
			for {
				var block *pem.Block
				if block, b = pem.Decode(b); block == nil {
					break
				}
				out = append(out, block.Bytes)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 5 {
		t.Fatalf("only %d DER documents under %s", len(out), root)
	}
	return out
}

func TestSameAsCryptobyteOnRealCertificates(t *testing.T) {
	for _, d := range corpus(t) {
		walk(t, d, 0)
	}
}

// TestSameAsCryptobyteOnMutations: one to three bytes of real certificates
// changed, deterministically, and every element read by both.
func TestSameAsCryptobyteOnMutations(t *testing.T) {
	docs := corpus(t)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 3000
	}
	for range n {
		d := bytes.Clone(docs[rng.IntN(len(docs))])
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(d))
			switch rng.IntN(4) {
			case 0:
				d[i] = byte(rng.IntN(256))
			case 1:
				d[i] ^= 0x80
			case 2:
				d[i]++
			default:
				d = d[:i]
			}
			if len(d) == 0 {
				break
			}
		}
		walk(t, d, 0)
	}
}

// TestRejects: each DER rule, with an encoding that breaks it.
func TestRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		read func(*String) bool
	}{
		"truncated":               {"3004020101", func(s *String) bool { var v String; return s.ReadASN1(&v, SEQUENCE) }},
		"high tag number":         {"1f0100", func(s *String) bool { var v String; var tg Tag; return s.ReadAnyASN1(&v, &tg) }},
		"indefinite length":       {"30800000", func(s *String) bool { var v String; return s.ReadASN1(&v, SEQUENCE) }},
		"long form below 128":     {"3081050203010001", func(s *String) bool { var v String; return s.ReadASN1(&v, SEQUENCE) }},
		"length with leading 0":   {"308200" + "80" + string(bytes.Repeat([]byte("00"), 128)), func(s *String) bool { var v String; return s.ReadASN1(&v, SEQUENCE) }},
		"length of 5 octets":      {"30850000000001" + "00", func(s *String) bool { var v String; return s.ReadASN1(&v, SEQUENCE) }},
		"other tag":               {"310100", func(s *String) bool { var v String; return s.ReadASN1(&v, SEQUENCE) }},
		"empty integer":           {"0200", func(s *String) bool { var v int64; return s.ReadASN1Int64WithTag(&v, INTEGER) }},
		"integer with leading 00": {"02020001", func(s *String) bool { var v int64; return s.ReadASN1Int64WithTag(&v, INTEGER) }},
		"integer with leading ff": {"0202ff80", func(s *String) bool { var v int64; return s.ReadASN1Int64WithTag(&v, INTEGER) }},
		"integer over 64 bits":    {"0209010000000000000000", func(s *String) bool { var v int64; return s.ReadASN1Int64WithTag(&v, INTEGER) }},
		"empty OID":               {"0600", func(s *String) bool { var v OID; return s.ReadASN1ObjectIdentifier(&v) }},
		"OID arc with leading 80": {"06032a8001", func(s *String) bool { var v OID; return s.ReadASN1ObjectIdentifier(&v) }},
		"OID arc truncated":       {"06022a86", func(s *String) bool { var v OID; return s.ReadASN1ObjectIdentifier(&v) }},
		"OID arc over 31 bits":    {"06062a8880808000", func(s *String) bool { var v OID; return s.ReadASN1ObjectIdentifier(&v) }},
		"bit string empty":        {"0300", func(s *String) bool { var v BitString; return s.ReadASN1BitString(&v) }},
		"bit string pad 8":        {"030208ff", func(s *String) bool { var v BitString; return s.ReadASN1BitString(&v) }},
		"bit string pad not zero": {"030201ff", func(s *String) bool { var v BitString; return s.ReadASN1BitString(&v) }},
		"bit string pad, no bits": {"030101", func(s *String) bool { var v BitString; return s.ReadASN1BitString(&v) }},
		"UTCTime with offset":     {"17113235303130313030303030302b30313030", func(s *String) bool { var v time.Time; return s.ReadASN1UTCTime(&v) }},
		"UTCTime without seconds": {"170b323530313031303030305a", func(s *String) bool { var v time.Time; return s.ReadASN1UTCTime(&v) }},
		"UTCTime 31 April":        {"170d3235303433313030303030305a", func(s *String) bool { var v time.Time; return s.ReadASN1UTCTime(&v) }},
		"UTCTime hour 24":         {"170d3235303130313234303030305a", func(s *String) bool { var v time.Time; return s.ReadASN1UTCTime(&v) }},
		"UTCTime not digits":      {"170d32353031303131323030302b5a", func(s *String) bool { var v time.Time; return s.ReadASN1UTCTime(&v) }},
		"GeneralizedTime frac":    {"1811323032353031303130303030302e315a", func(s *String) bool { var v time.Time; return s.ReadASN1GeneralizedTime(&v) }},
		"GeneralizedTime month 0": {"180f32303235303030313030303030305a", func(s *String) bool { var v time.Time; return s.ReadASN1GeneralizedTime(&v) }},
	} {
		in := mustHex(t, tc.in)
		s := String(in)
		if tc.read(&s) {
			t.Errorf("%s: %x was accepted", name, in)
		}
		if !bytes.Equal(s, in) {
			t.Errorf("%s: a failed read advanced the input", name)
		}
	}
}

func TestReads(t *testing.T) {
	s := String(mustHex(t, "170d3530303130313030303030305a"+"170d3439313233313233353935395a"+"180f32303530303130313030303030305a"))
	var a, b, c time.Time
	if !s.ReadASN1UTCTime(&a) || !s.ReadASN1UTCTime(&b) || !s.ReadASN1GeneralizedTime(&c) || !s.Empty() {
		t.Fatal("valid times refused")
	}
	for got, want := range map[time.Time]time.Time{
		a: time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC),
		b: time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC),
		c: time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if !got.Equal(want) {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	o := String(mustHex(t, "06052b81040022"))
	var oid OID
	if !o.ReadASN1ObjectIdentifier(&oid) || oid.String() != "1.3.132.0.34" {
		t.Errorf("OID: %v", oid)
	}
	i := String(mustHex(t, "0201ff"+"020200ff"))
	var x, y int64
	if !i.ReadASN1Int64WithTag(&x, INTEGER) || !i.ReadASN1Int64WithTag(&y, INTEGER) || x != -1 || y != 255 {
		t.Errorf("integers: %d %d", x, y)
	}
	// Reading into the String being read descends into it, as cryptobyte's does.
	seq := String(mustHex(t, "3003020105"))
	if !seq.ReadASN1(&seq, SEQUENCE) || !bytes.Equal(seq, mustHex(t, "020105")) {
		t.Errorf("ReadASN1(&s): %x", []byte(seq))
	}
}

// TestRSAEncryptionSPKI: the same bytes as cryptobyte's Builder, for short
// and long keys.
func TestRSAEncryptionSPKI(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 100, 127, 128, 255, 256, 526, 1000, 65535, 65536, 70000} {
		key := make([]byte, n)
		for i := range key {
			key[i] = byte(rng.IntN(256))
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(encasn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1})
				b.AddASN1NULL()
			})
			b.AddASN1BitString(key)
		})
		want, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if got := RSAEncryptionSPKI(key); !bytes.Equal(got, want) {
			t.Errorf("%d-byte key: %x, want %x", n, got[:min(len(got), 32)], want[:min(len(want), 32)])
		}
	}
}

func FuzzSameAsCryptobyte(f *testing.F) {
	for _, d := range corpus(f) {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, in []byte) { walk(t, in, 0) })
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	var out []byte
	for i := 0; i+1 < len(s); i += 2 {
		var v byte
		for _, c := range s[i : i+2] {
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 | byte(c-'0')
			case c >= 'a' && c <= 'f':
				v = v<<4 | byte(c-'a'+10)
			default:
				t.Fatalf("bad hex %q", s)
			}
		}
		out = append(out, v)
	}
	return out
}
