package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/pageaudit"
)

func init() {
	register("audit-page", "check that a deployed page runs the published widget, pinned, and nothing that can take it over", runAuditPage)
}

const auditPageUsage = `usage: cvmtrust audit-page URL --build build.json [--allow-script sha384-…]… [--timeout DURATION] [--json]

Fetches the page at URL and every widget file it loads, through the page's
import map as a browser resolves it, and compares each byte for byte with
build.json (of a release, or of your own reproducible build at the
release's commit); each must be pinned by integrity. It reads what else the
page can run (scripts of every type a browser runs, event handlers,
javascript: URLs, frames and other nested documents), what can navigate
(meta refresh, <base>), what the <cvm-attest> element is told (its
attributes), and the page CSS that can reach the element. Anything else that
can run fails unless allowed by its hash with --allow-script (the report
prints each one's hash).

Exit status: 0 the page loads exactly this widget build, pinned, and nothing
fails; 1 something fails (each is listed, with why it matters); 2 unusable
input (the page or build.json cannot be read).

flags:
`

func runAuditPage(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("audit-page", auditPageUsage, stderr)
	buildFile := fs.String("build", "", "build.json `file` of the widget build the page must load")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this `duration`")
	jsonOut := fs.Bool("json", false, "print the report as JSON ("+pageaudit.MediaType+")")
	var allowed []string
	fs.Func("allow-script", "allow the code (script, module, handler, javascript: URL, srcdoc) with this `hash` (sha384-…; repeatable)", func(s string) error {
		allowed = append(allowed, s)
		return nil
	})
	// The page URL may come before or after the flags.
	var pageURL string
	var rest []string
	for _, a := range args {
		if pageURL == "" && (strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://")) {
			pageURL = a
			continue
		}
		rest = append(rest, a)
	}
	if code, done := parseFlags(fs, rest); done {
		return code
	}
	if pageURL == "" {
		return usageError(stderr, "audit-page: give the page's http:// or https:// URL")
	}
	if *buildFile == "" {
		return usageError(stderr, "audit-page: give --build build.json")
	}
	b, err := os.ReadFile(*buildFile)
	if err != nil {
		return usageError(stderr, "audit-page: --build: %v", err)
	}
	build, err := pageaudit.ParseBuild(b)
	if err != nil {
		return usageError(stderr, "audit-page: --build %s: %v", *buildFile, err)
	}
	policy, err := pageaudit.NewPolicy(build, allowed...)
	if err != nil {
		return usageError(stderr, "audit-page: --allow-script: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	rep, err := pageaudit.Audit(ctx, &http.Client{}, pageURL, policy)
	if err != nil {
		return usageError(stderr, "audit-page: %v", err)
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return usageError(stderr, "audit-page: %v", err)
		}
	} else {
		printAudit(stdout, rep)
	}
	if !rep.Passed {
		return exitRejected
	}
	return exitOK
}

var outcomeMarks = map[pageaudit.Outcome]string{
	pageaudit.Pass: "ok  ", pageaudit.Fail: "FAIL", pageaudit.Allowed: "allowed", pageaudit.Note: "note",
}

func printAudit(w io.Writer, rep *pageaudit.Report) {
	fmt.Fprintf(w, "page %s\n", rep.Page)
	if len(rep.WidgetFiles) > 0 {
		fmt.Fprintf(w, "widget files, from %s\n", rep.WidgetRoot)
		for _, f := range rep.WidgetFiles {
			mark := "ok  "
			if !f.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(w, "  %s %-20s %s; %s\n", mark, f.Name, f.Content, f.Pinning)
		}
	}
	for i, e := range rep.Elements {
		fmt.Fprintf(w, "what <cvm-attest> #%d is told:\n", i+1)
		for _, a := range e.Attributes {
			fmt.Fprintf(w, "  %s %s=%q: %s\n", outcomeMarks[a.Outcome], a.Name, a.Value, a.Meaning)
			if a.Why != "" {
				fmt.Fprintf(w, "       %s\n", a.Why)
			}
		}
	}
	if len(rep.Findings) > 0 {
		fmt.Fprintln(w, "what else the page can run, navigate to or restyle:")
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "  %s %s: %s", outcomeMarks[f.Outcome], f.Check, f.What)
		if f.Hash != "" {
			fmt.Fprintf(w, " (%s)", f.Hash)
		}
		fmt.Fprintln(w)
		if f.Where != "" {
			fmt.Fprintf(w, "       %s\n", f.Where)
		}
		fmt.Fprintf(w, "       %s\n", f.Why)
	}
	if rep.Passed {
		fmt.Fprintln(w, "PASS: the page loads exactly this widget build, pinned, and nothing in it can take the widget over")
	} else {
		fmt.Fprintln(w, "FAIL: the page does not load exactly this widget build, pinned, or something in it can take the widget over (see FAIL above)")
	}
}
