package endian

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestMatchesEncodingBinary: every function against encoding/binary, on
// edge values and random ones, at offset 0 and inside a longer slice.
func TestMatchesEncodingBinary(t *testing.T) {
	values := []uint64{0, 1, 0xff, 0x100, 0xffff, 0x10000, 0xdeadbeef, 0xffffffff, 1 << 32, 0x0123456789abcdef, ^uint64(0)}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		values = append(values, r.Uint64())
	}
	for _, v := range values {
		for _, off := range []int{0, 3} {
			got, want := make([]byte, 16), make([]byte, 16)
			LittleEndian.PutUint16(got[off:], uint16(v))
			binary.LittleEndian.PutUint16(want[off:], uint16(v))
			LittleEndian.PutUint32(got[off+2:], uint32(v))
			binary.LittleEndian.PutUint32(want[off+2:], uint32(v))
			if string(got) != string(want) {
				t.Fatalf("PutUint16/32(%#x) at %d: %x, encoding/binary %x", v, off, got, want)
			}
			LittleEndian.PutUint64(got[off:], v)
			binary.LittleEndian.PutUint64(want[off:], v)
			if string(got) != string(want) {
				t.Fatalf("PutUint64(%#x) at %d: %x, encoding/binary %x", v, off, got, want)
			}
			if LittleEndian.Uint16(got[off:]) != binary.LittleEndian.Uint16(got[off:]) ||
				LittleEndian.Uint32(got[off:]) != binary.LittleEndian.Uint32(got[off:]) ||
				LittleEndian.Uint64(got[off:]) != binary.LittleEndian.Uint64(got[off:]) {
				t.Fatalf("reading %x at %d differs from encoding/binary", got, off)
			}
			prefix := []byte{9, 8}
			if a, b := BigEndian.AppendUint32(prefix, uint32(v)), binary.BigEndian.AppendUint32(prefix, uint32(v)); string(a) != string(b) {
				t.Fatalf("AppendUint32(%#x): %x, encoding/binary %x", v, a, b)
			}
		}
	}
}

// TestShortSlicesPanicLikeEncodingBinary: a short slice panics in both, so a
// caller's missing length check shows the same way.
func TestShortSlicesPanicLikeEncodingBinary(t *testing.T) {
	panics := func(f func()) (p bool) {
		defer func() { p = recover() != nil }()
		f()
		return false
	}
	short := make([]byte, 1)
	for name, f := range map[string]func(){
		"Uint16": func() { LittleEndian.Uint16(short) }, "Uint32": func() { LittleEndian.Uint32(short[:3]) },
		"Uint64": func() { LittleEndian.Uint64(make([]byte, 7)) }, "PutUint16": func() { LittleEndian.PutUint16(short, 1) },
		"PutUint32": func() { LittleEndian.PutUint32(make([]byte, 3), 1) }, "PutUint64": func() { LittleEndian.PutUint64(make([]byte, 7), 1) },
	} {
		if !panics(f) {
			t.Errorf("%s on a short slice did not panic", name)
		}
	}
}
