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

// NoReflection is what no browser build may link: fmt and reflect (errors
// are formatted by internal/errfmt with a type switch; byte order comes from
// internal/endian, since encoding/binary imports reflect), internal/fmtsort
// and runtime/debug (which import fmt), os (which fmt and the standard
// crypto hashes reach) and github.com/hack-pad/safejs (whose errors and stack
// traces go through fmt; the wasm boundary is wasm/internal/jsval). Together
// they are about 70 KB of the wasm, brotli-compressed; see wasm/README.md.
var NoReflection = []string{"fmt", "reflect", "os", "internal/fmtsort", "runtime/debug", "github.com/hack-pad/safejs"}

// Imports returns the import graph of pkg's js/wasm build: every package it
// links, with the packages that one imports.
func Imports(t testing.TB, pkg string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", pkg)
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s for js/wasm: %v", pkg, err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		graph[f[0]] = f[1:]
	}
	return graph
}

// RefuseReachable fails t for every package of banned that root reaches in
// graph other than through a package of through, naming the import chain.
// through is for a dependency that is being replaced in a separate change:
// RefuseReachable also fails when a package of through is no longer linked,
// so that the exemption is deleted and banned is refused outright.
func RefuseReachable(t testing.TB, what string, graph map[string][]string, root string, banned, through []string) {
	t.Helper()
	if _, ok := graph[root]; !ok {
		t.Fatalf("%s is not in the import graph", root)
	}
	for _, p := range through {
		if _, ok := graph[p]; !ok {
			t.Errorf("the browser build of %s no longer links %s: delete it from the exemptions, so that %v are refused whatever reaches them", what, p, banned)
		}
	}
	// Breadth first from root, not entering the exempted packages; parent
	// remembers the way each package was reached.
	parent := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, imp := range graph[p] {
			if _, seen := parent[imp]; seen || slices.Contains(through, imp) {
				continue
			}
			parent[imp] = p
			queue = append(queue, imp)
		}
	}
	for _, bad := range banned {
		if _, ok := parent[bad]; !ok {
			continue
		}
		chain := []string{bad}
		for p := parent[bad]; p != ""; p = parent[p] {
			chain = append([]string{p}, chain...)
		}
		t.Errorf("the browser build of %s links %s: %s", what, bad, strings.Join(chain, " → "))
	}
}
