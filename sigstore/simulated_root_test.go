//go:build !js

package sigstore_test

import (
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/sigstore"
	"github.com/cvmtrust/cvmtrust/sigstore/simulated"
)

// TestSimulatedTrustedRootIsLabelled: a simulated instance's trusted root is
// recognised as such when parsed, by the rule of docs/release-provenance.md,
// and one look-alike host does not make a root simulated while one simulated
// service does.
func TestSimulatedTrustedRootIsLabelled(t *testing.T) {
	if simulated.HostSuffix != sigstore.SimulatedHostSuffix {
		t.Fatalf("simulated.HostSuffix %q, sigstore.SimulatedHostSuffix %q", simulated.HostSuffix, sigstore.SimulatedHostSuffix)
	}
	in, err := simulated.New(simulated.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := in.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	root, err := sigstore.ParseTrustedRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !root.Simulated {
		t.Fatal("the simulated instance's trusted root is not labelled simulated")
	}
	host := "sigstore.simulated.invalid"
	for _, tc := range []struct {
		replace string
		want    bool
	}{
		{"sigstore.simulated.invalid.example.com", false},
		{"sigstore.simulated.invalid:443", true},
		{"SIGSTORE.Simulated.Invalid", true},
		{"sigstore.simulated.invalid.", true},
		{"sigstore-simulated.invalid", false},
	} {
		s := strings.ReplaceAll(string(raw), host, tc.replace)
		got, err := sigstore.ParseTrustedRoot([]byte(s))
		if err != nil {
			t.Fatalf("%s: %v", tc.replace, err)
		}
		if got.Simulated != tc.want {
			t.Errorf("hosts ending in %q: simulated=%v, want %v", tc.replace, got.Simulated, tc.want)
		}
		// Only the first service simulated: still a simulated root.
		one := strings.Replace(s, tc.replace, host, 1)
		if got, err := sigstore.ParseTrustedRoot([]byte(one)); err != nil || !got.Simulated {
			t.Errorf("one simulated service among %q: simulated=%v, %v", tc.replace, got != nil && got.Simulated, err)
		}
	}
	pg, err := sigstore.PublicGoodTrustedRoot()
	if err != nil || pg.Simulated {
		t.Fatalf("public-good root: simulated=%v, %v", pg != nil && pg.Simulated, err)
	}
}
