// Package der reads the Distinguished Encoding Rules subset of ASN.1 that
// AMD's certificates and CRLs and Sigstore's certificates and timestamps
// use, and builds the little DER and TLS encoding that verifying them needs.
// Its String and Builder have the methods of golang.org/x/crypto/cryptobyte's
// that packages cert and sigstore need, with the same DER rules (low tag
// numbers, minimal definite lengths, minimal INTEGERs and OID arcs, BIT
// STRING padding), the TLS vector reads of signed certificate timestamps,
// and times only in the forms RFC 5280 allows: UTCTime YYMMDDHHMMSSZ and
// GeneralizedTime YYYYMMDDHHMMSSZ. Two differences, both stricter: a failed
// read never advances the input (cryptobyte's ReadUint16LengthPrefixed drops
// the length of a truncated vector), and Builder reports an error where
// cryptobyte's BytesOrPanic would panic.
//
// It exists for the size of the browser build: cryptobyte imports
// encoding/asn1, whose initialisation links math/big's formatting and
// reflection, about 50 KB of brotli-compressed wasm, and time.Parse. The
// native tests compare it with cryptobyte (der_test.go, builder_test.go),
// which stays the oracle.
package der

import (
	"strconv"
	"strings"
	"time"
)

// Tag is an ASN.1 identifier octet (low tag numbers only).
type Tag uint8

const (
	classConstructed     = 0x20
	classContextSpecific = 0x80

	BOOLEAN           = Tag(1)
	INTEGER           = Tag(2)
	BIT_STRING        = Tag(3)
	OCTET_STRING      = Tag(4)
	NULL              = Tag(5)
	OBJECT_IDENTIFIER = Tag(6)
	UTF8String        = Tag(12)
	UTCTime           = Tag(23)
	GeneralizedTime   = Tag(24)
	SEQUENCE          = Tag(16 | classConstructed)
	SET               = Tag(17 | classConstructed)
)

// Constructed returns t with the constructed bit set.
func (t Tag) Constructed() Tag { return t | classConstructed }

// ContextSpecific returns t with the context-specific class.
func (t Tag) ContextSpecific() Tag { return t | classContextSpecific }

// OID is an OBJECT IDENTIFIER.
type OID []int

// String returns the dotted form, e.g. "1.3.132.0.34".
func (o OID) String() string {
	var b strings.Builder
	for i, v := range o {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(v))
	}
	return b.String()
}

// Equal reports whether o and other are the same OID.
func (o OID) Equal(other OID) bool {
	if len(o) != len(other) {
		return false
	}
	for i := range o {
		if o[i] != other[i] {
			return false
		}
	}
	return true
}

// BitString is a BIT STRING: Bytes holds BitLength bits, left-aligned.
type BitString struct {
	Bytes     []byte
	BitLength int
}

// String is DER input being read; reads advance it only when they succeed.
type String []byte

// Empty reports whether s has been read to the end.
func (s String) Empty() bool { return len(s) == 0 }

// read reads one element: its tag, and its contents with or without the
// header.
func (s *String) read(out *String, outTag *Tag, withHeader bool) bool {
	in := *s
	if len(in) < 2 {
		return false
	}
	tag, lenByte := in[0], in[1]
	if tag&0x1f == 0x1f { // high tag number form
		return false
	}
	var length, header uint64
	if lenByte&0x80 == 0 {
		length, header = uint64(lenByte), 2
	} else {
		n := int(lenByte & 0x7f)
		if n == 0 || n > 4 || len(in) < 2+n { // indefinite, or longer than 4 GiB
			return false
		}
		for _, b := range in[2 : 2+n] {
			length = length<<8 | uint64(b)
		}
		// DER: the fewest length octets, and the short form below 128.
		if length < 128 || length>>((n-1)*8) == 0 {
			return false
		}
		header = uint64(2 + n)
	}
	if header+length > uint64(len(in)) {
		return false
	}
	end := int(header + length)
	if outTag != nil {
		*outTag = Tag(tag)
	}
	// s first: out may be s itself (s.ReadASN1(&s, tag) descends into s).
	*s = in[end:]
	if withHeader {
		*out = in[:end]
	} else {
		*out = in[header:end]
	}
	return true
}

// ReadAnyASN1 reads the contents of any element and its tag.
func (s *String) ReadAnyASN1(out *String, outTag *Tag) bool { return s.read(out, outTag, false) }

// ReadAnyASN1Element reads a whole element (header included) and its tag.
func (s *String) ReadAnyASN1Element(out *String, outTag *Tag) bool { return s.read(out, outTag, true) }

// ReadASN1 reads the contents of an element with tag.
func (s *String) ReadASN1(out *String, tag Tag) bool {
	rest := *s
	var t Tag
	var v String
	if !rest.read(&v, &t, false) || t != tag {
		return false
	}
	*s, *out = rest, v
	return true
}

