package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/pageaudit"
	"github.com/cvmtrust/cvmtrust/verifier"
)

func init() {
	register("audit-page", "check that a deployed page runs the published widget, pinned, and nothing that can take it over", runAuditPage)
}

const auditPageUsage = `usage: cvmtrust audit-page URL --build build.json [--allow-script sha384-…]…
                            [--measurement HEX … | --any-measurement-unsafe] [--simulated-root FILE]
                            [--ca FILE] [--timeout DURATION] [--json]

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

It also says whether the page came from the attested machine. For an
https:// page it asks the gateway the element names for its attestation
with a fresh nonce and verifies it as cvmtrust verify --gateway does,
against --measurement (required for an https:// page; --simulated-root,
--kds, --vmpl, --min-tcb and --bulletin-tcb-floor as for verify); the page
passes only when the TLS key of the connection that served it is the key
that report binds. A proxy in front of the machine, another server,
evidence v1 (no TLS key) or a report that does not verify fail; so does
plain http://, except on this machine's own address (localhost, 127.0.0.1,
::1: a development setup), where it is a note. --ca trusts another CA for every HTTPS fetch.

Exit status: 0 the page loads exactly this widget build, pinned, nothing
fails, and (over https) it came from the attested machine; 1 something
fails (each is listed, with why it matters); 2 unusable input (the page or
build.json cannot be read, or an https:// page without --measurement).

flags:
`

func runAuditPage(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("audit-page", auditPageUsage, stderr)
	buildFile := fs.String("build", "", "build.json `file` of the widget build the page must load")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this `duration`")
	jsonOut := fs.Bool("json", false, "print the report as JSON ("+pageaudit.MediaType+")")
	caFile := fs.String("ca", "", "also trust this CA `file` (PEM) for HTTPS: the page, its files and the gateway (tests, private CAs)")
	var att attestationFlags
	att.register(fs)
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
	// Over https the page's origin is checked against its gateway's
	// attestation, which needs to know what the machine must run.
	if att.given() || strings.HasPrefix(pageURL, "https://") {
		if err := att.check(); err != nil {
			return usageError(stderr, "audit-page: an https page is checked against its gateway's attestation: %v", err)
		}
		var exp verifier.Expectation
		var opts verifier.Options
		if err := att.apply(&exp, &opts); err != nil {
			return usageError(stderr, "audit-page: %v", err)
		}
		v, err := verifier.New(opts)
		if err != nil {
			return usageError(stderr, "audit-page: %v", err)
		}
		if policy, err = policy.WithAttestation(v, exp); err != nil {
			return usageError(stderr, "audit-page: %v", err)
		}
	}
	client, err := httpClient(*caFile)
	if err != nil {
		return usageError(stderr, "audit-page: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	rep, err := pageaudit.Audit(ctx, client, pageURL, policy)
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
	if rep.TLSKeySHA256 != "" {
		fmt.Fprintf(w, "  served over TLS with key (SPKI SHA-256) %s\n", rep.TLSKeySHA256)
	}
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
	var origin, others []pageaudit.Finding
	contentFails, originFails := false, false
	for _, f := range rep.WidgetFiles {
		contentFails = contentFails || !f.OK
	}
	for _, e := range rep.Elements {
		for _, a := range e.Attributes {
			contentFails = contentFails || a.Outcome == pageaudit.Fail
		}
	}
	for _, f := range rep.Findings {
		if f.Check == pageaudit.CheckOrigin {
			origin = append(origin, f)
			originFails = originFails || f.Outcome == pageaudit.Fail
		} else {
			others = append(others, f)
			contentFails = contentFails || f.Outcome == pageaudit.Fail
		}
	}
	if len(origin) > 0 {
		fmt.Fprintln(w, "where the page came from:")
		printFindings(w, origin)
	}
	if len(others) > 0 {
		fmt.Fprintln(w, "what else the page can run, navigate to or restyle:")
		printFindings(w, others)
	}
	switch {
	case rep.Passed && rep.FromAttestedMachine:
		fmt.Fprintln(w, "PASS: the page loads exactly this widget build, pinned, nothing in it can take the widget over, and it came from the attested machine")
	case rep.Passed:
		fmt.Fprintln(w, "PASS: the page loads exactly this widget build, pinned, and nothing in it can take the widget over (where it came from is a note above)")
	default:
		var why []string
		if contentFails {
			why = append(why, "the page does not load exactly this widget build, pinned, or something in it can take the widget over")
		}
		if originFails {
			why = append(why, "it is not shown to come from the attested machine")
		}
		fmt.Fprintf(w, "FAIL: %s (see FAIL above)\n", strings.Join(why, "; "))
	}
}

func printFindings(w io.Writer, findings []pageaudit.Finding) {
	for _, f := range findings {
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
}
