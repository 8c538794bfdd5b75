package sha2

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// impl is one hash of pure.go under test, whatever build this is, and its
// oracle in the standard library.
type impl struct {
	name   string
	sum    func([]byte) []byte
	new    func() hash.Hash
	oracle func() hash.Hash
}

var impls = []impl{
	{"SHA-256", func(b []byte) []byte { s := pureSum256(b); return s[:] }, func() hash.Hash { return newPure256() }, sha256.New},
	{"SHA-384", func(b []byte) []byte { s := pureSum384(b); return s[:] }, func() hash.Hash { return newPure512(Size384) }, sha512.New384},
	{"SHA-512", func(b []byte) []byte { s := pureSum512(b); return s[:] }, func() hash.Hash { return newPure512(Size512) }, sha512.New},
}

// FIPS 180-4 examples (NIST CSRC "Examples with intermediate values") and
// the one-million-"a" message of FIPS 180-2 appendix B/C/D.
var vectors = []struct{ alg, msg, want string }{
	{"SHA-256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	{"SHA-256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	{"SHA-256", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	{"SHA-256", strings.Repeat("a", 1000000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
	{"SHA-384", "", "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"},
	{"SHA-384", "abc", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
	{"SHA-384", "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039"},
	{"SHA-384", strings.Repeat("a", 1000000), "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985"},
	{"SHA-512", "", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
	{"SHA-512", "abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
	{"SHA-512", "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"},
	{"SHA-512", strings.Repeat("a", 1000000), "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		for _, im := range impls {
			if im.name != v.alg {
				continue
			}
			if got := hex.EncodeToString(im.sum([]byte(v.msg))); got != v.want {
				t.Errorf("%s Sum of %d bytes = %s, want %s", v.alg, len(v.msg), got, v.want)
			}
			// The same message written one byte, then 7, then the rest.
			h := im.new()
			m := []byte(v.msg)
			for _, n := range []int{1, 7} {
				if len(m) >= n {
					h.Write(m[:n])
					m = m[n:]
				}
			}
			h.Write(m)
			if got := hex.EncodeToString(h.Sum(nil)); got != v.want {
				t.Errorf("%s streamed %d bytes = %s, want %s", v.alg, len(v.msg), got, v.want)
			}
		}
	}
}

// TestExported checks that the package's functions, whichever
// implementation this build forwards to, give the standard library's
// digests and report the right sizes.
func TestExported(t *testing.T) {
	msg := []byte("cvmtrust-evidence-v1")
	if got, want := Sum256(msg), sha256.Sum256(msg); got != want {
		t.Errorf("Sum256 = %x, want %x", got, want)
	}
	if got, want := Sum384(msg), sha512.Sum384(msg); got != want {
		t.Errorf("Sum384 = %x, want %x", got, want)
	}
	if got, want := Sum512(msg), sha512.Sum512(msg); got != want {
		t.Errorf("Sum512 = %x, want %x", got, want)
	}
	for _, c := range []struct {
		h           hash.Hash
		size, block int
		want        []byte
	}{
		{New256(), Size256, BlockSize256, sha256.New().Sum(nil)},
		{New384(), Size384, BlockSize512, sha512.New384().Sum(nil)},
		{New512(), Size512, BlockSize512, sha512.New().Sum(nil)},
		{newPure256(), Size256, BlockSize256, sha256.New().Sum(nil)},
		{newPure512(Size384), Size384, BlockSize512, sha512.New384().Sum(nil)},
		{newPure512(Size512), Size512, BlockSize512, sha512.New().Sum(nil)},
	} {
		if c.h.Size() != c.size || c.h.BlockSize() != c.block {
			t.Errorf("%T: Size %d BlockSize %d, want %d %d", c.h, c.h.Size(), c.h.BlockSize(), c.size, c.block)
		}
		if got := c.h.Sum(nil); !bytes.Equal(got, c.want) {
			t.Errorf("%T of nothing = %x, want %x", c.h, got, c.want)
		}
	}
}

// differential hashes msg with both implementations: in one call, and
// written in the pieces cuts gives, with Sum taken midway (Sum must not
// change the state) and after Reset.
func differential(t *testing.T, im impl, msg []byte, cuts []int) {
	t.Helper()
	o := im.oracle()
	o.Write(msg)
	want := o.Sum(nil)
	if got := im.sum(msg); !bytes.Equal(got, want) {
		t.Fatalf("%s Sum of %d bytes = %x, want %x", im.name, len(msg), got, want)
	}
	h := im.new()
	h.Write([]byte("left over before Reset"))
	h.Reset()
	rest := msg
	for _, c := range cuts {
		c = min(c, len(rest))
		h.Write(rest[:c])
		rest = rest[c:]
		o := im.oracle()
		o.Write(msg[:len(msg)-len(rest)])
		if got, want := h.Sum([]byte{0xaa}), o.Sum([]byte{0xaa}); !bytes.Equal(got, want) {
			t.Fatalf("%s after %d of %d bytes (cuts %v) = %x, want %x", im.name, len(msg)-len(rest), len(msg), cuts, got, want)
		}
	}
	h.Write(rest)
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		t.Fatalf("%s streamed %d bytes in pieces %v = %x, want %x", im.name, len(msg), cuts, got, want)
	}
}

func TestDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var lengths []int
	// Every length up to three SHA-512 blocks covers each padding case
	// (the length fits in the last block or needs another) of both sizes.
	for n := 0; n <= 3*BlockSize512+1; n++ {
		lengths = append(lengths, n)
	}
	for range 200 {
		lengths = append(lengths, rng.IntN(20000))
	}
	lengths = append(lengths, 4096, 1<<16, 1<<16+BlockSize512-17)
	for _, im := range impls {
		for _, n := range lengths {
			msg := make([]byte, n)
			for i := range msg {
				msg[i] = byte(rng.Uint32())
			}
			var cuts []int
			for range rng.IntN(5) {
				cuts = append(cuts, rng.IntN(2*BlockSize512+2))
			}
			differential(t, im, msg, cuts)
		}
	}
}

func FuzzDifferential(f *testing.F) {
	f.Add([]byte("abc"), uint16(1), uint16(0))
	f.Add(bytes.Repeat([]byte{0x80}, 300), uint16(55), uint16(64))
	f.Add(bytes.Repeat([]byte{0}, 240), uint16(111), uint16(128))
	f.Fuzz(func(t *testing.T, msg []byte, cut1, cut2 uint16) {
		for _, im := range impls {
			differential(t, im, msg, []int{int(cut1), int(cut2)})
		}
	})
}

// The benchmarks compare pure.go with the standard library on the sizes
// the callers hash: a 4 KiB page (the launch digest hashes every page of
// the firmware with SHA-384) and a 1184-byte report. With -tags purego the
// standard library runs its generic Go code, which is what it runs in
// wasm; without it, its assembly.
func benchSum(b *testing.B, n int, sum func([]byte)) {
	msg := make([]byte, n)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		sum(msg)
	}
}

func BenchmarkSHA256(b *testing.B) {
	for _, n := range []int{1184, 4096} {
		b.Run("pure/"+strconv.Itoa(n), func(b *testing.B) { benchSum(b, n, func(m []byte) { pureSum256(m) }) })
		b.Run("stdlib/"+strconv.Itoa(n), func(b *testing.B) { benchSum(b, n, func(m []byte) { sha256.Sum256(m) }) })
	}
}

func BenchmarkSHA384(b *testing.B) {
	for _, n := range []int{1184, 4096} {
		b.Run("pure/"+strconv.Itoa(n), func(b *testing.B) { benchSum(b, n, func(m []byte) { pureSum384(m) }) })
		b.Run("stdlib/"+strconv.Itoa(n), func(b *testing.B) { benchSum(b, n, func(m []byte) { sha512.Sum384(m) }) })
	}
}

func BenchmarkSHA512(b *testing.B) {
	for _, n := range []int{1184} {
		b.Run("pure/"+strconv.Itoa(n), func(b *testing.B) { benchSum(b, n, func(m []byte) { pureSum512(m) }) })
		b.Run("stdlib/"+strconv.Itoa(n), func(b *testing.B) { benchSum(b, n, func(m []byte) { sha512.Sum512(m) }) })
	}
}
