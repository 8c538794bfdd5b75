package main

import (
	"fmt"
	"io"
	"os"

	"github.com/cvmtrust/cvmtrust/gateway"
	"github.com/cvmtrust/cvmtrust/gateway/sandbox"
)

func init() {
	// The gateway re-executes this binary as the matcher sandbox's
	// launcher; that must happen before anything else runs.
	sandbox.RunLauncherIfRequested()
	register("matcher", "the reference matcher, speaking matcher protocol v1 on stdin/stdout (the gateway starts it)", runMatcher)
}

const matcherUsage = `usage: cvmtrust matcher

Reads matcher protocol v1 requests on stdin and answers on stdout, with the
reference matcher (a perceptual hash, not a face recogniser). The gateway runs
it in its sandbox; see gateway/README.md. Running it by hand is for tests.
`

func runMatcher(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprint(stderr, matcherUsage)
		if args[0] == "-h" || args[0] == "--help" {
			return exitOK
		}
		return exitUsage
	}
	if err := gateway.ServeMatcher(os.Stdin, stdout, gateway.NewReferenceMatcher()); err != nil {
		// The gateway never logs this in real mode; it is for a person
		// running the matcher by hand.
		fmt.Fprintf(stderr, "cvmtrust matcher: %v\n", err)
		return exitRejected
	}
	return exitOK
}
