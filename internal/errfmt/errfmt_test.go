package errfmt

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"testing"
)

// stringer and wrapped types: a String method on a named type, as the
// browser-linked packages have (Kind, Scheme, SectionType).
type kind uint8

func (k kind) String() string { return "kind-" + fmt.Sprint(uint8(k)) }

type named struct{ s string }

func (n *named) String() string { return "named(" + n.s + ")" }

type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.code) }

type panicky struct{}

func (panicky) String() string { panic("boom") }

// TestSprintfMatchesFmt formats every supported verb, flag and width on every
// supported type with values at the edges, and wants fmt.Sprintf's output.
func TestSprintfMatchesFmt(t *testing.T) {
	integers := []any{
		0, 1, 255, -1, -255, math.MaxInt, math.MinInt,
		int8(-128), int8(127), int16(-32768), int16(4095), int32(math.MinInt32), int32(0x7fffffff),
		int64(math.MinInt64), int64(math.MaxInt64), int64(-0x10),
		uint(0), uint(42), uint8(0), uint8(255), uint16(0xabcd), uint32(0xdeadbeef), uint64(math.MaxUint64),
		uintptr(0x1000),
	}
	intFormats := []string{"%q", "%d", "%v", "%+v", "%x", "%X", "%#x", "%#X", "%4d", "%04d", "%02x", "%04x", "%08x",
		"%016x", "%#08x", "%3x", "%1d", "%20d", "%020d", "%02X"}
	texts := []any{"", "a", "ab", "héllo wörld", "quote\"and\\back\nnewline\ttab", "\x00\xff\x7f", "日本", "%d %s"}
	textFormats := []string{"%s", "%v", "%+v", "%q", "%x", "%X", "%#x", "%#X", "%6s", "%06s", "%1s", "%8q", "%10x"}
	byteSlices := []any{[]byte{}, []byte(nil), []byte{0}, []byte{1, 0xab, 0xff}, []byte("héllo")}
	byteFormats := []string{"%q", "%s", "%x", "%X", "%#x", "%#X", "%8x", "%3s"}
	errs := []any{errors.New("plain"), &codeError{7}, fmt.Errorf("wrapped: %w", io.EOF), error((*codeError)(nil))}
	methodFormats := []string{"%v", "%s", "%+v", "%q", "%12v"}
	stringers := []any{kind(3), &named{"x"}, (*named)(nil), kind(0)}

	check := func(format string, arg any) {
		t.Helper()
		want := fmt.Sprintf(format, arg)
		if got := Sprintf(format, arg); got != want {
			t.Errorf("Sprintf(%q, %T(%#v)) = %q, fmt gives %q", format, arg, arg, got, want)
		}
	}
	for _, f := range intFormats {
		for _, v := range integers {
			check(f, v)
		}
	}
	for _, f := range textFormats {
		for _, v := range texts {
			check(f, v)
		}
	}
	for _, f := range byteFormats {
		for _, v := range byteSlices {
			check(f, v)
		}
	}
	for _, f := range methodFormats {
		for _, v := range append(errs, stringers...) {
			check(f, v)
		}
	}
	for _, f := range []string{"%v", "%+v", "%5v"} {
		check(f, true)
		check(f, false)
	}
	check("%v", nil)
	check("%5v", nil)

	// Several verbs, literal text and %% in one format.
	for _, c := range []struct {
		format string
		args   []any
	}{
		{"", nil},
		{"no verbs", nil},
		{"100%%", nil},
		{"%s.%s %s", []any{"path", "key", "cannot be read"}},
		{"vCPU family %#x, model %#x, stepping %#x out of range", []any{uint32(0x19), uint32(1), uint32(0x10)}},
		{"%v: %s: got %s, want %s", []any{errors.New("measure: mismatch"), "kernel", "00ff", "ff00"}},
		{"subject %d: digest %q is a %v, want a string", []any{3, "sha256", kind(2)}},
		{"%d%%", []any{50}},
		{"héllo %s wörld", []any{"日本"}},
	} {
		want := fmt.Sprintf(c.format, c.args...)
		if got := Sprintf(c.format, c.args...); got != want {
			t.Errorf("Sprintf(%q, %v) = %q, fmt gives %q", c.format, c.args, got, want)
		}
	}
}

