package main

import (
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/pagefixture"
)

// TestAuditPageHostile audits each page of internal/pagefixture: the clean
// pinned page passes (exit 0), and every page that can take the widget over
// — a script, a nested document, a navigation, what the element is told,
// page CSS on its parts, an import map entry for one of its files — fails
// (exit 1).
func TestAuditPageHostile(t *testing.T) {
	base := pagefixture.Serve(t, nil)
	build := pagefixture.Build(t)
	for _, p := range pagefixture.Pages(t) {
		t.Run(p.Name, func(t *testing.T) {
			code, out, errOut := runAuditCLI(base+"/"+p.Name, "--build", build)
			want := exitRejected
			if p.Pass {
				want = exitOK
			}
			if code != want {
				t.Errorf("exit %d, want %d:\n%s%s", code, want, out, errOut)
			}
		})
	}
}
