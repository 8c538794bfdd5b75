//go:build !js

package sigstore

import "regexp"

// compileIdentityRegexp compiles an RE2 expression that must match a whole
// identity.
func compileIdentityRegexp(expr string) (func(string) bool, error) {
	re, err := regexp.Compile("^(?:" + expr + ")$")
	if err != nil {
		return nil, err
	}
	return re.MatchString, nil
}
