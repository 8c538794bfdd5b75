// Package strictjson is a small, strict JSON decoder for the browser build,
// where encoding/json would add size. It decodes into a tree of Values and
// refuses anything ambiguous: duplicate object keys, invalid UTF-8, lone
// surrogate escapes, trailing data, and input beyond its size and depth
// limits. Numbers are kept as their text.
package strictjson

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
)

// ErrSyntax is wrapped by every decoding error. The others name the
// refusals of documents that encoding/json would accept.
var (
	ErrSyntax       = errors.New("invalid JSON")
	ErrDuplicateKey = errfmt.Errorf("%w: duplicate key", ErrSyntax)
	ErrSurrogate    = errfmt.Errorf("%w: lone surrogate escape", ErrSyntax)
	ErrLimit        = errfmt.Errorf("%w: size or depth limit", ErrSyntax)
	ErrUTF8         = errfmt.Errorf("%w: not UTF-8", ErrSyntax)
)

// Limits bound the work a document may cause.
type Limits struct {
	MaxBytes int // whole document
	MaxDepth int // nesting of arrays and objects
}

// DefaultLimits fit Sigstore bundles and trusted roots with room to spare.
var DefaultLimits = Limits{MaxBytes: 4 << 20, MaxDepth: 32}

// Kind is the JSON type of a Value.
type Kind uint8

const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

func (k Kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// Member is one key of an object, in document order.
type Member struct {
	Key   string
	Value *Value
}

// Value is a decoded JSON value.
type Value struct {
	Kind    Kind
	Bool    bool
	Text    string // the string's value, or the number's literal text
	Items   []*Value
	Members []Member
	// Start and End are the byte offsets of the value in the document:
	// data[Start:End] is its exact text, for a caller that hands a part
	// of a signed document to another parser.
	Start, End int
}

// Parse decodes one JSON document with DefaultLimits.
func Parse(data []byte) (*Value, error) { return ParseLimits(data, DefaultLimits) }

// ParseLimits decodes one JSON document.
func ParseLimits(data []byte, lim Limits) (*Value, error) {
	if lim.MaxBytes > 0 && len(data) > lim.MaxBytes {
		return nil, errfmt.Errorf("%w: document of %d bytes exceeds the limit of %d", ErrLimit, len(data), lim.MaxBytes)
	}
	if !utf8.Valid(data) {
		return nil, ErrUTF8
	}
	d := decoder{data: data, maxDepth: lim.MaxDepth}
	d.space()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.space()
	if d.pos != len(d.data) {
		return nil, d.errorf("trailing data")
	}
	return v, nil
}

type decoder struct {
	data     []byte
	pos      int
	maxDepth int
}

func (d *decoder) errorf(format string, args ...any) error {
	return errfmt.Errorf("%w: %s at offset %d", ErrSyntax, errfmt.Sprintf(format, args...), d.pos)
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) literal(word string) bool {
	if len(d.data)-d.pos >= len(word) && string(d.data[d.pos:d.pos+len(word)]) == word {
		d.pos += len(word)
		return true
	}
	return false
}

func (d *decoder) value(depth int) (*Value, error) {
	start := d.pos
	v, err := d.bareValue(depth)
	if err != nil {
		return nil, err
	}
	v.Start, v.End = start, d.pos
	return v, nil
}

func (d *decoder) bareValue(depth int) (*Value, error) {
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return &Value{Kind: String, Text: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case d.literal("true"):
		return &Value{Kind: Bool, Bool: true}, nil
	case d.literal("false"):
		return &Value{Kind: Bool}, nil
	case d.literal("null"):
		return &Value{Kind: Null}, nil
	}
	return nil, d.errorf("unexpected character %q", d.data[d.pos])
}

func (d *decoder) object(depth int) (*Value, error) {
	if d.maxDepth > 0 && depth > d.maxDepth {
		return nil, errfmt.Errorf("%w: nesting deeper than %d", ErrLimit, d.maxDepth)
	}
	d.pos++ // {
	v := &Value{Kind: Object}
	seen := map[string]bool{}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return v, nil
	}
	for {
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errorf("expected a key")
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, errfmt.Errorf("%w %q at offset %d", ErrDuplicateKey, key, d.pos)
		}
		seen[key] = true
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf("expected ':'")
		}
		d.pos++
		d.space()
		item, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		v.Members = append(v.Members, Member{Key: key, Value: item})
		d.space()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unterminated object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return v, nil
		default:
			return nil, d.errorf("expected ',' or '}'")
		}
	}
}

