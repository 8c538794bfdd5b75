// Command init is /init of the cvmtrust guest image: package pid1 is all of
// it. It is built static (CGO_ENABLED=0) and runs as the guest's first
// process.
package main

import "github.com/cvmtrust/cvmtrust/guest/pid1"

func main() {
	pid1.RunServiceLauncherIfRequested()
	pid1.Main()
}
