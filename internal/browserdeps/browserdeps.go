//go:build !js

// Package browserdeps tells the tests that keep the browser build lean what a
// package links when built for js/wasm, so that each of them states only its
// own rules: what must be there and what must not.
package browserdeps

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// List returns the packages pkg links in its js/wasm build (`go list -deps`).
// It fails t when go list fails or when a package of want is missing: a list
// without them is not the build the caller thinks it is.
func List(t testing.TB, pkg string, want ...string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s for js/wasm: %v", pkg, err)
	}
	deps := strings.Fields(string(out))
	for _, w := range want {
		if !slices.Contains(deps, w) {
			t.Fatalf("the js/wasm build of %s does not link %s; dependency list: %v", pkg, w, deps)
		}
	}
	return deps
}

// Refuse fails t for every package of deps that is one of banned or lies
// below one of them (banned "github.com/sigstore" also refuses
// "github.com/sigstore/sigstore-go/pkg/verify").
func Refuse(t testing.TB, what string, deps []string, banned ...string) {
	t.Helper()
	for _, dep := range deps {
		for _, bad := range banned {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("the browser build of %s links %s", what, dep)
			}
		}
	}
}
