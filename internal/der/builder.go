package der

import "errors"

// Builder builds DER elements and TLS structures, with the methods of
// cryptobyte's Builder that package sigstore needs and the same output. A
// length that does not fit its prefix, a tag in the high-number form, or an
// invalid OBJECT IDENTIFIER makes Bytes return an error; Builder never
// panics.
type Builder struct {
	out []byte
	err error
}

// Bytes returns what was built, or the first error.
func (b *Builder) Bytes() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	return b.out, nil
}

// AddBytes appends v as it is.
func (b *Builder) AddBytes(v []byte) { b.out = append(b.out, v...) }

// AddUint8 appends one byte.
func (b *Builder) AddUint8(v uint8) { b.out = append(b.out, v) }

// AddUint16 appends v big-endian.
func (b *Builder) AddUint16(v uint16) { b.out = append(b.out, byte(v>>8), byte(v)) }

// AddUint64 appends v big-endian.
func (b *Builder) AddUint64(v uint64) {
	for i := 56; i >= 0; i -= 8 {
		b.out = append(b.out, byte(v>>i))
	}
}

// child runs f on a new Builder and returns what it built.
func (b *Builder) child(f func(*Builder)) ([]byte, bool) {
	if b.err != nil {
		return nil, false
	}
	var c Builder
	f(&c)
	if c.err != nil {
		b.err = c.err
		return nil, false
	}
	return c.out, true
}

var errTooLong = errors.New("der: content too long for its length prefix")

// addPrefixed appends what f builds after its length in n bytes.
func (b *Builder) addPrefixed(n int, f func(*Builder)) {
	body, ok := b.child(f)
	if !ok {
		return
	}
	if uint64(len(body))>>(8*n) != 0 {
		b.err = errTooLong
		return
	}
	for i := n - 1; i >= 0; i-- {
		b.out = append(b.out, byte(len(body)>>(8*i)))
	}
	b.out = append(b.out, body...)
}

// AddUint16LengthPrefixed appends what f builds as a vector with a 16-bit
// length.
func (b *Builder) AddUint16LengthPrefixed(f func(*Builder)) { b.addPrefixed(2, f) }

// AddUint24LengthPrefixed appends what f builds as a vector with a 24-bit
// length.
func (b *Builder) AddUint24LengthPrefixed(f func(*Builder)) { b.addPrefixed(3, f) }

// AddASN1 appends an element with tag whose contents f builds.
func (b *Builder) AddASN1(tag Tag, f func(*Builder)) {
	if b.err != nil {
		return
	}
	if tag&0x1f == 0x1f {
		b.err = errors.New("der: high-number tags are not supported")
		return
	}
	body, ok := b.child(f)
	if !ok {
		return
	}
	if uint64(len(body)) > 0xffffffff {
		b.err = errTooLong
		return
	}
	b.out = append(b.out, element(byte(tag), body)...)
}

// AddASN1NULL appends a NULL.
func (b *Builder) AddASN1NULL() { b.out = append(b.out, byte(NULL), 0) }

// AddASN1BitString appends a BIT STRING of whole bytes.
func (b *Builder) AddASN1BitString(v []byte) {
	b.AddASN1(BIT_STRING, func(b *Builder) {
		b.AddUint8(0)
		b.AddBytes(v)
	})
}

// AddASN1ObjectIdentifier appends an OBJECT IDENTIFIER: at least two arcs,
// the first 0, 1 or 2, the second below 40 unless the first is 2, none
// negative.
func (b *Builder) AddASN1ObjectIdentifier(oid OID) {
	if len(oid) < 2 || oid[0] < 0 || oid[0] > 2 || oid[1] < 0 || oid[0] < 2 && oid[1] >= 40 {
		if b.err == nil {
			b.err = errors.New("der: invalid OBJECT IDENTIFIER")
		}
		return
	}
	for _, v := range oid[2:] {
		if v < 0 {
			if b.err == nil {
				b.err = errors.New("der: invalid OBJECT IDENTIFIER")
			}
			return
		}
	}
	b.AddASN1(OBJECT_IDENTIFIER, func(b *Builder) {
		b.addArc(oid[0]*40 + oid[1])
		for _, v := range oid[2:] {
			b.addArc(v)
		}
	})
}

// addArc appends v in base 128, the fewest octets.
func (b *Builder) addArc(v int) {
	n := 1
	for x := v >> 7; x > 0; x >>= 7 {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		c := byte(v>>(7*i)) & 0x7f
		if i > 0 {
			c |= 0x80
		}
		b.out = append(b.out, c)
	}
}
