package simulated_test

import (
	"encoding/json"
	"fmt"

	"github.com/cvmtrust/cvmtrust/sigstore/simulated"
)

// Sign an in-toto statement as the release workflow of a repository, and
// get the trusted root that verifies it. Everything is SIMULATED: the root
// names hosts under simulated.HostSuffix.
func ExampleInstance_SignStatement() {
	in, err := simulated.New(simulated.Options{})
	if err != nil {
		panic(err)
	}
	id := simulated.GitHubActions("cvmtrust/cvmtrust", ".github/workflows/release.yml", "refs/tags/v1.2.3",
		"0123456789abcdef0123456789abcdef01234567")
	statement := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" + `"}}],"predicateType":"https://example.com/p","predicate":{}}`)
	bundle, err := in.SignStatement(id, statement, simulated.BundleOptions{RekorV2: true})
	if err != nil {
		panic(err)
	}
	root, err := in.TrustedRootJSON()
	if err != nil {
		panic(err)
	}

	var b struct {
		MediaType string `json:"mediaType"`
	}
	var r struct {
		Tlogs []struct {
			BaseURL string `json:"baseUrl"`
		} `json:"tlogs"`
	}
	if json.Unmarshal(bundle, &b) != nil || json.Unmarshal(root, &r) != nil {
		panic("bad JSON")
	}
	fmt.Println(b.MediaType)
	fmt.Println(id.URI)
	for _, l := range r.Tlogs {
		fmt.Println(l.BaseURL, simulated.IsSimulatedURL(l.BaseURL))
	}
	fmt.Println(simulated.IsSimulatedURL("https://rekor.sigstore.dev"))
	// Output:
	// application/vnd.dev.sigstore.bundle.v0.3+json
	// https://github.com/cvmtrust/cvmtrust/.github/workflows/release.yml@refs/tags/v1.2.3
	// https://rekor.sigstore.simulated.invalid true
	// https://log2025-1.rekor.sigstore.simulated.invalid true
	// false
}
