package main

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/pageaudit"
)

// widgetSite lays out a copy of web/ in a temporary directory as a build
// leaves it — the widget's modules, a stand-in wasm, Go's wasm_exec.js, and
// what scripts/build-pins.mjs writes (dist/integrity.js, the import map,
// the pinned demo page) — and a build.json hashed here, independently of
// that script. It returns the directory and build.json's path.
func widgetSite(t *testing.T) (dir, buildJSON string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed to run scripts/build-pins.mjs (install Node 20)")
	}
	dir = t.TempDir()
	copyFile := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mods, _ := filepath.Glob("../../web/*.js")
	if len(mods) < 4 {
		t.Fatalf("web/ has %d modules", len(mods))
	}
	for _, m := range mods {
		copyFile(m, filepath.Join(dir, filepath.Base(m)))
	}
	for _, f := range []string{"demo/index.html", "demo/demo.js", "demo/demo.css", "demo/release.json", "favicon.svg"} {
		copyFile(filepath.Join("../../web", f), filepath.Join(dir, f))
	}
	copyFile(filepath.Join(runtime.GOROOT(), "lib/wasm/wasm_exec.js"), filepath.Join(dir, "dist/wasm_exec.js"))
	// The audit compares bytes; any bytes stand in for the wasm.
	if err := os.WriteFile(filepath.Join(dir, "dist/cvmtrust.wasm"), append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte{7}, 4096)...), 0o644); err != nil {
		t.Fatal(err)
	}
	// build-pins.mjs pins the bundled HPKE module too (scripts/build-wasm.sh makes it); any module stands in.
	if err := os.WriteFile(filepath.Join(dir, "dist/hpke.js"), []byte("export const stand = 'in';\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The modules' minified copies in dist/, which the import map and the demo name.
	if out, err := exec.Command(node, "../../scripts/build-modules.mjs", filepath.Join(dir, "dist"), dir).CombinedOutput(); err != nil {
		t.Fatalf("build-modules.mjs: %v\n%s", err, out)
	}
	if out, err := exec.Command(node, "../../scripts/build-pins.mjs", filepath.Join(dir, "dist"), dir).CombinedOutput(); err != nil {
		t.Fatalf("build-pins.mjs: %v\n%s", err, out)
	}
	files := map[string]map[string]any{}
	for _, name := range []string{"dist/cvmtrust.wasm", "dist/wasm_exec.js", "dist/integrity.js", "dist/hpke.js"} {
		files[name] = nil
	}
	for _, m := range mods {
		files[filepath.Base(m)] = nil
		files["dist/"+filepath.Base(m)] = nil
	}
	for name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha512.Sum384(b)
		files[name] = map[string]any{"bytes": len(b), "integrity": "sha384-" + base64.StdEncoding.EncodeToString(sum[:])}
	}
	b, _ := json.Marshal(map[string]any{"files": files})
	buildJSON = filepath.Join(t.TempDir(), "build.json")
	if err := os.WriteFile(buildJSON, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, buildJSON
}

func withoutSimulatedRoots(s string) string {
	return regexp.MustCompile(`\s+(release-)?trust-simulated-root="[^"]*"`).ReplaceAllString(s, "")
}

// cleanDemo turns the pinned demo page into one the audit passes: no
// simulated roots, no module of its own.
func cleanDemo(s string) string {
	return strings.Replace(withoutSimulatedRoots(s), `<script type="module" src="demo.js"></script>`, "", 1)
}

func runAuditCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"audit-page"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// editFile applies a textual change to a served file and fails the test if
// the change did not apply. It keeps the file's modification time, so the
// gateway goes on serving the build's pinned demo page (it falls back to
// the source page only when a file is newer than the pinned page).
func editFile(t *testing.T, file string, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Chtimes(file, st.ModTime(), st.ModTime())
	after := edit(string(b))
	if after == string(b) {
		t.Fatalf("%s: the edit changed nothing", file)
	}
	if err := os.WriteFile(file, []byte(after), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAuditPageDemo audits the demo page served by `cvmtrust gateway
// --simulated --static`, which serves the build's pinned demo page at
// /demo/, then changes what the server serves.
func TestAuditPageDemo(t *testing.T) {
	site, build := widgetSite(t)
	gw := startCLIGateway(t, "--simulated", "--listen", "127.0.0.1:0", "--static", site)
	page := gw.base + "/demo/"
	pristine := map[string][]byte{}
	mtimes := map[string]time.Time{}
	for _, f := range []string{"dist/verifier.js", "dist/demo/index.html"} {
		pristine[f], _ = os.ReadFile(filepath.Join(site, f))
		st, err := os.Stat(filepath.Join(site, f))
		if err != nil {
			t.Fatal(err)
		}
		mtimes[f] = st.ModTime()
	}
	// Restored with their build-time modification times: the gateway serves
	// the pinned page only while no file it pins is newer than it, and a
	// module rewritten after the page would send it to the unpinned source.
	restore := func() {
		for f, b := range pristine {
			if err := os.WriteFile(filepath.Join(site, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(filepath.Join(site, f), mtimes[f], mtimes[f]); err != nil {
				t.Fatal(err)
			}
		}
	}
	demo := filepath.Join(site, "dist/demo/index.html")

	t.Run("one widget byte changed", func(t *testing.T) {
		defer restore()
		editFile(t, filepath.Join(site, "dist/verifier.js"), func(s string) string { return strings.Replace(s, "cvmtrust", "cvmtrusT", 1) })
		code, out, errOut := runAuditCLI(page, "--build", build)
		if code != exitRejected || !regexp.MustCompile(`FAIL dist/verifier\.js +DIFFERS from build\.json`).MatchString(out) {
			t.Errorf("exit %d, want %d naming dist/verifier.js as differing:\n%s%s", code, exitRejected, out, errOut)
		}
		code, out, _ = runAuditCLI(page, "--build", build, "--json")
		var sum pageaudit.Report
		if code != exitRejected || json.Unmarshal([]byte(out), &sum) != nil || sum.Passed || sum.MediaType != pageaudit.MediaType {
			t.Errorf("--json: exit %d\n%s", code, out)
		}
		for _, f := range sum.WidgetFiles {
			if f.OK == (f.Name == "dist/verifier.js") {
				t.Errorf("--json: %s ok=%v", f.Name, f.OK)
			}
		}
	})
	t.Run("a script tag lacking integrity", func(t *testing.T) {
		defer restore()
		// define.js loses its integrity on the tag and in the import map.
		editFile(t, demo, func(s string) string {
			s = regexp.MustCompile(`(src="../dist/define.js") integrity="[^"]*"`).ReplaceAllString(s, "$1")
			return regexp.MustCompile(`\s*"../dist/define.js": "sha384-[^"]*",`).ReplaceAllString(s, "")
		})
		code, out, errOut := runAuditCLI(page, "--build", build)
		if code != exitRejected || !regexp.MustCompile(`FAIL dist/define\.js +matches build\.json; NOT PINNED: its tag has no integrity`).MatchString(out) {
			t.Errorf("exit %d, want %d naming dist/define.js as not pinned:\n%s%s", code, exitRejected, out, errOut)
		}
	})
	t.Run("a module the import map does not pin", func(t *testing.T) {
		defer restore()
		editFile(t, demo, func(s string) string {
			return regexp.MustCompile(`\s*"../dist/cvm-attest.js": "sha384-[^"]*",`).ReplaceAllString(s, "")
		})
		// Its modulepreload tag has integrity, but define.js imports it:
		// that fetch is pinned by the import map alone.
		code, out, _ := runAuditCLI(page, "--build", build)
		if code != exitRejected || !strings.Contains(out, "FAIL dist/cvm-attest.js") {
			t.Errorf("exit %d, want %d:\n%s", code, exitRejected, out)
		}
	})
	t.Run("the wasm unpinned", func(t *testing.T) {
		defer restore()
		// verifier.js loads dist/integrity.js; serve one with another hash.
		integrity := filepath.Join(site, "dist/integrity.js")
		before, _ := os.ReadFile(integrity)
		st, err := os.Stat(integrity)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { // as built, modification time included (see restore)
			os.WriteFile(integrity, before, 0o644)
			os.Chtimes(integrity, st.ModTime(), st.ModTime())
		}()
		editFile(t, integrity, func(s string) string {
			return regexp.MustCompile(`sha384-[^']*`).ReplaceAllString(s, "sha384-"+strings.Repeat("A", 64))
		})
		code, out, _ := runAuditCLI(page, "--build", build)
		if code != exitRejected || !strings.Contains(out, "FAIL dist/cvmtrust.wasm") || !strings.Contains(out, "FAIL dist/integrity.js") {
			t.Errorf("exit %d, want %d:\n%s", code, exitRejected, out)
		}
	})
	t.Run("an extra inline script and another origin", func(t *testing.T) {
		defer restore()
		editFile(t, demo, func(s string) string {
			return strings.Replace(s, "</body>", `<script>document.title = "changed"</script><script src="https://cdn.example.invalid/analytics.js"></script><button onclick="alert(1)">x</button></body>`, 1)
		})
		code, out, errOut := runAuditCLI(page, "--build", build)
		if code != exitRejected {
			t.Errorf("exit %d, want %d: code besides the widget fails unless allowed:\n%s%s", code, exitRejected, out, errOut)
		}
		for _, want := range []string{"FAIL script: inline <script> (26 bytes) (sha384-", `document.title = "changed"`,
			"FAIL script: classic script https://cdn.example.invalid/analytics.js", "another origin", "FAIL event-handler: inline <button onclick>"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("an import map scope sends a widget import elsewhere", func(t *testing.T) {
		defer restore()
		other := filepath.Join(site, "other.js")
		os.WriteFile(other, []byte("export class CvmAttestElement { static define() {} }\n"), 0o644)
		defer os.Remove(other)
		old := time.Now().Add(-time.Hour) // older than the pinned page, which goes on being served
		os.Chtimes(other, old, old)
		editFile(t, demo, func(s string) string {
			return strings.Replace(s, `"imports": {`, `"scopes": { "../dist/define.js": { "../dist/cvm-attest.js": "../other.js" } },
    "imports": {`, 1)
		})
		code, out, _ := runAuditCLI(page, "--build", build)
		if code != exitRejected || !strings.Contains(out, `FAIL import-map: dist/define.js: import "./cvm-attest.js"`) ||
			!strings.Contains(out, "sends it to "+gw.base+"/other.js instead of "+gw.base+"/dist/cvm-attest.js") ||
			!strings.Contains(out, "FAIL script: module script "+gw.base+"/other.js") {
			t.Errorf("exit %d, want %d naming the redirected import:\n%s", code, exitRejected, out)
		}
	})
	t.Run("a tag pinned to another hash", func(t *testing.T) {
		defer restore()
		editFile(t, demo, func(s string) string {
			return regexp.MustCompile(`(src="../dist/define.js") integrity="[^"]*"`).ReplaceAllString(s, `$1 integrity="sha384-`+strings.Repeat("B", 64)+`"`)
		})
		code, out, _ := runAuditCLI(page, "--build", build)
		if code != exitRejected || !strings.Contains(out, "FAIL dist/define.js") {
			t.Errorf("exit %d, want %d:\n%s", code, exitRejected, out)
		}
	})
	// The pristine demo: every file matches and is pinned, but the element
	// trusts simulated roots, and the page runs a module of its own (demo.js,
	// the query-parameter handling), unpinned.
	code, out, errOut := runAuditCLI(page, "--build", build)
	if code != exitRejected {
		t.Fatalf("pristine demo: exit %d, want %d:\n%s%s", code, exitRejected, out, errOut)
	}
	for _, want := range []string{`FAIL trust-simulated-root="../simulated/ark.pem"`, `FAIL release-trust-simulated-root="../simulated/sigstore-trusted-root.json"`,
		"FAIL script: module script " + gw.base + "/demo/demo.js (sha384-"} {
		if !strings.Contains(out, want) {
			t.Errorf("pristine demo: output lacks %q:\n%s", want, out)
		}
	}
	for _, name := range []string{"dist/define.js", "dist/cvm-attest.js", "dist/verifier.js", "dist/release.js", "dist/wasm_exec.js", "dist/integrity.js", "dist/hpke.js", "dist/start.js", "dist/cvmtrust.wasm"} {
		if !regexp.MustCompile(`ok +` + regexp.QuoteMeta(name) + ` +matches build\.json; pinned`).MatchString(out) {
			t.Errorf("%s not listed as matching and pinned:\n%s", name, out)
		}
	}
	demoJS, err := os.ReadFile(filepath.Join(site, "demo/demo.js"))
	if err != nil {
		t.Fatal(err)
	}
	demoHash := sha512.Sum384(demoJS)
	demoSRI := "sha384-" + base64.StdEncoding.EncodeToString(demoHash[:])
	t.Run("the demo without simulated roots, its own module allowed and pinned", func(t *testing.T) {
		defer restore()
		editFile(t, demo, func(s string) string {
			s = withoutSimulatedRoots(s)
			return strings.Replace(s, `src="demo.js"`, `src="demo.js" integrity="`+demoSRI+`"`, 1)
		})
		code, out, errOut := runAuditCLI(page, "--build", build, "--allow-script", demoSRI)
		if code != exitOK || !strings.Contains(out, "allowed script: module script "+gw.base+"/demo/demo.js") || !strings.Contains(out, "PASS") {
			t.Errorf("exit %d, want %d with demo.js allowed:\n%s%s", code, exitOK, out, errOut)
		}
		code, out, _ = runAuditCLI(page, "--build", build, "--allow-script", demoSRI, "--json")
		var sum pageaudit.Report
		if code != exitOK || json.Unmarshal([]byte(out), &sum) != nil || !sum.Passed || len(sum.WidgetFiles) != 9 || len(sum.Elements) != 1 {
			t.Errorf("--json: exit %d\n%s", code, out)
		}
		// Without --allow-script, the same page fails on demo.js alone.
		code, out, _ = runAuditCLI(page, "--build", build)
		if code != exitRejected || strings.Count(out, "  FAIL ") != 1 || !strings.Contains(out, "FAIL script: module script "+gw.base+"/demo/demo.js") {
			t.Errorf("demo.js not allowed: exit %d, want %d failing on it alone:\n%s", code, exitRejected, out)
		}
	})
	t.Run("an allowed module the page does not pin", func(t *testing.T) {
		defer restore()
		editFile(t, demo, withoutSimulatedRoots)
		code, out, _ := runAuditCLI(page, "--build", build, "--allow-script", demoSRI)
		if code != exitRejected || !strings.Contains(out, "Its hash is allowed, but the page does not pin it") {
			t.Errorf("exit %d, want %d:\n%s", code, exitRejected, out)
		}
	})
	t.Run("the clean demo: no simulated roots, no module of its own", func(t *testing.T) {
		defer restore()
		editFile(t, demo, cleanDemo)
		// Over plain HTTP on loopback, where the page came from is a note.
		code, out, errOut := runAuditCLI(page, "--build", build)
		if code != exitOK || strings.Contains(out, "FAIL") || !strings.Contains(out, "note origin: the page came over plain HTTP from this machine") {
			t.Errorf("exit %d, want %d with a note on the origin:\n%s%s", code, exitOK, out, errOut)
		}
	})
	// A module edited after the build: /demo/ falls back to the source
	// page, unpinned, rather than a pinned page the browser would refuse.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(site, "cvm-attest.js"), later, later); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runAuditCLI(page, "--build", build)
	if code != exitRejected || !strings.Contains(out, "NOT PINNED") {
		t.Errorf("stale pinned page: exit %d, want %d with the source page served:\n%s", code, exitRejected, out)
	}
	// / redirects to the demo; the favicon is served.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(gw.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/demo/" {
		t.Errorf("GET /: %s Location %q, want a redirect to /demo/", resp.Status, resp.Header.Get("Location"))
	}
	resp, err = http.Get(gw.base + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("GET /favicon.ico: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
}

func TestAuditPageUnusableInput(t *testing.T) {
	site, build := widgetSite(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(site)))
	defer srv.Close()
	notJSON := filepath.Join(t.TempDir(), "build.json")
	os.WriteFile(notJSON, []byte("{}"), 0o644)
	for name, args := range map[string][]string{
		"no URL":           {"--build", build},
		"no build":         {srv.URL + "/demo/"},
		"missing build":    {srv.URL + "/demo/", "--build", filepath.Join(site, "nope.json")},
		"empty build":      {srv.URL + "/demo/", "--build", notJSON},
		"page 404":         {srv.URL + "/nope/", "--build", build},
		"not HTML":         {srv.URL + "/define.js", "--build", build},
		"page server down": {"http://127.0.0.1:1/", "--build", build},
		"bad allowed hash": {srv.URL + "/demo/", "--build", build, "--allow-script", "sha384-tooShort"},
		// An https page is checked against its gateway's attestation, which needs a measurement.
		"https without --measurement": {"https://127.0.0.1:1/", "--build", build},
		"measurement and any":         {"https://127.0.0.1:1/", "--build", build, "--measurement", strings.Repeat("ab", 48), "--any-measurement-unsafe"},
		"missing --ca":                {srv.URL + "/demo/", "--build", build, "--ca", filepath.Join(site, "nope.pem")},
		"missing --simulated-root":    {"https://127.0.0.1:1/", "--build", build, "--any-measurement-unsafe", "--simulated-root", filepath.Join(site, "nope.pem")},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runAuditCLI(args...)
			assertOneLineExit2(t, code, out, errOut)
		})
	}
	// A page that loads no widget at all is a failure, not unusable input.
	os.WriteFile(filepath.Join(site, "plain.html"), []byte("<!doctype html><p>hello"), 0o644)
	code, out, _ := runAuditCLI(srv.URL+"/plain.html", "--build", build)
	if code != exitRejected || !strings.Contains(out, "loads no file of this widget build") {
		t.Errorf("plain page: exit %d\n%s", code, out)
	}
	// The source demo page, unpinned, served by a plain static server:
	// everything matches, nothing is pinned.
	code, out, _ = runAuditCLI("--build", build, srv.URL+"/demo/")
	if code != exitRejected || !strings.Contains(out, "NOT PINNED") {
		t.Errorf("unpinned demo: exit %d\n%s", code, out)
	}
}
