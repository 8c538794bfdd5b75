package simulated

import (
	"crypto/x509"
	"encoding/json"
	"testing"
)

// Every service the trusted root names is recognisably simulated, and so is
// every certificate in it.
func TestTrustedRootIsLabelledSimulated(t *testing.T) {
	raw, err := instance(t).TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	var root jsonTrustedRoot
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	if root.MediaType != "application/vnd.dev.sigstore.trustedroot+json;version=0.1" {
		t.Errorf("media type %q", root.MediaType)
	}
	var urls []string
	var chains []*jsonCertChain
	for _, l := range append(root.Tlogs, root.Ctlogs...) {
		urls = append(urls, l.BaseURL)
	}
	for _, ca := range append(root.CertificateAuthorities, root.TimestampAuthorities...) {
		urls = append(urls, ca.URI)
		chains = append(chains, ca.CertChain)
		if ca.Subject.Organization != Organization {
			t.Errorf("%s: organization %q", ca.URI, ca.Subject.Organization)
		}
	}
	if len(urls) != 5 {
		t.Fatalf("%d services, want 5", len(urls))
	}
	for _, u := range urls {
		if !IsSimulatedURL(u) {
			t.Errorf("%s is not recognisably simulated", u)
		}
	}
	for _, c := range chains {
		for _, raw := range c.Certificates {
			cert, err := x509.ParseCertificate(raw.RawBytes)
			if err != nil {
				t.Fatal(err)
			}
			if len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != Organization {
				t.Errorf("certificate %q: organization %v", cert.Subject.CommonName, cert.Subject.Organization)
			}
		}
	}
}

func TestIsSimulatedURL(t *testing.T) {
	for u, want := range map[string]bool{
		RekorV1URL: true,
		"https://x.sigstore.simulated.invalid:8443/path":        true,
		"https://rekor.sigstore.dev":                            false,
		"https://sigstore.simulated.invalid":                    false, // the suffix starts with a dot
		"https://evil.example/.sigstore.simulated.invalid":      false,
		"https://x.sigstore.simulated.invalid.evil.example":     false,
		"https://user@evil.example#.sigstore.simulated.invalid": false,
		"not a url": false,
		"":          false,
	} {
		if got := IsSimulatedURL(u); got != want {
			t.Errorf("IsSimulatedURL(%q) = %v, want %v", u, got, want)
		}
	}
}
