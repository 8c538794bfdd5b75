//go:build js

package sigstore

import "errors"

// compileIdentityRegexp: the browser build does without regexp (about
// 100 KB compressed); a page names its signer exactly, or by repository
// and workflow.
func compileIdentityRegexp(string) (func(string) bool, error) {
	return nil, errors.New("identity patterns are not available in the browser build; name the identity exactly, or the repository and its workflow")
}
