package sha2

import (
	"hash"
	"math/bits"
)

// The implementation the js/wasm build uses (FIPS 180-4, sections 5 and 6),
// built and tested everywhere. It imports only hash and math/bits: no
// encoding/binary (which links reflect), nothing under crypto/.

var iv256 = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

var iv384 = [8]uint64{
	0xcbbb9d5dc1059ed8, 0x629a292a367cd507, 0x9159015a3070dd17, 0x152fecd8f70e5939,
	0x67332667ffc00b31, 0x8eb44a8768581511, 0xdb0c2e0d64f98fa7, 0x47b5481dbefa4fa4,
}

var iv512 = [8]uint64{
	0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
	0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
}

var k256 = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

var k512 = [80]uint64{
	0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
	0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
	0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
	0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
	0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
	0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
	0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
	0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
	0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
	0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
	0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
	0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
	0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
	0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
	0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
	0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
	0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
	0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
	0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
	0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
}

// digest256 is a SHA-256 state: the chaining value, a partial block and
// the number of bytes written.
type digest256 struct {
	h   [8]uint32
	x   [BlockSize256]byte
	nx  int
	len uint64
}

func newPure256() *digest256 {
	d := new(digest256)
	d.Reset()
	return d
}

func (d *digest256) Reset() {
	d.h = iv256
	d.nx = 0
	d.len = 0
}

func (d *digest256) Size() int      { return Size256 }
func (d *digest256) BlockSize() int { return BlockSize256 }

// Write is written out again for digest512, as crypto/sha256 and
// crypto/sha512 each have their own: the two differ in block size and
// block function, and a generic copy would go through type parameters in
// the browser build's hottest loop.
func (d *digest256) Write(p []byte) (int, error) {
	n := len(p)
	d.len += uint64(n)
	if d.nx > 0 {
		c := copy(d.x[d.nx:], p)
		d.nx += c
		p = p[c:]
		if d.nx < BlockSize256 {
			return n, nil
		}
		block256(&d.h, d.x[:])
		d.nx = 0
	}
	if full := len(p) &^ (BlockSize256 - 1); full > 0 {
		block256(&d.h, p[:full])
		p = p[full:]
	}
	d.nx = copy(d.x[:], p)
	return n, nil
}

// Sum appends the digest of what was written so far; d stays as it was.
func (d *digest256) Sum(b []byte) []byte {
	c := *d
	s := c.checkSum()
	return append(b, s[:]...)
}

// checkSum pads and finishes d (FIPS 180-4, 5.1.1): 0x80, zeros to 56 mod
// 64 bytes, the bit length as a 64-bit big-endian integer.
func (d *digest256) checkSum() [Size256]byte {
	bitLen := d.len << 3
	var pad [BlockSize256 + 8]byte
	pad[0] = 0x80
	n := 56 - int(d.len%BlockSize256)
	if n <= 0 {
		n += BlockSize256
	}
	putUint64(pad[n:], bitLen)
	d.Write(pad[:n+8])
	var out [Size256]byte
	for i, v := range d.h {
		putUint32(out[4*i:], v)
	}
	return out
}

func pureSum256(data []byte) [Size256]byte {
	var d digest256
	d.Reset()
	d.Write(data)
	return d.checkSum()
}

