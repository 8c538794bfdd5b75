package main

import (
	"net/http"
	"os"
	"path/filepath"
)

// pinnedDemoCurrent reports whether dir/dist/demo/index.html exists and is
// no older than the files whose hashes it carries: the widget's modules,
// the modules and wasm of dist/, and the source page (the build writes the
// pinned page after all of them).
func pinnedDemoCurrent(dir string) bool {
	page, err := os.Stat(filepath.Join(dir, "dist", "demo", "index.html"))
	if err != nil {
		return false
	}
	sources, _ := filepath.Glob(filepath.Join(dir, "*.js"))
	distJS, _ := filepath.Glob(filepath.Join(dir, "dist", "*.js"))
	wasm, _ := filepath.Glob(filepath.Join(dir, "dist", "*.wasm"))
	sources = append(append(append(sources, distJS...), wasm...), filepath.Join(dir, "demo", "index.html"))
	for _, f := range sources {
		if st, err := os.Stat(f); err == nil && !st.IsDir() && st.ModTime().After(page.ModTime()) {
			return false
		}
	}
	return true
}

// siteHandler adds to the files the gateway serves from staticDir (the
// widget, web/) what a person opening the server expects:
//
//   - / redirects to the demo page, demo/, when there is one (rather than
//     a listing of web/);
//   - /favicon.ico is the widget's icon, favicon.svg;
//   - /demo/ is the demo page as the build pinned it
//     (dist/demo/index.html, written by scripts/build-pins.mjs: an import
//     map with the integrity of every module), when it has been built and
//     no file it pins changed since; otherwise demo/index.html, unpinned,
//     so that editing a module does not break the demo until the next build.
//
// Everything else goes to next.
func siteHandler(next http.Handler, staticDir string) http.Handler {
	if staticDir == "" {
		return next
	}
	exists := func(rel string) bool {
		st, err := os.Stat(filepath.Join(staticDir, filepath.FromSlash(rel)))
		return err == nil && !st.IsDir()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		switch r.URL.Path {
		case "/":
			if exists("demo/index.html") {
				http.Redirect(w, r, "demo/", http.StatusFound)
				return
			}
		case "/favicon.ico":
			if exists("favicon.svg") {
				w.Header().Set("Content-Type", "image/svg+xml")
				w.Header().Set("X-Content-Type-Options", "nosniff")
				http.ServeFile(w, r, filepath.Join(staticDir, "favicon.svg"))
				return
			}
		case "/demo/", "/demo/index.html":
			if pinnedDemoCurrent(staticDir) {
				w.Header().Set("X-Content-Type-Options", "nosniff")
				w.Header().Set("Cache-Control", "no-cache")
				http.ServeFile(w, r, filepath.Join(staticDir, "dist", "demo", "index.html"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
