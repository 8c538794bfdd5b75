package gateway

import (
	"os"
	"testing"

	"github.com/cvmtrust/cvmtrust/gateway/sandbox"
)

func TestMain(m *testing.M) {
	// The sandbox re-executes this binary as its launcher, and as the
	// reference matcher (`matcher`), as cvmtrust does.
	sandbox.RunLauncherIfRequested()
	if len(os.Args) == 2 && os.Args[1] == "matcher" {
		if err := ServeMatcher(os.Stdin, os.Stdout, NewReferenceMatcher()); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if testBinDir != "" {
		os.RemoveAll(testBinDir)
	}
	os.Exit(code)
}