// block256 runs the compression function over every 64-byte block of p
// (FIPS 180-4, 6.2.2).
func block256(h *[8]uint32, p []byte) {
	var w [64]uint32
	h0, h1, h2, h3, h4, h5, h6, h7 := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for len(p) >= BlockSize256 {
		q := p[:BlockSize256]
		for i := range 16 {
			j := 4 * i
			w[i] = uint32(q[j])<<24 | uint32(q[j+1])<<16 | uint32(q[j+2])<<8 | uint32(q[j+3])
		}
		for i := 16; i < 64; i++ {
			v1, v2 := w[i-2], w[i-15]
			s1 := bits.RotateLeft32(v1, -17) ^ bits.RotateLeft32(v1, -19) ^ v1>>10
			s0 := bits.RotateLeft32(v2, -7) ^ bits.RotateLeft32(v2, -18) ^ v2>>3
			w[i] = s1 + w[i-7] + s0 + w[i-16]
		}
		a, b, c, dd, e, f, g, hh := h0, h1, h2, h3, h4, h5, h6, h7
		// Eight rounds per iteration, the roles of the working variables
		// rotating through the names instead of moving the values.
		var t1 uint32
		for i := 0; i < 64; i += 8 {
			k, ws := k256[i:i+8:i+8], w[i:i+8:i+8]
			t1 = hh + (bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)) + (e&f ^ ^e&g) + k[0] + ws[0]
			dd += t1
			hh = t1 + (bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)) + (a&b ^ a&c ^ b&c)
			t1 = g + (bits.RotateLeft32(dd, -6) ^ bits.RotateLeft32(dd, -11) ^ bits.RotateLeft32(dd, -25)) + (dd&e ^ ^dd&f) + k[1] + ws[1]
			c += t1
			g = t1 + (bits.RotateLeft32(hh, -2) ^ bits.RotateLeft32(hh, -13) ^ bits.RotateLeft32(hh, -22)) + (hh&a ^ hh&b ^ a&b)
			t1 = f + (bits.RotateLeft32(c, -6) ^ bits.RotateLeft32(c, -11) ^ bits.RotateLeft32(c, -25)) + (c&dd ^ ^c&e) + k[2] + ws[2]
			b += t1
			f = t1 + (bits.RotateLeft32(g, -2) ^ bits.RotateLeft32(g, -13) ^ bits.RotateLeft32(g, -22)) + (g&hh ^ g&a ^ hh&a)
			t1 = e + (bits.RotateLeft32(b, -6) ^ bits.RotateLeft32(b, -11) ^ bits.RotateLeft32(b, -25)) + (b&c ^ ^b&dd) + k[3] + ws[3]
			a += t1
			e = t1 + (bits.RotateLeft32(f, -2) ^ bits.RotateLeft32(f, -13) ^ bits.RotateLeft32(f, -22)) + (f&g ^ f&hh ^ g&hh)
			t1 = dd + (bits.RotateLeft32(a, -6) ^ bits.RotateLeft32(a, -11) ^ bits.RotateLeft32(a, -25)) + (a&b ^ ^a&c) + k[4] + ws[4]
			hh += t1
			dd = t1 + (bits.RotateLeft32(e, -2) ^ bits.RotateLeft32(e, -13) ^ bits.RotateLeft32(e, -22)) + (e&f ^ e&g ^ f&g)
			t1 = c + (bits.RotateLeft32(hh, -6) ^ bits.RotateLeft32(hh, -11) ^ bits.RotateLeft32(hh, -25)) + (hh&a ^ ^hh&b) + k[5] + ws[5]
			g += t1
			c = t1 + (bits.RotateLeft32(dd, -2) ^ bits.RotateLeft32(dd, -13) ^ bits.RotateLeft32(dd, -22)) + (dd&e ^ dd&f ^ e&f)
			t1 = b + (bits.RotateLeft32(g, -6) ^ bits.RotateLeft32(g, -11) ^ bits.RotateLeft32(g, -25)) + (g&hh ^ ^g&a) + k[6] + ws[6]
			f += t1
			b = t1 + (bits.RotateLeft32(c, -2) ^ bits.RotateLeft32(c, -13) ^ bits.RotateLeft32(c, -22)) + (c&dd ^ c&e ^ dd&e)
			t1 = a + (bits.RotateLeft32(f, -6) ^ bits.RotateLeft32(f, -11) ^ bits.RotateLeft32(f, -25)) + (f&g ^ ^f&hh) + k[7] + ws[7]
			e += t1
			a = t1 + (bits.RotateLeft32(b, -2) ^ bits.RotateLeft32(b, -13) ^ bits.RotateLeft32(b, -22)) + (b&c ^ b&dd ^ c&dd)
		}
		h0 += a
		h1 += b
		h2 += c
		h3 += dd
		h4 += e
		h5 += f
		h6 += g
		h7 += hh
		p = p[BlockSize256:]
	}
	h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7] = h0, h1, h2, h3, h4, h5, h6, h7
}