// ReadASN1Element reads a whole element (header included) with tag.
func (s *String) ReadASN1Element(out *String, tag Tag) bool {
	rest := *s
	var t Tag
	var v String
	if !rest.read(&v, &t, true) || t != tag {
		return false
	}
	*s, *out = rest, v
	return true
}

// PeekASN1Tag reports whether the next element has tag.
func (s String) PeekASN1Tag(tag Tag) bool { return len(s) > 0 && Tag(s[0]) == tag }

// SkipASN1 reads and drops an element with tag.
func (s *String) SkipASN1(tag Tag) bool {
	var unused String
	return s.ReadASN1(&unused, tag)
}

// ReadOptionalASN1 reads the contents of an element with tag if the next
// element has that tag; present, when not nil, says whether it had.
func (s *String) ReadOptionalASN1(out *String, present *bool, tag Tag) bool {
	has := s.PeekASN1Tag(tag)
	if present != nil {
		*present = has
	}
	return !has || s.ReadASN1(out, tag)
}

// SkipOptionalASN1 drops the next element if it has tag.
func (s *String) SkipOptionalASN1(tag Tag) bool {
	return !s.PeekASN1Tag(tag) || s.SkipASN1(tag)
}

// ReadASN1Int64WithTag reads a minimally encoded INTEGER-like element with
// tag that fits an int64.
func (s *String) ReadASN1Int64WithTag(out *int64, tag Tag) bool {
	rest := *s
	var b String
	if !rest.ReadASN1(&b, tag) || !minimalInteger(b) || len(b) > 8 {
		return false
	}
	var v int64
	for _, c := range b {
		v = v<<8 | int64(c)
	}
	// Sign-extend from the encoded width.
	if shift := uint(64 - 8*len(b)); shift < 64 {
		v = v << shift >> shift
	}
	*s, *out = rest, v
	return true
}

// minimalInteger reports whether b is a valid DER INTEGER body.
func minimalInteger(b []byte) bool {
	switch {
	case len(b) == 0:
		return false
	case len(b) == 1:
		return true
	}
	return !(b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0)
}

// ReadASN1ObjectIdentifier reads an OBJECT IDENTIFIER whose arcs fit in 31
// bits, each in the fewest octets.
func (s *String) ReadASN1ObjectIdentifier(out *OID) bool {
	rest := *s
	var b String
	if !rest.ReadASN1(&b, OBJECT_IDENTIFIER) || len(b) == 0 {
		return false
	}
	oid := make(OID, 0, len(b)+1)
	for first := true; len(b) > 0; first = false {
		v, ok := readArc(&b)
		if !ok {
			return false
		}
		if first {
			// The first arc packs two: 40*x + y, x in 0..2.
			x := min(v/40, 2)
			oid = append(oid, x, v-40*x)
			continue
		}
		oid = append(oid, v)
	}
	*out, *s = oid, rest
	return true
}

// readArc reads one base-128 arc of at most 31 bits.
func readArc(b *String) (int, bool) {
	v := 0
	for i := 0; len(*b) > 0; i++ {
		if i == 5 || v >= 1<<(31-7) {
			return 0, false
		}
		c := (*b)[0]
		*b = (*b)[1:]
		if i == 0 && c == 0x80 { // not the fewest octets
			return 0, false
		}
		v = v<<7 | int(c&0x7f)
		if c&0x80 == 0 {
			return v, true
		}
	}
	return 0, false // truncated
}

// ReadASN1BitString reads a BIT STRING whose unused bits are zero.
func (s *String) ReadASN1BitString(out *BitString) bool {
	rest := *s
	var b String
	if !rest.ReadASN1(&b, BIT_STRING) || len(b) == 0 {
		return false
	}
	pad, body := b[0], b[1:]
	if pad > 7 || len(body) == 0 && pad != 0 || len(body) > 0 && body[len(body)-1]&(1<<pad-1) != 0 {
		return false
	}
	*out = BitString{Bytes: body, BitLength: len(body)*8 - int(pad)}
	*s = rest
	return true
}

// ReadASN1UTCTime reads a UTCTime YYMMDDHHMMSSZ; years 50 to 99 are 1950
// to 1999 (RFC 5280, 4.1.2.5.1).
func (s *String) ReadASN1UTCTime(out *time.Time) bool {
	rest := *s
	var b String
	if !rest.ReadASN1(&b, UTCTime) || len(b) != 13 || b[12] != 'Z' {
		return false
	}
	yy, ok := digits(b[0:2])
	if !ok {
		return false
	}
	year := 2000 + yy
	if yy >= 50 {
		year = 1900 + yy
	}
	t, ok := clock(year, b[2:12])
	if !ok {
		return false
	}
	*out, *s = t, rest
	return true
}

