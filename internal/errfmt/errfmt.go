// Package errfmt formats the error messages and short strings of the
// packages the browser links (the verifier, the Sigstore and release
// verifiers, the launch digest and the wasm boundary), without fmt.
//
// # Why not fmt
//
// fmt formats any value through reflect, and so links reflect, internal/fmtsort
// and os with it: 126 KB of brotli-compressed wasm on top of an empty Go
// program, and 58 to 72 KB of the verifier's wasm, whose other packages share
// some of that code (measured with ../../scripts/build-wasm.sh; the steps are
// in ../../wasm/README.md). The page's budget is 700 KB for everything. The
// messages these packages write need a handful of verbs on a handful of
// types, which a type switch covers in 35 KB of code.
//
// # What it formats
//
// The verbs and types below, with fmt's output for each (errfmt_test.go
// compares the two for every combination):
//
//	%v %s    string, []byte (%s only), error, Stringer, bool (%v), integers (%v), nil (%v)
//	%q       string, []byte, error, Stringer; an integer as a quoted character
//	%d       integers (int, int8…int64, uint, uint8…uint64, uintptr)
//	%x %X    integers, string, []byte; with # a 0x/0X prefix
//	%w       error (Errorf only): the result wraps it, as fmt.Errorf does
//	%%       a percent sign
//
// A width (%4d, %02x, %016x) pads with spaces, or with zeros after any sign
// and prefix under the 0 flag; %+v is %v. Integers mean the predeclared types
// themselves: a named integer type (type Kind uint8) is converted at the call
// (uint8(k)) or gets a String method, because telling its kind needs reflect.
//
// Anything else prints a visible marker in the message, %!d(unsupported
// type) and the like, and never panics: a panic in the browser build kills
// the page's verifier. The markers do not appear in real messages because
// source_test.go reads every call in the browser-linked packages (and in
// functions that forward a format and its arguments) and checks each verb
// against the static type of its argument and the argument count.
//
// Errorf wraps like fmt.Errorf: one %w gives an error whose Unwrap returns
// that error, several give Unwrap() []error, and errors.Is and errors.As see
// through both.
//
// The same formatter runs in every build, so an error's text is the same
// natively and in the browser (the browser tests compare the two).
package errfmt

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Stringer is fmt.Stringer, declared here so that this package does not
// import fmt; any type with a String method satisfies both.
type Stringer interface {
	String() string
}

// Sprintf formats according to format, as fmt.Sprintf does for the verbs and
// types of the package documentation. %w formats as %v.
func Sprintf(format string, args ...any) string {
	p := printer{}
	p.doPrintf(format, args, false)
	return string(p.buf)
}

// Errorf formats according to format, as fmt.Errorf does for the verbs and
// types of the package documentation, and returns the message as an error.
// If format has %w verbs whose operands are errors, the error wraps them.
func Errorf(format string, args ...any) error {
	p := printer{}
	p.doPrintf(format, args, true)
	msg := string(p.buf)
	switch len(p.wrapped) {
	case 0:
		return errors.New(msg)
	case 1:
		return &wrapError{msg: msg, err: p.wrapped[0]}
	default:
		return &wrapErrors{msg: msg, errs: p.wrapped}
	}
}

type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

type wrapErrors struct {
	msg  string
	errs []error
}

func (e *wrapErrors) Error() string   { return e.msg }
func (e *wrapErrors) Unwrap() []error { return e.errs }

// spec is one parsed verb: %[flags][width]verb.
type spec struct {
	verb               rune
	sharp, zero, plus  bool
	minus, space       bool
	width              int
	hasWidth, badWidth bool
}

type printer struct {
	buf     []byte
	wrapped []error
	// wrapping is set in Errorf; Sprintf marks %w as fmt.Sprintf does.
	wrapping bool
}

