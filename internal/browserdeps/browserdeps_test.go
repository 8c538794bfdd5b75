//go:build !js

package browserdeps

import (
	"fmt"
	"strings"
	"testing"
)

// recorder collects what RefuseReachable reports instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.errs = append(r.errs, "fatal: "+fmt.Sprintf(format, args...))
}

func TestRefuseReachable(t *testing.T) {
	graph := map[string][]string{
		"main":          {"verifier", "encoding/hex"},
		"verifier":      {"errfmt", "crypto/sha256"},
		"errfmt":        {"strconv"},
		"encoding/hex":  {"fmt"},
		"crypto/sha256": {"os"},
		"fmt":           {"os", "reflect"},
	}
	for _, c := range []struct {
		name             string
		banned, through  []string
		wantErrs         int
		wantInFirstError string
	}{
		{"reached through a kept package", []string{"fmt"}, nil, 1, ""},
		{"only through the exemption", []string{"fmt", "reflect"}, []string{"encoding/hex"}, 0, ""},
		{"also reached another way", []string{"os"}, []string{"encoding/hex"}, 1, ""},
		{"every way exempted", []string{"os", "fmt", "reflect"}, []string{"encoding/hex", "crypto/sha256"}, 0, ""},
		{"stale exemption", []string{"fmt"}, []string{"encoding/hex", "crypto/x509"}, 1, "no longer links"},
		{"not linked at all", []string{"net/http"}, nil, 0, ""},
	} {
		r := &recorder{TB: t}
		RefuseReachable(r, "test", graph, "main", c.banned, c.through)
		if len(r.errs) != c.wantErrs {
			t.Errorf("%s: %d errors %v, want %d", c.name, len(r.errs), r.errs, c.wantErrs)
		}
		if c.wantInFirstError != "" && (len(r.errs) == 0 || !strings.Contains(r.errs[0], c.wantInFirstError)) {
			t.Errorf("%s: errors %v, want one saying %q", c.name, r.errs, c.wantInFirstError)
		}
	}
	// The error names the way in.
	r := &recorder{TB: t}
	RefuseReachable(r, "test", graph, "main", []string{"reflect"}, nil)
	if len(r.errs) != 1 || !strings.HasSuffix(r.errs[0], "links reflect: main → encoding/hex → fmt → reflect") {
		t.Errorf("errors %v, want the chain main → encoding/hex → fmt → reflect", r.errs)
	}
}