// ReadASN1GeneralizedTime reads a GeneralizedTime YYYYMMDDHHMMSSZ (RFC
// 5280, 4.1.2.5.2: no fractions, always Z).
func (s *String) ReadASN1GeneralizedTime(out *time.Time) bool {
	// The fractional form without a fraction: YYYYMMDDHHMMSSZ.
	peek := *s
	var b String
	if !peek.ReadASN1(&b, GeneralizedTime) || len(b) != 15 {
		return false
	}
	return s.ReadASN1GeneralizedTimeFraction(out)
}

// ReadASN1GeneralizedTimeFraction reads a GeneralizedTime with optional
// fractional seconds in the DER form (X.690 11.7), which RFC 3161 requires
// of a timestamp's genTime: YYYYMMDDHHMMSS, then '.' and one to nine
// digits of which the last is not 0, then Z. It is stricter than
// time.Parse("20060102150405.999999999Z"), which also takes ',' and
// trailing zeros; encoding/asn1, which sigstore-go's timestamp reader uses,
// refuses both as well.
func (s *String) ReadASN1GeneralizedTimeFraction(out *time.Time) bool {
	rest := *s
	var b String
	if !rest.ReadASN1(&b, GeneralizedTime) || len(b) < 15 || b[len(b)-1] != 'Z' {
		return false
	}
	year, ok := digits(b[0:4])
	if !ok {
		return false
	}
	t, ok := clock(year, b[4:14])
	if !ok {
		return false
	}
	if frac := b[14 : len(b)-1]; len(frac) > 0 {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' || frac[len(frac)-1] == '0' {
			return false
		}
		n, ok := digits(frac[1:])
		if !ok {
			return false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		t = t.Add(time.Duration(n))
	}
	*out, *s = t, rest
	return true
}

// clock reads MMDDHHMMSS of year, each part in range.
func clock(year int, b []byte) (time.Time, bool) {
	var v [5]int
	for i := range v {
		n, ok := digits(b[2*i : 2*i+2])
		if !ok {
			return time.Time{}, false
		}
		v[i] = n
	}
	month, day, hour, minute, sec := v[0], v[1], v[2], v[3], v[4]
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // 31 April and the like roll over
		return time.Time{}, false
	}
	return t, true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// The TLS presentation-language reads (RFC 8446 §3) that signed certificate
// timestamps use (RFC 6962 §3.2): big-endian integers, fixed-length byte
// strings and length-prefixed vectors.

// readN reads n bytes, or nothing if fewer remain.
func (s *String) readN(n int) ([]byte, bool) {
	if n < 0 || len(*s) < n {
		return nil, false
	}
	v := (*s)[:n:n]
	*s = (*s)[n:]
	return v, true
}

// ReadUint8 reads one byte.
func (s *String) ReadUint8(out *uint8) bool {
	v, ok := s.readN(1)
	if ok {
		*out = v[0]
	}
	return ok
}

// ReadUint16 reads a big-endian uint16.
func (s *String) ReadUint16(out *uint16) bool {
	v, ok := s.readN(2)
	if ok {
		*out = uint16(v[0])<<8 | uint16(v[1])
	}
	return ok
}

// ReadUint64 reads a big-endian uint64.
func (s *String) ReadUint64(out *uint64) bool {
	v, ok := s.readN(8)
	if ok {
		var x uint64
		for _, c := range v {
			x = x<<8 | uint64(c)
		}
		*out = x
	}
	return ok
}

// ReadBytes reads n bytes into out.
func (s *String) ReadBytes(out *[]byte, n int) bool {
	v, ok := s.readN(n)
	if ok {
		*out = v
	}
	return ok
}

// ReadUint16LengthPrefixed reads a vector with a 16-bit length.
func (s *String) ReadUint16LengthPrefixed(out *String) bool {
	rest := *s
	var n uint16
	if !rest.ReadUint16(&n) {
		return false
	}
	v, ok := rest.readN(int(n))
	if !ok {
		return false
	}
	*s, *out = rest, v
	return true
}

// RSAEncryptionSPKI returns the SubjectPublicKeyInfo of an RSA public key
// (the DER RSAPublicKey) under rsaEncryption with NULL parameters.
func RSAEncryptionSPKI(rsaPublicKey []byte) []byte {
	// AlgorithmIdentifier { rsaEncryption, NULL }
	alg := []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00}
	bits := element(byte(BIT_STRING), append([]byte{0}, rsaPublicKey...))
	return element(byte(SEQUENCE), append(alg, bits...))
}

// element returns tag, the DER length of body, and body.
func element(tag byte, body []byte) []byte {
	n := len(body)
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		out = append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, body...)
}
