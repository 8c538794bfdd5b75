package sigstore_test

import (
	"context"
	"fmt"
	"os"

	"github.com/cvmtrust/cvmtrust/sigstore"
)

func Example() {
	bundle, _ := os.ReadFile("../testdata/sigstore/conformance/happy-path-v0.3/bundle.sigstore.json")
	artifact, _ := os.ReadFile("../testdata/sigstore/conformance/a.txt")

	v, err := sigstore.New(sigstore.Options{}) // the embedded public-good trusted root
	if err != nil {
		panic(err)
	}
	res, err := v.Verify(context.Background(), bundle, sigstore.Policy{
		Artifact:   artifact,
		Issuer:     "https://token.actions.githubusercontent.com",
		Identity:   "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
		Repository: "sigstore-conformance/extremely-dangerous-public-oidc-beacon",
		RefPattern: "refs/heads/main",
	})
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	fmt.Println(res.Signer.Repository, res.Signer.Ref)
	fmt.Println(res.LogEntries[0].LogURL, res.LogEntries[0].LogIndex, res.SignedAt)
	// Output:
	// sigstore-conformance/extremely-dangerous-public-oidc-beacon refs/heads/main
	// https://rekor.sigstore.dev 79571823 2024-03-19T17:26:26Z
}