// digest512 is a SHA-512 or SHA-384 state; size tells which (SHA-384 is
// SHA-512 with its own initial value, truncated to 48 bytes).
type digest512 struct {
	h    [8]uint64
	x    [BlockSize512]byte
	nx   int
	len  uint64
	size int
}

func newPure512(size int) *digest512 {
	d := &digest512{size: size}
	d.Reset()
	return d
}

func (d *digest512) Reset() {
	if d.size == Size384 {
		d.h = iv384
	} else {
		d.h = iv512
	}
	d.nx = 0
	d.len = 0
}

func (d *digest512) Size() int      { return d.size }
func (d *digest512) BlockSize() int { return BlockSize512 }

func (d *digest512) Write(p []byte) (int, error) {
	n := len(p)
	d.len += uint64(n)
	if d.nx > 0 {
		c := copy(d.x[d.nx:], p)
		d.nx += c
		p = p[c:]
		if d.nx < BlockSize512 {
			return n, nil
		}
		block512(&d.h, d.x[:])
		d.nx = 0
	}
	if full := len(p) &^ (BlockSize512 - 1); full > 0 {
		block512(&d.h, p[:full])
		p = p[full:]
	}
	d.nx = copy(d.x[:], p)
	return n, nil
}

// Sum appends the digest of what was written so far; d stays as it was.
func (d *digest512) Sum(b []byte) []byte {
	c := *d
	s := c.checkSum()
	return append(b, s[:d.size]...)
}

// checkSum pads and finishes d (FIPS 180-4, 5.1.2): 0x80, zeros to 112 mod
// 128 bytes, the bit length as a 128-bit big-endian integer. It returns
// the whole chaining value; SHA-384 is its first 48 bytes.
func (d *digest512) checkSum() [Size512]byte {
	var pad [BlockSize512 + 16]byte
	pad[0] = 0x80
	n := 112 - int(d.len%BlockSize512)
	if n <= 0 {
		n += BlockSize512
	}
	putUint64(pad[n:], d.len>>61)
	putUint64(pad[n+8:], d.len<<3)
	d.Write(pad[:n+16])
	var out [Size512]byte
	for i, v := range d.h {
		putUint64(out[8*i:], v)
	}
	return out
}

func pureSum384(data []byte) [Size384]byte {
	d := digest512{size: Size384}
	d.Reset()
	d.Write(data)
	s := d.checkSum()
	return [Size384]byte(s[:Size384])
}

func pureSum512(data []byte) [Size512]byte {
	d := digest512{size: Size512}
	d.Reset()
	d.Write(data)
	return d.checkSum()
}

