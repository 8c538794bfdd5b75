package main

import (
	"os"
	"testing"
)

// TestMain lets the gateway's default matcher, this binary re-executed as
// `matcher` inside the sandbox, run in the test binary too.
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == "matcher" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
