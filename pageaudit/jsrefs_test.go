package pageaudit

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestScanJS(t *testing.T) {
	src := `
// import './commented.js';
/* import x from './block.js'; */
import { a, b as c } from './a.js';
import * as ns from "../ns.js";
import def, { e } from '/abs.js';
import './side-effect.js';
export { f } from './re-export.js';
export * from './star.js';
export const s = 'import "./in-string.js"';
const t = ` + "`import('./in-template.js') ${ 'x' + `nested ${1}` }`" + `;
const r = /import '.\/in-regex.js'["']/g;
const m = import.meta.url;
await import('./dynamic.js');
await import(String(someURL));
const w = new URL('./dist/app.wasm', import.meta.url);
x = y / 2; z = '/not/a/regex/start';
`
	refs := scanJS(src)
	wantStatic := []string{"./a.js", "../ns.js", "/abs.js", "./side-effect.js", "./re-export.js", "./star.js"}
	if !slices.Equal(refs.static, wantStatic) {
		t.Errorf("static %q, want %q", refs.static, wantStatic)
	}
	if !slices.Equal(refs.dynamic, []string{"./dynamic.js"}) || refs.opaqueDynamic != 1 {
		t.Errorf("dynamic %q opaque %d", refs.dynamic, refs.opaqueDynamic)
	}
	if !slices.Equal(refs.relativeURLs, []string{"./dist/app.wasm"}) {
		t.Errorf("new URL %q", refs.relativeURLs)
	}
}

// TestScanJSWidget: the widget's own modules, as shipped, are read right.
func TestScanJSWidget(t *testing.T) {
	read := func(name string) jsReferences {
		b, err := os.ReadFile(filepath.Join("../web", name))
		if err != nil {
			t.Fatal(err)
		}
		return scanJS(string(b))
	}
	if r := read("define.js"); !slices.Contains(r.static, "./cvm-attest.js") {
		t.Errorf("define.js: %+v", r)
	}
	if r := read("verifier.js"); !slices.Contains(r.relativeURLs, "./dist/cvmtrust.wasm") || !slices.Contains(r.relativeURLs, "./dist/wasm_exec.js") {
		t.Errorf("verifier.js: %+v", r)
	}
}

// FuzzScanJS: any bytes, however malformed, are scanned without a panic.
func FuzzScanJS(f *testing.F) {
	for _, s := range []string{"import './a.js'", "`${`${'", "/[/]/", "a / b / c", "import(", "new URL('x', import.meta.url", "'\\", "/*", "export {"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		scanJS(src)
	})
}