func (p *printer) doPrintf(format string, args []any, wrapping bool) {
	p.wrapping = wrapping
	argNum := 0
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			j := i + 1
			for j < len(format) && format[j] != '%' {
				j++
			}
			p.buf = append(p.buf, format[i:j]...)
			i = j
			continue
		}
		i++
		var s spec
	flags:
		for ; i < len(format); i++ {
			switch format[i] {
			case '#':
				s.sharp = true
			case '0':
				s.zero = true
			case '+':
				s.plus = true
			case '-':
				s.minus = true
			case ' ':
				s.space = true
			default:
				break flags
			}
		}
		for i < len(format) && format[i] >= '0' && format[i] <= '9' {
			s.width = s.width*10 + int(format[i]-'0')
			s.hasWidth = true
			i++
			if s.width > 1e6 {
				s.width = 1e6 // as fmt: a huge width is refused, not allocated
				s.badWidth = true
			}
		}
		if i >= len(format) {
			p.buf = append(p.buf, "%!(NOVERB)"...)
			break
		}
		verb, size := utf8.DecodeRuneInString(format[i:])
		i += size
		s.verb = verb
		if verb == '%' {
			p.buf = append(p.buf, '%')
			continue
		}
		if argNum >= len(args) {
			p.buf = append(p.buf, '%', '!')
			p.buf = utf8.AppendRune(p.buf, verb)
			p.buf = append(p.buf, "(MISSING)"...)
			continue
		}
		p.printArg(args[argNum], s)
		argNum++
	}
	if argNum < len(args) {
		p.buf = append(p.buf, "%!(EXTRA)"...)
	}
}

// bad writes the marker for a verb that cannot format its argument.
func (p *printer) bad(s spec, why string) {
	p.buf = append(p.buf, '%', '!')
	p.buf = utf8.AppendRune(p.buf, s.verb)
	p.buf = append(p.buf, '(')
	p.buf = append(p.buf, why...)
	p.buf = append(p.buf, ')')
}

func (p *printer) printArg(arg any, s spec) {
	// Flags and widths are those of the package documentation; a format
	// outside them is marked rather than approximated.
	if s.badWidth {
		p.buf = append(p.buf, "%!(BADWIDTH)"...)
		return
	}
	if s.minus || s.space || (s.plus && s.verb != 'v') || (s.sharp && s.verb != 'x' && s.verb != 'X') {
		p.bad(s, "unsupported flag")
		return
	}
	if s.verb == 'w' {
		err, ok := arg.(error)
		if !ok || err == nil || !p.wrapping {
			p.bad(s, "not an error")
			return
		}
		p.wrapped = append(p.wrapped, err)
		s.verb = 'v'
	}
	if arg == nil {
		if s.verb == 'v' {
			p.pad("<nil>", s, false)
			return
		}
		p.bad(s, "<nil>")
		return
	}
	if neg, u, ok := integer(arg); ok {
		p.integer(neg, u, s)
		return
	}
	switch v := arg.(type) {
	case bool:
		if s.verb != 'v' {
			p.bad(s, "unsupported verb for bool")
			return
		}
		p.pad(strconv.FormatBool(v), s, false)
	case string:
		p.text(v, s)
	case []byte:
		if s.verb != 's' && s.verb != 'q' && s.verb != 'x' && s.verb != 'X' {
			p.bad(s, "unsupported verb for []byte")
			return
		}
		p.text(string(v), s)
	case error:
		// fmt prefers Error to String, and uses either only for these verbs.
		if s.verb != 'v' && s.verb != 's' && s.verb != 'q' {
			p.bad(s, "unsupported verb for error")
			return
		}
		p.method(v.Error, s)
	case Stringer:
		if s.verb != 'v' && s.verb != 's' && s.verb != 'q' {
			p.bad(s, "unsupported verb for Stringer")
			return
		}
		p.method(v.String, s)
	default:
		p.bad(s, "unsupported type")
	}
}

