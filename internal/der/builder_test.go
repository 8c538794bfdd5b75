package der

import (
	"bytes"
	encasn1 "encoding/asn1"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// op is one step of a build, applied to both builders.
type op struct {
	kind     int
	n        uint64
	bytes    []byte
	tag      Tag
	oid      OID
	children []op
}

const (
	opBytes = iota
	opUint8
	opUint16
	opUint64
	opNULL
	opBitString
	opOID
	opUint16Prefixed
	opUint24Prefixed
	opASN1
	opKinds
)

func randomOps(rng *rand.Rand, depth int) []op {
	var ops []op
	for range rng.IntN(5) {
		o := op{kind: rng.IntN(opKinds)}
		if depth > 3 && o.kind >= opUint16Prefixed {
			o.kind = opBytes
		}
		switch o.kind {
		case opBytes, opBitString:
			o.bytes = make([]byte, []int{0, 1, 5, 127, 128, 300}[rng.IntN(6)])
			for i := range o.bytes {
				o.bytes[i] = byte(rng.IntN(256))
			}
		case opUint8, opUint16, opUint64:
			o.n = rng.Uint64()
		case opOID:
			// Mostly valid, sometimes not: short, first arc 3, second 40,
			// negative arcs, large arcs.
			o.oid = OID{rng.IntN(4), rng.IntN(45)}
			for range rng.IntN(5) {
				o.oid = append(o.oid, []int{0, 1, 127, 128, 16383, 16384, 1 << 31, -1}[rng.IntN(8)])
			}
			if rng.IntN(10) == 0 {
				o.oid = o.oid[:rng.IntN(2)]
			}
		case opASN1:
			o.tag = Tag(rng.IntN(256))
			if rng.IntN(2) == 0 {
				o.tag = []Tag{SEQUENCE, SET, INTEGER, OCTET_STRING, Tag(3).ContextSpecific().Constructed()}[rng.IntN(5)]
			}
			fallthrough
		case opUint16Prefixed, opUint24Prefixed:
			o.children = randomOps(rng, depth+1)
		}
		ops = append(ops, o)
	}
	return ops
}

func applyDER(b *Builder, ops []op) {
	for _, o := range ops {
		switch o.kind {
		case opBytes:
			b.AddBytes(o.bytes)
		case opUint8:
			b.AddUint8(uint8(o.n))
		case opUint16:
			b.AddUint16(uint16(o.n))
		case opUint64:
			b.AddUint64(o.n)
		case opNULL:
			b.AddASN1NULL()
		case opBitString:
			b.AddASN1BitString(o.bytes)
		case opOID:
			b.AddASN1ObjectIdentifier(o.oid)
		case opUint16Prefixed:
			b.AddUint16LengthPrefixed(func(b *Builder) { applyDER(b, o.children) })
		case opUint24Prefixed:
			b.AddUint24LengthPrefixed(func(b *Builder) { applyDER(b, o.children) })
		case opASN1:
			b.AddASN1(o.tag, func(b *Builder) { applyDER(b, o.children) })
		}
	}
}

func applyCryptobyte(b *cryptobyte.Builder, ops []op) {
	for _, o := range ops {
		switch o.kind {
		case opBytes:
			b.AddBytes(o.bytes)
		case opUint8:
			b.AddUint8(uint8(o.n))
		case opUint16:
			b.AddUint16(uint16(o.n))
		case opUint64:
			b.AddUint64(o.n)
		case opNULL:
			b.AddASN1NULL()
		case opBitString:
			b.AddASN1BitString(o.bytes)
		case opOID:
			b.AddASN1ObjectIdentifier(encasn1.ObjectIdentifier(o.oid))
		case opUint16Prefixed:
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { applyCryptobyte(b, o.children) })
		case opUint24Prefixed:
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { applyCryptobyte(b, o.children) })
		case opASN1:
			b.AddASN1(cbasn1.Tag(o.tag), func(b *cryptobyte.Builder) { applyCryptobyte(b, o.children) })
		}
	}
}

func compareBuild(t *testing.T, ops []op) {
	t.Helper()
	var a Builder
	var b cryptobyte.Builder
	applyDER(&a, ops)
	applyCryptobyte(&b, ops)
	aout, aerr := a.Bytes()
	bout, berr := b.Bytes()
	if (aerr != nil) != (berr != nil) || !bytes.Equal(aout, bout) {
		t.Fatalf("build %+v:\nder        %x, %v\ncryptobyte %x, %v", ops, aout, aerr, bout, berr)
	}
}

// TestBuilderSameAsCryptobyte: random builds, valid and not, give the same
// bytes or both fail.
func TestBuilderSameAsCryptobyte(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 20000
	if testing.Short() {
		n = 3000
	}
	fails := 0
	for range n {
		ops := randomOps(rng, 0)
		var a Builder
		applyDER(&a, ops)
		if _, err := a.Bytes(); err != nil {
			fails++
		}
		compareBuild(t, ops)
	}
	if fails == 0 || fails == n {
		t.Fatalf("%d of %d random builds failed: the generator does not cover both outcomes", fails, n)
	}
}

