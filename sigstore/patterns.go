package sigstore

import "errors"

// pattern is a compiled Policy pattern; String is its anchored source, as
// Results show it.
type pattern struct {
	source string
	match  func(string) bool
}

func (p *pattern) MatchString(s string) bool { return p.match(s) }
func (p *pattern) String() string            { return p.source }

func compilePattern(compile PatternCompiler, src string) (*pattern, error) {
	if compile == nil {
		return nil, errors.New("this build has no pattern compiler (Options.Patterns)")
	}
	match, err := compile(src)
	if err != nil {
		return nil, err
	}
	return &pattern{source: "^(?:" + src + ")$", match: match}, nil
}