// method formats the result of an Error or String method. A panic in it
// becomes a marker, as in fmt; a nil pointer dereference (a nil receiver)
// prints a bare <nil>, as fmt does.
func (p *printer) method(m func() string, s spec) {
	str, panicked := call(m)
	switch {
	case !panicked:
		p.text(str, s)
	case str == "<nil>":
		p.buf = append(p.buf, str...)
	default:
		p.buf = append(p.buf, "%!"...)
		p.buf = utf8.AppendRune(p.buf, s.verb)
		p.buf = append(p.buf, "(PANIC in Error or String method)"...)
	}
}

func call(m func() string) (out string, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			panicked, out = true, ""
			if e, ok := r.(error); ok && strings.Contains(e.Error(), "nil pointer dereference") {
				out = "<nil>"
			}
		}
	}()
	return m(), false
}

// integer returns the sign and magnitude of an integer of a predeclared
// type. One switch that only converts, and one call of p.integer after it,
// keep the code small in the wasm.
func integer(arg any) (neg bool, u uint64, ok bool) {
	var i int64
	switch v := arg.(type) {
	case int:
		i = int64(v)
	case int8:
		i = int64(v)
	case int16:
		i = int64(v)
	case int32:
		i = int64(v)
	case int64:
		i = v
	case uint:
		return false, uint64(v), true
	case uint8:
		return false, uint64(v), true
	case uint16:
		return false, uint64(v), true
	case uint32:
		return false, uint64(v), true
	case uint64:
		return false, v, true
	case uintptr:
		return false, uint64(v), true
	default:
		return false, 0, false
	}
	return i < 0, uint64(abs(i)), true
}

func abs(v int64) int64 {
	if v < 0 {
		return -v // -minInt64 stays minInt64, whose uint64 is right
	}
	return v
}

func (p *printer) integer(neg bool, u uint64, s spec) {
	var digits, prefix string
	switch s.verb {
	case 'd', 'v':
		digits = strconv.FormatUint(u, 10)
	case 'x':
		digits = strconv.FormatUint(u, 16)
		if s.sharp {
			prefix = "0x"
		}
	case 'X':
		digits = upper(strconv.FormatUint(u, 16))
		if s.sharp {
			prefix = "0X"
		}
	case 'q':
		// fmt quotes the character with that code point.
		r := utf8.RuneError
		if !neg && u <= utf8.MaxRune {
			r = rune(u)
		}
		p.pad(strconv.QuoteRune(r), s, false)
		return
	default:
		p.bad(s, "unsupported verb for integer")
		return
	}
	sign := ""
	if neg {
		sign = "-"
	}
	// fmt pads the digits to the width less the sign, and puts the 0x
	// prefix in front of that: %#08x of 255 is 0x000000ff.
	if s.zero && s.hasWidth {
		for n := len(sign) + len(digits); n < s.width; n++ {
			digits = "0" + digits
		}
	}
	p.pad(sign+prefix+digits, s, true)
}

// text formats a string (or the bytes, the error message, the String
// result that stands for it) under %v %s %q %x %X.
func (p *printer) text(str string, s spec) {
	switch s.verb {
	case 'v', 's':
		p.pad(str, s, false)
	case 'q':
		p.pad(strconv.Quote(str), s, false)
	case 'x', 'X':
		const lower, upperDigits = "0123456789abcdef", "0123456789ABCDEF"
		digits := lower
		if s.verb == 'X' {
			digits = upperDigits
		}
		out := make([]byte, 0, 2+2*len(str))
		if s.sharp && len(str) > 0 {
			out = append(out, '0', byte(s.verb))
		}
		for i := 0; i < len(str); i++ {
			out = append(out, digits[str[i]>>4], digits[str[i]&0xf])
		}
		p.pad(string(out), s, false)
	default:
		p.bad(s, "unsupported verb for string")
	}
}

// pad writes str right-aligned in the spec's width, counted in runes as fmt
// does, with zeros under the 0 flag; numbers were zero-padded already.
func (p *printer) pad(str string, s spec, number bool) {
	for n := utf8.RuneCountInString(str); n < s.width; n++ {
		if s.zero && !number {
			p.buf = append(p.buf, '0')
		} else {
			p.buf = append(p.buf, ' ')
		}
	}
	p.buf = append(p.buf, str...)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
