package der

import (
	"math/rand/v2"
	"testing"
	"time"
)

// genTimeOracle is what ReadASN1GeneralizedTimeFraction must do, written
// with time.Parse the way encoding/asn1 checks DER: the layout with
// optional fractions, then the time must print back as the same text
// (which refuses ',' and trailing zeros).
func genTimeOracle(body string) (time.Time, bool) {
	const layout = "20060102150405.999999999Z"
	t, err := time.Parse(layout, body)
	if err != nil || len(body) < 15 || body[len(body)-1] != 'Z' || t.Format(layout) != body {
		return time.Time{}, false
	}
	return t, true
}

// genTimeDER wraps body as a GeneralizedTime element.
func genTimeDER(body string) []byte {
	return append([]byte{byte(GeneralizedTime), byte(len(body))}, body...)
}

func checkGenTime(t *testing.T, body string) bool {
	t.Helper()
	in := String(append(genTimeDER(body), 0x05, 0x00)) // a NULL after it
	var got time.Time
	ok := in.ReadASN1GeneralizedTimeFraction(&got)
	want, wantOK := genTimeOracle(body)
	switch {
	case ok != wantOK:
		t.Fatalf("ReadASN1GeneralizedTimeFraction(%q) = %v %v; time.Parse and re-format: %v %v", body, got, ok, want, wantOK)
	case ok && (!got.Equal(want) || got.Location() != time.UTC || len(in) != 2):
		t.Fatalf("ReadASN1GeneralizedTimeFraction(%q) = %v (%v), %d bytes left; want %v", body, got, got.Location(), len(in), want)
	case !ok && len(in) != len(genTimeDER(body))+2:
		t.Fatalf("ReadASN1GeneralizedTimeFraction(%q) refused but advanced the input", body)
	}
	return ok
}

func TestGeneralizedTimeFraction(t *testing.T) {
	accept := map[string]time.Time{
		"20250101000000Z":           time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		"20250101000000.5Z":         time.Date(2025, 1, 1, 0, 0, 0, 500000000, time.UTC),
		"20251231235959.123456789Z": time.Date(2025, 12, 31, 23, 59, 59, 123456789, time.UTC),
		"20240229120000.000001Z":    time.Date(2024, 2, 29, 12, 0, 0, 1000, time.UTC), // leap year
		"20000229000000Z":           time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC),     // divisible by 400
		"00010101000000Z":           time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for body, want := range accept {
		in := String(genTimeDER(body))
		var got time.Time
		if !in.ReadASN1GeneralizedTimeFraction(&got) || !got.Equal(want) {
			t.Errorf("ReadASN1GeneralizedTimeFraction(%q) = %v, want %v", body, got, want)
		}
		checkGenTime(t, body)
	}
	for _, body := range []string{
		"20250101000000",             // no Z
		"20250101000000.Z",           // a point without digits
		"20250101000000.50Z",         // trailing zero
		"20250101000000.0Z",          // a zero fraction is written without the point
		"20250101000000,5Z",          // comma
		"20250101000000.1234567891Z", // ten digits
		"20250101000000.5+0100",      // offset
		"20250101000000+0000",        // offset
		"202501010000Z",              // no seconds
		"20230229000000Z",            // 29 February of a common year
		"21000229000000Z",            // 2100 is not a leap year
		"20250431000000Z",            // 31 April
		"20251301000000Z",            // month 13
		"20250100000000Z",            // day 0
		"20250101240000Z",            // hour 24
		"20250101006000Z",            // minute 60
		"20250101000060Z",            // leap second
		"2025010100000aZ",            // not a digit
		"+0250101000000Z",            // sign
		"20250101000000.-5Z",
		"20250101000000.5ZZ",
	} {
		in := String(genTimeDER(body))
		var got time.Time
		if in.ReadASN1GeneralizedTimeFraction(&got) {
			t.Errorf("ReadASN1GeneralizedTimeFraction(%q) accepted %v", body, got)
		}
		checkGenTime(t, body)
	}
	// Another tag is refused.
	in := String(append([]byte{byte(UTCTime), 15}, "20250101000000Z"...))
	var got time.Time
	if in.ReadASN1GeneralizedTimeFraction(&got) {
		t.Error("a UTCTime was read as a GeneralizedTime")
	}
}

// TestGeneralizedTimeFractionDifferential mutates valid times one or two
// characters at a time, over digits, separators and letters.
func TestGeneralizedTimeFractionDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const alphabet = "0123456789.,Z+-9 "
	accepted := 0
	for range 50000 {
		when := time.Unix(rng.Int64N(1<<35)-1<<34, 0).UTC().Add(time.Duration(rng.IntN(1e9)))
		if rng.IntN(3) == 0 {
			when = when.Truncate(time.Second)
		}
		body := []byte(when.Format("20060102150405.999999999Z"))
		for range rng.IntN(3) {
			switch i := rng.IntN(len(body) + 1); rng.IntN(3) {
			case 0:
				if i < len(body) {
					body[i] = alphabet[rng.IntN(len(alphabet))]
				}
			case 1:
				body = append(body[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, body[i:]...)...)
			case 2:
				if i < len(body) {
					body = append(body[:i], body[i+1:]...)
				}
			}
		}
		if checkGenTime(t, string(body)) {
			accepted++
		}
	}
	if accepted < 10000 {
		t.Fatalf("only %d of 50000 accepted: the mutations reach too few valid times", accepted)
	}
}

func FuzzGeneralizedTimeFraction(f *testing.F) {
	f.Add("20250101000000.5Z")
	f.Add("20240229235959.999999999Z")
	f.Add("20250101000000,50Z")
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 100 {
			return
		}
		checkGenTime(t, body)
	})
}
