package main

import (
	"net/http"
	"os"
	"path/filepath"
)

// siteHandler adds to the files the gateway serves from staticDir (the
// widget, web/) what a person opening the server expects:
//
//   - / redirects to the demo page, demo/, when there is one (rather than
//     a listing of web/);
//   - /favicon.ico is the widget's icon, favicon.svg;
//   - /demo/ is the demo page as the build pinned it
//     (dist/demo/index.html, written by scripts/build-pins.mjs: an import
//     map with the integrity of every module), when it has been built.
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
			if exists("dist/demo/index.html") {
				w.Header().Set("X-Content-Type-Options", "nosniff")
				w.Header().Set("Cache-Control", "no-cache")
				http.ServeFile(w, r, filepath.Join(staticDir, "dist", "demo", "index.html"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
