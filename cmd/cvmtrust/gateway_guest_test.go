package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/guest/pid1"
)

// TestGuestGatewayCommandLines: every command line the guest image's PID 1
// gives the gateway (guest/pid1.Config.GatewayArgs) is one the gateway
// takes, up to binding its port, for the settings an operator may give.
func TestGuestGatewayCommandLines(t *testing.T) {
	root, err := os.ReadFile("../../testdata/snp-reports/oak-genoa/chain.pem")
	if err != nil {
		t.Fatal(err)
	}
	configs := map[string]string{
		"nothing": `{}`,
		"acme": `{"domains":["attest.example.com"],"acme_directory":"https://127.0.0.1:14000/dir","acme_root":` +
			jsonString(string(root)) + `,"acme_email":"ops@example.com","release_bundle":{"mediaType":"x"}}`,
		"simulated": `{"release_bundle":{"mediaType":"x"},"simulated":{"measurement":"` + strings.Repeat("ab", 48) +
			`","sigstore_trusted_root":{"mediaType":"y"}}}`,
	}
	for name, raw := range configs {
		for _, g := range []pid1.Guest{{Simulated: true}, {Simulated: false}, {Simulated: true, VendorMatcher: true}} {
			if name == "simulated" && !g.Simulated {
				continue // its settings are ignored on an SEV-SNP guest; covered by pid1's tests
			}
			c, err := pid1.ParseConfig([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			g.RunDir = t.TempDir()
			args, files := c.GatewayArgs(g)
			for f, b := range files {
				if err := os.WriteFile(filepath.Join(g.RunDir, f), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// The image's paths and ports, replaced by ones this test can
			// use; an unusable port stops the gateway right after its flags.
			i := slices.Index(args, "--static")
			args[i+1] = t.TempDir()
			i = slices.Index(args, "--listen")
			args[i+1] = "127.0.0.1:-1"
			if i = slices.Index(args, "--matcher-exec"); i >= 0 {
				args[i+1] = os.Args[0]
			}
			var stderr strings.Builder
			code := runGateway(args[1:], &strings.Builder{}, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), "invalid port") {
				t.Errorf("%s, %+v: gateway %s\nexit %d: %s", name, g, strings.Join(args, " "), code, stderr.String())
			}
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
