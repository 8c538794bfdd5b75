//go:build !js

// Writes statements (NewStatement is native only) or signs them with the
// simulated Sigstore instance, which is native only.

package release_test

import (
	"fmt"
	"os"

	"github.com/cvmtrust/cvmtrust/measure"
	"github.com/cvmtrust/cvmtrust/release"
)

// A release statement round trip: what CI signs, and what a verifier takes
// from the payload it verified.
func ExampleManifestFromStatement() {
	raw, err := os.ReadFile("../measure/testdata/demo-release.json")
	if err != nil {
		panic(err)
	}
	m, err := measure.ParseManifest(raw)
	if err != nil {
		panic(err)
	}
	statement, err := release.NewStatement(m, release.ArtifactNames{OVMF: "OVMF.fd", Kernel: "vmlinuz", Initrd: "initrd.img"})
	if err != nil {
		panic(err)
	}

	// ... statement is signed, logged and verified ...

	got, err := release.ManifestFromStatement(statement)
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	fmt.Println(got.Release)
	fmt.Println(got.Measurement)
	// Output:
	// cvmtrust-demo-simulated
	// 329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198
}
