package rfc3339

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// strictForm is RFC 3339's grammar (section 5.6) as time.Parse's strict
// path reads it: four-digit year, two-digit fields, '.' before a fraction,
// Z or a numeric offset.
var strictForm = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-](\d\d):(\d\d))$`)

// check fails t unless Parse agrees with the oracle: whatever Parse
// accepts, time.Parse(time.RFC3339Nano) accepts as the same instant; and
// whatever time.Parse accepts in the strict form with an offset in range,
// Parse accepts.
func check(t *testing.T, s string) bool {
	t.Helper()
	got, err := Parse(s)
	want, werr := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		if werr != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("Parse(%q) = %v; time.Parse: %v, %v", s, got, want, werr)
		}
		return true
	}
	if err != ErrSyntax || !got.IsZero() {
		t.Fatalf("Parse(%q) = %v, %v; want ErrSyntax", s, got, err)
	}
	if werr == nil {
		m := strictForm.FindStringSubmatch(s)
		if m == nil {
			return false // a form only the general fallback takes
		}
		if m[3] != "" {
			if h, _ := strconv.Atoi(m[3]); h > 23 {
				return false
			}
			if mm, _ := strconv.Atoi(m[4]); mm > 59 {
				return false
			}
		}
		t.Fatalf("Parse(%q) refused what time.Parse reads as %v", s, want)
	}
	return false
}

func TestParse(t *testing.T) {
	for s, want := range map[string]time.Time{
		"2006-01-02T15:04:05Z":                time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC),
		"2021-03-07T03:20:29.000Z":            time.Date(2021, 3, 7, 3, 20, 29, 0, time.UTC),
		"2022-04-13T20:06:15.123456789Z":      time.Date(2022, 4, 13, 20, 6, 15, 123456789, time.UTC),
		"2022-04-13T20:06:15.1234567891234Z":  time.Date(2022, 4, 13, 20, 6, 15, 123456789, time.UTC),
		"2024-02-29T00:00:00+01:30":           time.Date(2024, 2, 28, 22, 30, 0, 0, time.UTC),
		"2000-02-29T23:59:59-23:59":           time.Date(2000, 3, 1, 23, 58, 59, 0, time.UTC),
		"0000-01-01T00:00:00Z":                time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		"9999-12-31T23:59:59.999999999+00:00": time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	} {
		got, err := Parse(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", s, got, err, want)
		}
		check(t, s)
	}
	for _, s := range []string{
		"",
		"2006-01-02T15:04:05",        // no zone
		"2006-01-02 15:04:05Z",       // space
		"2006-01-02t15:04:05Z",       // lower-case t
		"2006-01-02T15:04:05z",       // lower-case z
		"2006-01-02T5:04:05Z",        // one-digit hour (time.Parse's fallback takes it)
		"2006-01-02T15:04:05,5Z",     // comma (time.Parse's fallback takes it)
		"2006-01-02T15:04:05.Z",      // a point without digits
		"2006-01-02T15:04:05.5",      // no zone after the fraction
		"2023-02-29T00:00:00Z",       // not a leap year
		"2100-02-29T00:00:00Z",       // not a leap year
		"2006-04-31T00:00:00Z",       // 31 April
		"2006-13-01T00:00:00Z",       // month 13
		"2006-00-01T00:00:00Z",       // month 0
		"2006-01-00T00:00:00Z",       // day 0
		"2006-01-02T24:00:00Z",       // hour 24
		"2006-01-02T23:60:00Z",       // minute 60
		"2006-01-02T23:59:60Z",       // leap second
		"2006-01-02T15:04:05+24:00",  // offset hour 24 (time.Parse's fallback takes it)
		"2006-01-02T15:04:05+01:60",  // offset minute 60
		"2006-01-02T15:04:05+0100",   // offset without colon
		"2006-01-02T15:04:05+01",     // offset without minutes
		"2006-01-02T15:04:05Z+01:00", // both
		"2006-01-02T15:04:05ZZ",
		"+006-01-02T15:04:05Z",
		"20060-01-02T15:04:05Z",
		"2006-01-02T15:04:05.-1Z",
	} {
		if got, err := Parse(s); err != ErrSyntax {
			t.Errorf("Parse(%q) = %v, %v; want ErrSyntax", s, got, err)
		}
		check(t, s)
	}
}

// TestDifferential mutates valid timestamps one to three characters at a
// time and compares with time.Parse.
func TestDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const alphabet = "0123456789:-+.,TZtz 9"
	accepted := 0
	for range 50000 {
		when := time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9))
		if rng.IntN(3) == 0 {
			when = when.Truncate(time.Second)
		}
		zone := time.UTC
		if rng.IntN(2) == 0 {
			zone = time.FixedZone("", (rng.IntN(48*60)-24*60)*60)
		}
		layout := time.RFC3339Nano
		if rng.IntN(3) == 0 {
			layout = "2006-01-02T15:04:05.000000Z07:00"
		}
		b := []byte(when.In(zone).Format(layout))
		for range rng.IntN(4) {
			switch i := rng.IntN(len(b) + 1); rng.IntN(3) {
			case 0:
				if i < len(b) {
					b[i] = alphabet[rng.IntN(len(alphabet))]
				}
			case 1:
				b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
			case 2:
				if i < len(b) {
					b = append(b[:i], b[i+1:]...)
				}
			}
		}
		if check(t, string(b)) {
			accepted++
		}
	}
	if accepted < 10000 {
		t.Fatalf("only %d of 50000 accepted: the mutations reach too few valid times", accepted)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("2006-01-02T15:04:05Z")
	f.Add("2024-02-29T23:59:59.123456789-07:00")
	f.Add("2006-01-02T5:04:05,5+24:00")
	f.Fuzz(func(t *testing.T, s string) { check(t, s) })
}
