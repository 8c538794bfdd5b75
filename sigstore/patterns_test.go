package sigstore

import (
	"context"
	"errors"
	"testing"
)

// TestPatternsOption: the policy's patterns go through Options.Patterns
// (the browser passes its RegExp there); what it refuses is an invalid
// policy, and what it matches decides the identity check.
func TestPatternsOption(t *testing.T) {
	var compiled []string
	refuse := false
	v, err := New(Options{Patterns: func(src string) (func(string) bool, error) {
		compiled = append(compiled, src)
		if refuse {
			return nil, errors.New("not a pattern")
		}
		return GoPatterns(src)
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := caseNamed(t, "happy-path-v0.3")
	p := c.policy(false)
	p.Identity, p.IdentityRegexp = "", `https://github\.com/sigstore-conformance/.*@refs/heads/main`
	p.RefPattern = `refs/heads/.+`
	if _, err := v.Verify(context.Background(), c.bundle, p); err != nil {
		t.Fatal(err)
	}
	if len(compiled) != 2 {
		t.Fatalf("compiled %q, want the identity and the ref pattern", compiled)
	}
	p.RefPattern = `refs/tags/.+`
	var rej *RejectedError
	if _, err := v.Verify(context.Background(), c.bundle, p); !errors.As(err, &rej) || !errors.Is(err, ErrIdentity) {
		t.Fatalf("another ref verified: %v", err)
	}
	if f := rej.Result.Failed(); len(f) != 1 || f[0].Name != "ref" || f[0].Want != "^(?:refs/tags/.+)$" {
		t.Fatalf("failed checks %+v", f)
	}
	refuse = true
	if _, err := v.Verify(context.Background(), c.bundle, p); !errors.Is(err, ErrBadPolicy) {
		t.Fatalf("a pattern the compiler refuses: %v, want ErrBadPolicy", err)
	}
}
