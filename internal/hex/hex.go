// Package hex encodes bytes as lowercase hexadecimal and decodes
// hexadecimal, for the packages the browser build links.
//
// It accepts and refuses exactly what encoding/hex does (either case of
// digit, an even number of them), with the same errors: ErrLength, or
// InvalidByteError with the same byte. It
// exists because encoding/hex's InvalidByteError formats its message with
// fmt, which the browser build does not otherwise need; hex_test.go keeps
// encoding/hex as the oracle.
package hex

import (
	"errors"
	"strconv"
)

// ErrLength means the input has an odd number of hex digits.
var ErrLength = errors.New("hex: odd length hex string")

// InvalidByteError is the first byte of the input that is not a hex digit.
type InvalidByteError byte

func (e InvalidByteError) Error() string {
	msg := "hex: invalid byte 0x" + string(AppendEncode(nil, []byte{byte(e)}))
	if ' ' < e && e < 0x7f {
		msg += " (" + strconv.QuoteRune(rune(e)) + ")"
	}
	return msg
}

const digits = "0123456789abcdef"

// Encode returns src as lowercase hex, two digits per byte.
func Encode(src []byte) string {
	return string(AppendEncode(make([]byte, 0, 2*len(src)), src))
}

// AppendEncode appends src as lowercase hex to dst.
func AppendEncode(dst, src []byte) []byte {
	for _, b := range src {
		dst = append(dst, digits[b>>4], digits[b&0x0f])
	}
	return dst
}

// Decode returns the bytes that s, hex digits of either case, stands for.
// Like encoding/hex, it reports the first invalid byte before an odd
// length: "0g1" is an InvalidByteError('g'), "0a1" is ErrLength.
func Decode(s string) ([]byte, error) {
	out := make([]byte, len(s)/2)
	for i := range out {
		hi, ok := fromDigit(s[2*i])
		if !ok {
			return nil, InvalidByteError(s[2*i])
		}
		lo, ok := fromDigit(s[2*i+1])
		if !ok {
			return nil, InvalidByteError(s[2*i+1])
		}
		out[i] = hi<<4 | lo
	}
	if len(s)%2 == 1 {
		if _, ok := fromDigit(s[len(s)-1]); !ok {
			return nil, InvalidByteError(s[len(s)-1])
		}
		return nil, ErrLength
	}
	return out, nil
}

func fromDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
