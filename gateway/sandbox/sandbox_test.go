package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	RunLauncherIfRequested()
	os.Exit(m.Run())
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the sandbox maps uid 65534 and needs root (CI runs as root)")
	}
}

// A layer that cannot be set up is a refusal to start, naming the layer,
// never a matcher running with less: here Landlock cannot open a read-only
// path that uid 65534 cannot reach.
func TestStartRefusesWhenALayerFails(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	secret := filepath.Join(dir, "model")
	if err := os.WriteFile(secret, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	_, err := Start(Config{Path: self, Args: []string{"-test.run=^$"}, ReadOnly: []string{secret}}, nil, nil, nil)
	if !errors.Is(err, ErrLayer) || !strings.Contains(err.Error(), "landlock") {
		t.Fatalf("Start with an unreachable read-only path: %v, want ErrLayer naming landlock", err)
	}
	// The same, without it, starts.
	cmd, err := Start(Config{Path: self, Args: []string{"-test.run=^$"}}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("this test binary, sandboxed, running no test: %v", err)
	}
}

func TestStartRefusesBadConfig(t *testing.T) {
	if _, err := Start(Config{}, nil, nil, nil); err == nil {
		t.Error("no path")
	}
	if _, err := Start(Config{Path: filepath.Join(t.TempDir(), "missing")}, nil, nil, nil); err == nil {
		t.Error("a missing matcher")
	}
	if _, err := Start(Config{Path: "/bin/true", ReadOnly: []string{"/nonexistent/x"}}, nil, nil, nil); err == nil {
		t.Error("a missing read-only path")
	}
}

// The kernel the gateway is deployed on, and CI's, has every layer; this
// test fails loudly on one that does not, rather than letting the hostile-
// matcher tests prove nothing.
func TestKernelHasEveryLayer(t *testing.T) {
	requireRoot(t)
	if m := Missing(); len(m) > 0 {
		t.Fatalf("missing sandbox layers: %v", m)
	}
}

func TestLayersAreListedOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range Layers {
		if l.Name == "" || l.Takes == "" || seen[l.Name] {
			t.Errorf("layer %+v: empty or listed twice", l)
		}
		seen[l.Name] = true
	}
	for _, want := range []string{"user", "network", "mount", "pid", "ipc", "uts", "no_new_privs", "seccomp", "landlock", "rlimits", "environment"} {
		if !seen[want] {
			t.Errorf("layer %s is not listed", want)
		}
	}
}

// BenchmarkStart is one sandboxed start of /bin/true, to its exit: what a
// matcher restart costs before the matcher's own start-up.
//
//	go test ./gateway/sandbox -run '^$' -bench Start
func BenchmarkStart(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	for b.Loop() {
		cmd, err := Start(Config{Path: "/bin/true"}, nil, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}
