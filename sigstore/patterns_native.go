//go:build !js

package sigstore

import "regexp"

// defaultPatterns is Go's regexp, anchored to the whole string.
func defaultPatterns() PatternCompiler { return GoPatterns }

// GoPatterns compiles with Go's regexp (RE2), anchored to the whole string.
func GoPatterns(src string) (func(string) bool, error) {
	re, err := regexp.Compile("^(?:" + src + ")$")
	if err != nil {
		return nil, err
	}
	return re.MatchString, nil
}