func (d *decoder) array(depth int) (*Value, error) {
	if d.maxDepth > 0 && depth > d.maxDepth {
		return nil, errfmt.Errorf("%w: nesting deeper than %d", ErrLimit, d.maxDepth)
	}
	d.pos++ // [
	v := &Value{Kind: Array}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return v, nil
	}
	for {
		d.space()
		item, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		v.Items = append(v.Items, item)
		d.space()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unterminated array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return v, nil
		default:
			return nil, d.errorf("expected ',' or ']'")
		}
	}
}

func (d *decoder) number() (*Value, error) {
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos < len(d.data) && d.data[d.pos] == '0' {
		d.pos++
	} else if digits() == 0 {
		return nil, d.errorf("bad number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return nil, d.errorf("bad number")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, d.errorf("bad number")
		}
	}
	return &Value{Kind: Number, Text: string(d.data[start:d.pos])}, nil
}

func (d *decoder) str() (string, error) {
	d.pos++ // opening quote
	var out []byte
	start := d.pos
	for {
		if d.pos >= len(d.data) {
			return "", d.errorf("unterminated string")
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			s := string(append(out, d.data[start:d.pos]...))
			d.pos++
			return s, nil
		case c < 0x20:
			return "", d.errorf("control character in string")
		case c == '\\':
			out = append(out, d.data[start:d.pos]...)
			d.pos++
			if d.pos >= len(d.data) {
				return "", d.errorf("unterminated escape")
			}
			e := d.data[d.pos]
			d.pos++
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, err := d.hex4()
				if err != nil {
					return "", err
				}
				if utf16.IsSurrogate(r) {
					if r >= 0xdc00 || !d.literal(`\u`) {
						return "", errfmt.Errorf("%w at offset %d", ErrSurrogate, d.pos)
					}
					r2, err := d.hex4()
					if err != nil {
						return "", err
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return "", errfmt.Errorf("%w at offset %d", ErrSurrogate, d.pos)
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", d.errorf("bad escape")
			}
			start = d.pos
		default:
			d.pos++
		}
	}
}

func (d *decoder) hex4() (rune, error) {
	if len(d.data)-d.pos < 4 {
		return 0, d.errorf("short \\u escape")
	}
	n, err := strconv.ParseUint(string(d.data[d.pos:d.pos+4]), 16, 32)
	if err != nil {
		return 0, d.errorf("bad \\u escape")
	}
	d.pos += 4
	return rune(n), nil
}

// Get returns the member named key of an object, or nil when there is no
// such member or it is null: protobuf's JSON form, which Sigstore uses,
// reads a null field as an absent one.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Object {
		return nil
	}
	for _, m := range v.Members {
		if m.Key == key {
			if m.Value.Kind == Null {
				return nil
			}
			return m.Value
		}
	}
	return nil
}

// Int64 returns a number that is an integer in int64's range. JSON strings
// holding an integer are accepted too: protobuf's JSON form writes int64
// fields that way.
func (v *Value) Int64() (int64, error) {
	if v == nil || (v.Kind != Number && v.Kind != String) {
		return 0, errfmt.Errorf("%w: not an integer", ErrSyntax)
	}
	n, err := strconv.ParseInt(v.Text, 10, 64)
	if err != nil {
		return 0, errfmt.Errorf("%w: %q is not an integer", ErrSyntax, v.Text)
	}
	return n, nil
}

// AppendString appends s as a JSON string, escaping only what JSON requires
// (as canonical JSON, RFC 8785, does), to b.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