// TestBuilderRejects: each rule, with a build that breaks it.
func TestBuilderRejects(t *testing.T) {
	big16 := make([]byte, 1<<16)
	for name, ops := range map[string][]op{
		"uint16 vector of 65536": {{kind: opUint16Prefixed, children: []op{{kind: opBytes, bytes: big16}}}},
		"uint24 vector of 2^24":  {{kind: opUint24Prefixed, children: []op{{kind: opBytes, bytes: make([]byte, 1<<24)}}}},
		"nested overflow":        {{kind: opASN1, tag: SEQUENCE, children: []op{{kind: opUint16Prefixed, children: []op{{kind: opBytes, bytes: big16}}}}}},
		"high tag number":        {{kind: opASN1, tag: 0x1f}},
		"OID with one arc":       {{kind: opOID, oid: OID{1}}},
		"OID first arc 3":        {{kind: opOID, oid: OID{3, 1}}},
		"OID 1.40":               {{kind: opOID, oid: OID{1, 40}}},
		"OID negative arc":       {{kind: opOID, oid: OID{1, 2, -1}}},
	} {
		var b Builder
		applyDER(&b, ops)
		if out, err := b.Bytes(); err == nil {
			t.Errorf("%s: built %x", name, out[:min(len(out), 16)])
		}
		compareBuild(t, ops)
	}
	// The largest vectors that fit are built.
	var b Builder
	b.AddUint16LengthPrefixed(func(b *Builder) { b.AddBytes(big16[1:]) })
	if out, err := b.Bytes(); err != nil || len(out) != 1<<16+1 || out[0] != 0xff || out[1] != 0xff {
		t.Errorf("uint16 vector of 65535: %v", err)
	}
}

// TestTLSReadsSameAsCryptobyte: sequences of the TLS reads over random and
// truncated input succeed or fail as cryptobyte's do, with the same values
// and the same input left.
func TestTLSReadsSameAsCryptobyte(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		in := make([]byte, rng.IntN(40))
		for i := range in {
			in[i] = byte(rng.IntN(256))
			if rng.IntN(3) == 0 {
				in[i] = byte(rng.IntN(8))
			}
		}
		a, b := String(in), cryptobyte.String(in)
		for range 8 {
			var aok, bok bool
			var av, bv any
			switch k := rng.IntN(5); k {
			case 0:
				var x, y uint8
				aok, bok = a.ReadUint8(&x), b.ReadUint8(&y)
				av, bv = x, y
			case 1:
				var x, y uint16
				aok, bok = a.ReadUint16(&x), b.ReadUint16(&y)
				av, bv = x, y
			case 2:
				var x, y uint64
				aok, bok = a.ReadUint64(&x), b.ReadUint64(&y)
				av, bv = x, y
			case 3:
				var x, y []byte
				n := rng.IntN(12)
				aok, bok = a.ReadBytes(&x, n), b.ReadBytes(&y, n)
				av, bv = string(x), string(y)
			case 4:
				var x String
				var y cryptobyte.String
				aok, bok = a.ReadUint16LengthPrefixed(&x), b.ReadUint16LengthPrefixed(&y)
				av, bv = string(x), string(y)
			}
			if aok != bok || aok && (av != bv || !bytes.Equal(a, b)) {
				t.Fatalf("%x: der %v %v rest %x, cryptobyte %v %v rest %x", in, aok, av, []byte(a), bok, bv, []byte(b))
			}
			if !aok {
				// cryptobyte drops a vector's length prefix when the
				// vector is truncated; der leaves the input as it was
				// (TestTLSReadsReject). Callers stop at a failed read.
				break
			}
		}
	}
}

// TestTLSReadsReject: truncated reads fail and do not advance.
func TestTLSReadsReject(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		read func(*String) bool
	}{
		"uint8 of nothing":         {"", func(s *String) bool { var v uint8; return s.ReadUint8(&v) }},
		"uint16 of 1 byte":         {"01", func(s *String) bool { var v uint16; return s.ReadUint16(&v) }},
		"uint64 of 7 bytes":        {"01020304050607", func(s *String) bool { var v uint64; return s.ReadUint64(&v) }},
		"32 bytes of 31":           {string(bytes.Repeat([]byte("ab"), 31)), func(s *String) bool { var v []byte; return s.ReadBytes(&v, 32) }},
		"negative count":           {"0102", func(s *String) bool { var v []byte; return s.ReadBytes(&v, -1) }},
		"vector longer than input": {"000301", func(s *String) bool { var v String; return s.ReadUint16LengthPrefixed(&v) }},
		"vector without length":    {"00", func(s *String) bool { var v String; return s.ReadUint16LengthPrefixed(&v) }},
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
	s := String(mustHex(t, "07"+"0102"+"0000000000000100"+"0002abcd"+"ee"))
	var u8 uint8
	var u16 uint16
	var u64 uint64
	var vec String
	var rest []byte
	if !s.ReadUint8(&u8) || !s.ReadUint16(&u16) || !s.ReadUint64(&u64) || !s.ReadUint16LengthPrefixed(&vec) ||
		!s.ReadBytes(&rest, 1) || !s.Empty() || u8 != 7 || u16 != 0x102 || u64 != 256 || string(vec) != "\xab\xcd" || rest[0] != 0xee {
		t.Errorf("reads: %d %d %d %x %x", u8, u16, u64, []byte(vec), rest)
	}
}