// block512 runs the compression function over every 128-byte block of p
// (FIPS 180-4, 6.4.2).
func block512(h *[8]uint64, p []byte) {
	var w [80]uint64
	h0, h1, h2, h3, h4, h5, h6, h7 := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for len(p) >= BlockSize512 {
		q := p[:BlockSize512]
		for i := range 16 {
			j := 8 * i
			w[i] = uint64(q[j])<<56 | uint64(q[j+1])<<48 | uint64(q[j+2])<<40 | uint64(q[j+3])<<32 |
				uint64(q[j+4])<<24 | uint64(q[j+5])<<16 | uint64(q[j+6])<<8 | uint64(q[j+7])
		}
		for i := 16; i < 80; i++ {
			v1, v2 := w[i-2], w[i-15]
			s1 := bits.RotateLeft64(v1, -19) ^ bits.RotateLeft64(v1, -61) ^ v1>>6
			s0 := bits.RotateLeft64(v2, -1) ^ bits.RotateLeft64(v2, -8) ^ v2>>7
			w[i] = s1 + w[i-7] + s0 + w[i-16]
		}
		a, b, c, dd, e, f, g, hh := h0, h1, h2, h3, h4, h5, h6, h7
		// Eight rounds per iteration, the roles of the working variables
		// rotating through the names instead of moving the values.
		var t1 uint64
		for i := 0; i < 80; i += 8 {
			k, ws := k512[i:i+8:i+8], w[i:i+8:i+8]
			t1 = hh + (bits.RotateLeft64(e, -14) ^ bits.RotateLeft64(e, -18) ^ bits.RotateLeft64(e, -41)) + (e&f ^ ^e&g) + k[0] + ws[0]
			dd += t1
			hh = t1 + (bits.RotateLeft64(a, -28) ^ bits.RotateLeft64(a, -34) ^ bits.RotateLeft64(a, -39)) + (a&b ^ a&c ^ b&c)
			t1 = g + (bits.RotateLeft64(dd, -14) ^ bits.RotateLeft64(dd, -18) ^ bits.RotateLeft64(dd, -41)) + (dd&e ^ ^dd&f) + k[1] + ws[1]
			c += t1
			g = t1 + (bits.RotateLeft64(hh, -28) ^ bits.RotateLeft64(hh, -34) ^ bits.RotateLeft64(hh, -39)) + (hh&a ^ hh&b ^ a&b)
			t1 = f + (bits.RotateLeft64(c, -14) ^ bits.RotateLeft64(c, -18) ^ bits.RotateLeft64(c, -41)) + (c&dd ^ ^c&e) + k[2] + ws[2]
			b += t1
			f = t1 + (bits.RotateLeft64(g, -28) ^ bits.RotateLeft64(g, -34) ^ bits.RotateLeft64(g, -39)) + (g&hh ^ g&a ^ hh&a)
			t1 = e + (bits.RotateLeft64(b, -14) ^ bits.RotateLeft64(b, -18) ^ bits.RotateLeft64(b, -41)) + (b&c ^ ^b&dd) + k[3] + ws[3]
			a += t1
			e = t1 + (bits.RotateLeft64(f, -28) ^ bits.RotateLeft64(f, -34) ^ bits.RotateLeft64(f, -39)) + (f&g ^ f&hh ^ g&hh)
			t1 = dd + (bits.RotateLeft64(a, -14) ^ bits.RotateLeft64(a, -18) ^ bits.RotateLeft64(a, -41)) + (a&b ^ ^a&c) + k[4] + ws[4]
			hh += t1
			dd = t1 + (bits.RotateLeft64(e, -28) ^ bits.RotateLeft64(e, -34) ^ bits.RotateLeft64(e, -39)) + (e&f ^ e&g ^ f&g)
			t1 = c + (bits.RotateLeft64(hh, -14) ^ bits.RotateLeft64(hh, -18) ^ bits.RotateLeft64(hh, -41)) + (hh&a ^ ^hh&b) + k[5] + ws[5]
			g += t1
			c = t1 + (bits.RotateLeft64(dd, -28) ^ bits.RotateLeft64(dd, -34) ^ bits.RotateLeft64(dd, -39)) + (dd&e ^ dd&f ^ e&f)
			t1 = b + (bits.RotateLeft64(g, -14) ^ bits.RotateLeft64(g, -18) ^ bits.RotateLeft64(g, -41)) + (g&hh ^ ^g&a) + k[6] + ws[6]
			f += t1
			b = t1 + (bits.RotateLeft64(c, -28) ^ bits.RotateLeft64(c, -34) ^ bits.RotateLeft64(c, -39)) + (c&dd ^ c&e ^ dd&e)
			t1 = a + (bits.RotateLeft64(f, -14) ^ bits.RotateLeft64(f, -18) ^ bits.RotateLeft64(f, -41)) + (f&g ^ ^f&hh) + k[7] + ws[7]
			e += t1
			a = t1 + (bits.RotateLeft64(b, -28) ^ bits.RotateLeft64(b, -34) ^ bits.RotateLeft64(b, -39)) + (b&c ^ b&dd ^ c&dd)
		}
		h0 += a
		h1 += b
		h2 += c
		h3 += dd
		h4 += e
		h5 += f
		h6 += g
		h7 += hh
		p = p[BlockSize512:]
	}
	h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7] = h0, h1, h2, h3, h4, h5, h6, h7
}

func putUint32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func putUint64(b []byte, v uint64) {
	_ = b[7]
	b[0], b[1], b[2], b[3] = byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32)
	b[4], b[5], b[6], b[7] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

var (
	_ hash.Hash = (*digest256)(nil)
	_ hash.Hash = (*digest512)(nil)
)
