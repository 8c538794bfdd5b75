// Package rfc3339 reads RFC 3339 timestamps (2006-01-02T15:04:05Z, with
// optional fractional seconds and a numeric offset), as Sigstore's trusted
// root writes a key's validity window.
//
// It exists for the size of the browser build: time.Parse brings Go's
// layout interpreter (about 12 KB of brotli-compressed wasm), although the
// browser build only ever parses this one form. It accepts what
// time.Parse(time.RFC3339Nano, s) accepts on its strict RFC 3339 path, and
// nothing else: not the forms time.Parse's general fallback also lets
// through (a one-digit hour, ',' before the fraction, an offset hour of 24
// or more). rfc3339_test.go keeps time.Parse as the oracle.
package rfc3339

import (
	"errors"
	"time"
)

// ErrSyntax means the text is not an RFC 3339 date and time, or names a
// day, hour, minute, second or offset out of range.
var ErrSyntax = errors.New("not an RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM))")

// Parse returns the instant s names, in UTC. Fractional seconds past the
// ninth digit are dropped, as time.Parse does.
func Parse(s string) (time.Time, error) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, ErrSyntax
	}
	year, ok1 := number(s[0:4], 0, 9999)
	month, ok2 := number(s[5:7], 1, 12)
	day, ok3 := number(s[8:10], 1, 31)
	hour, ok4 := number(s[11:13], 0, 23)
	minute, ok5 := number(s[14:16], 0, 59)
	sec, ok6 := number(s[17:19], 0, 59)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return time.Time{}, ErrSyntax
	}
	rest := s[19:]
	nsec := 0
	if len(rest) >= 2 && rest[0] == '.' && isDigit(rest[1]) {
		n := 1
		for n < len(rest) && isDigit(rest[n]) {
			if n <= 9 {
				nsec = nsec*10 + int(rest[n]-'0')
			}
			n++
		}
		for i := n; i <= 9; i++ {
			nsec *= 10
		}
		rest = rest[n:]
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 30 February and the like roll over
		return time.Time{}, ErrSyntax
	}
	if rest == "Z" {
		return t, nil
	}
	if len(rest) != len("+07:00") || rest[0] != '+' && rest[0] != '-' || rest[3] != ':' {
		return time.Time{}, ErrSyntax
	}
	oh, ok1 := number(rest[1:3], 0, 23)
	om, ok2 := number(rest[4:6], 0, 59)
	if !ok1 || !ok2 {
		return time.Time{}, ErrSyntax
	}
	offset := time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute
	if rest[0] == '+' {
		offset = -offset
	}
	return t.Add(offset), nil
}

// number reads s, all decimal digits, and checks it lies in [lo, hi].
func number(s string, lo, hi int) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, lo <= n && n <= hi
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
