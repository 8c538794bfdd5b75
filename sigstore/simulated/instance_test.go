package simulated

import (
	"crypto/x509"
	"encoding/json"
	"testing"
	"time"
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

func TestSignRefusesContradictoryOptions(t *testing.T) {
	in := instance(t)
	st, _ := demoStatement(t)
	for name, o := range map[string]BundleOptions{
		"unknown version":        {Version: "0.4"},
		"Rekor v2 in a v0.2":     {Version: "0.2", RekorV2: true},
		"intoto in Rekor v2":     {RekorV2: true, InToto: true},
		"SET break for Rekor v2": {RekorV2: true, Break: BreakSET},
		"TSA break for Rekor v1": {Break: BreakUntrustedTSA},
		"too far in the past":    {SignedAt: in.created.Add(-History - time.Hour)},
	} {
		if _, err := in.SignStatement(testIdentity(), st, o); err == nil {
			t.Errorf("%s: a bundle was made", name)
		}
	}
	if _, err := in.SignArtifact(testIdentity(), testArtifact, BundleOptions{InToto: true}); err == nil {
		t.Error("an intoto entry for a message signature was made")
	}
	for name, id := range map[string]Identity{
		"no issuer":     {URI: "https://example.com"},
		"no SAN":        {Issuer: GitHubActionsIssuer},
		"URI and email": {Issuer: GitHubActionsIssuer, URI: "https://example.com", Email: "a@example.com"},
	} {
		if _, err := in.SignArtifact(id, testArtifact, BundleOptions{}); err == nil {
			t.Errorf("%s: a bundle was made", name)
		}
	}
}