// TestErrorfWrapsLikeFmt: the message is fmt.Errorf's, and errors.Is,
// errors.As and Unwrap see the same errors.
func TestErrorfWrapsLikeFmt(t *testing.T) {
	sentinel := errors.New("verifier: report signature does not verify")
	other := &codeError{5}
	cases := []struct {
		format string
		args   []any
		is     []error
	}{
		{"plain %s", []any{"text"}, nil},
		{"%w", []any{sentinel}, []error{sentinel}},
		{"%w: offset %d", []any{sentinel, 12}, []error{sentinel}},
		{"%w: %v", []any{sentinel, other}, []error{sentinel}}, // %v does not wrap
		{"%w: %w", []any{sentinel, other}, []error{sentinel, other}},
		{"%w (%w, %w)", []any{sentinel, other, io.EOF}, []error{sentinel, other, io.EOF}},
		{"reading: %w", []any{fmt.Errorf("inner: %w", io.ErrUnexpectedEOF)}, []error{io.ErrUnexpectedEOF}},
	}
	for _, c := range cases {
		got, want := Errorf(c.format, c.args...), fmt.Errorf(c.format, c.args...)
		if got.Error() != want.Error() {
			t.Errorf("Errorf(%q).Error() = %q, fmt gives %q", c.format, got, want)
		}
		for _, target := range c.is {
			if !errors.Is(got, target) {
				t.Errorf("Errorf(%q): errors.Is(_, %v) is false", c.format, target)
			}
		}
		if !slicesEqual(unwrapAll(got), unwrapAll(want)) {
			t.Errorf("Errorf(%q) unwraps to %v, fmt's to %v", c.format, unwrapAll(got), unwrapAll(want))
		}
		var ce *codeError
		if errors.As(got, &ce) != errors.As(want, new(*codeError)) {
			t.Errorf("Errorf(%q): errors.As differs from fmt's", c.format)
		}
	}
	if errors.Is(Errorf("%v", sentinel), sentinel) {
		t.Errorf("Errorf wrapped the operand of a %%v verb; only %%w wraps")
	}
}

func unwrapAll(err error) []error {
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return []error{u.Unwrap()}
	case interface{ Unwrap() []error }:
		return u.Unwrap()
	}
	return nil
}

func slicesEqual(a, b []error) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMarkers: what errfmt does not format shows in the message, like fmt's
// %!verb markers, and never panics. The exact text differs from fmt's (which
// names the type through reflect); the source test keeps these out of real
// messages.
func TestMarkers(t *testing.T) {
	for _, c := range []struct {
		format string
		args   []any
	}{
		{"%d", []any{"string"}},
		{"%s", []any{42}},
		{"%x", []any{true}},
		{"%v", []any{struct{ a int }{1}}},
		{"%v", []any{[]int{1, 2}}},
		{"%v", []any{3.5}},
		{"%v", []any{kind(1) == 1}}, // a bool is fine; next one is not
		{"%d", []any{kind(1)}},
		{"%v", []any{map[string]int{"a": 1}}},
		{"%q", []any{true}},
		{"%d", nil},
		{"%d %d", []any{1}},
		{"%d", []any{1, 2}},
		{"%-5d", []any{1}},
		{"% x", []any{"ab"}},
		{"%#v", []any{1}},
		{"%.2f", []any{1.0}},
		{"%", nil},
		{"%s", []any{panicky{}}},
		{"%w", []any{"not an error"}},
		{"%w", []any{nil}},
		{"%v", []any{[]byte{1}}},
		{"%t", []any{true}},
		{"%99999999999999d", []any{1}},
	} {
		got := func() (s string) {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Sprintf(%q) panicked: %v", c.format, r)
				}
			}()
			return Sprintf(c.format, c.args...)
		}()
		e := Errorf(c.format, c.args...)
		if c.format == "%v" && len(c.args) == 1 {
			if _, ok := c.args[0].(bool); ok {
				if got != "true" && got != "false" {
					t.Errorf("Sprintf(%%v, bool) = %q", got)
				}
				continue
			}
		}
		if !strings.Contains(got, "%!") || !strings.Contains(e.Error(), "%!") {
			t.Errorf("Sprintf(%q, %v) = %q, Errorf gives %q: no %%! marker", c.format, c.args, got, e)
		}
	}
	if s := Sprintf("%99999999999999d", 1); len(s) > 1e6+1 {
		t.Errorf("a huge width allocated %d bytes", len(s))
	}
}

// TestSprintfWDoesNotWrap: Sprintf has nothing to wrap into, and says so as
// fmt.Sprintf does.
func TestSprintfWDoesNotWrap(t *testing.T) {
	if got := Sprintf("%w", os.ErrNotExist); !strings.HasPrefix(got, "%!w(") {
		t.Errorf("Sprintf(%%w) = %q, want a %%!w marker", got)
	}
}

func BenchmarkErrorf(b *testing.B) {
	sentinel := errors.New("measure: manifest is malformed")
	for b.Loop() {
		_ = Errorf("%w: section %d (%v) at %#x size %#x is not whole pages", sentinel, 3, kind(2), uint32(0x800000), uint32(0x1000))
	}
}
