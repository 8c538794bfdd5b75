package hex

import (
	"bytes"
	stdhex "encoding/hex"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// same fails t unless Decode(s) and encoding/hex's DecodeString(s) agree:
// the same bytes, or the same error (ErrLength, or InvalidByteError with
// the same byte, whose message names it in hex).
func same(t *testing.T, s string) {
	t.Helper()
	got, err := Decode(s)
	want, wantErr := stdhex.DecodeString(s)
	switch {
	case wantErr == nil:
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Decode(%q) = %x, %v; want %x", s, got, err, want)
		}
	case errors.Is(wantErr, stdhex.ErrLength):
		if !errors.Is(err, ErrLength) || got != nil {
			t.Fatalf("Decode(%q) = %x, %v; want ErrLength", s, got, err)
		}
	default:
		var wb stdhex.InvalidByteError
		var gb InvalidByteError
		if !errors.As(wantErr, &wb) {
			t.Fatalf("encoding/hex gave %v for %q", wantErr, s)
		}
		if !errors.As(err, &gb) || byte(gb) != byte(wb) || !strings.Contains(err.Error(), "0x"+stdhex.EncodeToString([]byte{byte(wb)})) || got != nil {
			t.Fatalf("Decode(%q) = %x, %v; want %v", s, got, err, wantErr)
		}
	}
	if err == nil && Encode(got) != stdhex.EncodeToString(got) {
		t.Fatalf("Encode(%x) = %s, want %s", got, Encode(got), stdhex.EncodeToString(got))
	}
}

func TestRejects(t *testing.T) {
	for _, c := range []struct {
		in   string
		want error
	}{
		{"0", ErrLength},
		{"abc", ErrLength},
		{"0g", InvalidByteError('g')},
		{"g0", InvalidByteError('g')},
		{"0g1", InvalidByteError('g')},
		{"001", ErrLength},
		{"00z", InvalidByteError('z')},
		{"0x00", InvalidByteError('x')},
		{"a b", InvalidByteError(' ')},
		{"\xff\xff", InvalidByteError(0xff)},
		{"00\n", InvalidByteError('\n')},
	} {
		got, err := Decode(c.in)
		if err != c.want || got != nil {
			t.Errorf("Decode(%q) = %x, %v; want %v", c.in, got, err, c.want)
		}
		same(t, c.in)
	}
}

func TestAccepts(t *testing.T) {
	for _, s := range []string{"", "00", "0123456789abcdef", "ABCDEF", "aBcD", "ff00FF"} {
		same(t, s)
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if got, want := Encode(all), stdhex.EncodeToString(all); got != want {
		t.Errorf("Encode(0..255) = %s, want %s", got, want)
	}
	if got := string(AppendEncode([]byte("0x"), []byte{0xab, 0x01})); got != "0xab01" {
		t.Errorf("AppendEncode = %q, want 0xab01", got)
	}
}

// TestDifferential decodes random strings over an alphabet of hex digits
// of both cases and a few bytes that are not, every length up to 9.
func TestDifferential(t *testing.T) {
	const alphabet = "0123456789abcdefABCDEFgG x\x00\xff"
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		b := make([]byte, rng.IntN(10))
		for i := range b {
			if rng.IntN(8) == 0 {
				b[i] = alphabet[22+rng.IntN(len(alphabet)-22)]
			} else {
				b[i] = alphabet[rng.IntN(22)]
			}
		}
		same(t, string(b))
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "0", "00", "0g", "0g1", "ABcd", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(same)
}
