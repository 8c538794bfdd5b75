package measure_test

import (
	"fmt"
	"os"

	"github.com/cvmtrust/cvmtrust/measure"
)

// Recompute the launch digest of a guest from its artifacts.
func ExampleLaunchDigest() {
	image, err := os.ReadFile("../testdata/launch-digest/ovmf_AmdSev_suffix.bin")
	if err != nil {
		panic(err)
	}
	p, err := measure.FirmwareFromOVMF(image)
	if err != nil {
		panic(err)
	}
	h := measure.HashKernel([]byte{}, []byte{}, "console=ttyS0 loglevel=7")
	p.Kernel, p.VCPUs, p.VMM, p.GuestFeatures = &h, 1, measure.VMMQEMU, 0x21
	if p.VCPUSig, err = measure.VCPUSignature("EPYC-v4"); err != nil {
		panic(err)
	}
	digest, err := measure.LaunchDigest(p)
	fmt.Println(digest, err)
	// Output: 803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977 <nil>
}

// Check a release manifest without any of its artifacts.
func ExampleManifest_Verify() {
	raw, err := os.ReadFile("testdata/demo-release.json")
	if err != nil {
		panic(err)
	}
	m, err := measure.ParseManifest(raw)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Release, m.Verify())
	// Output: cvmtrust-demo-simulated <nil>
}
