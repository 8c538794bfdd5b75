package pageaudit

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/internal/pagefixture"
)

func fixturePolicy(t *testing.T, allowed ...string) *Policy {
	t.Helper()
	b, err := os.ReadFile(pagefixture.Build(t))
	if err != nil {
		t.Fatal(err)
	}
	build, err := ParseBuild(b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPolicy(build, allowed...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func auditURL(t *testing.T, u string, p *Policy) *Report {
	t.Helper()
	r, err := Audit(context.Background(), &http.Client{}, u, p)
	if err != nil {
		t.Fatalf("Audit(%s): %v", u, err)
	}
	return r
}

// failed lists the checks of r's failing findings and attributes.
func failed(r *Report) []Check {
	var out []Check
	for _, f := range r.Findings {
		if f.Outcome == Fail {
			out = append(out, f.Check)
		}
	}
	for _, e := range r.Elements {
		for _, a := range e.Attributes {
			if a.Outcome == Fail {
				out = append(out, CheckElement)
			}
		}
	}
	for _, f := range r.WidgetFiles {
		if !f.OK {
			out = append(out, CheckWidget)
		}
	}
	return out
}

// TestFixturePages: each page of internal/pagefixture passes or fails as
// its first line says, naming the kind of finding it says.
func TestFixturePages(t *testing.T) {
	base := pagefixture.Serve(t, nil)
	policy := fixturePolicy(t)
	for _, p := range pagefixture.Pages(t) {
		t.Run(p.Name, func(t *testing.T) {
			r := auditURL(t, base+"/"+p.Name, policy)
			got := failed(r)
			if r.Passed != p.Pass || !p.Pass && !containsCheck(got, Check(p.Kind)) {
				t.Errorf("passed %v, failing %v; want passed %v naming %q\n%s", r.Passed, got, p.Pass, p.Kind, dump(r))
			}
		})
	}
}

func containsCheck(list []Check, c Check) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

func dump(r *Report) string {
	var b strings.Builder
	for _, f := range r.WidgetFiles {
		b.WriteString("  file " + f.Name + ": " + f.Content + "; " + f.Pinning + "\n")
	}
	for _, e := range r.Elements {
		for _, a := range e.Attributes {
			b.WriteString("  attr " + a.Name + "=" + a.Value + " " + string(a.Outcome) + " " + a.Why + "\n")
		}
	}
	for _, f := range r.Findings {
		b.WriteString("  " + string(f.Outcome) + " " + string(f.Check) + ": " + f.What + " @ " + f.Where + " — " + f.Why + "\n")
	}
	return b.String()
}
