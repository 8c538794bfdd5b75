package gateway

import (
	"os"
	"testing"

	"github.com/cvmtrust/cvmtrust/gateway/sandbox"
)

func TestMain(m *testing.M) {
	// The sandbox re-executes this binary as its launcher.
	sandbox.RunLauncherIfRequested()
	code := m.Run()
	if testBinDir != "" {
		os.RemoveAll(testBinDir)
	}
	os.Exit(code)
}
