package gateway

import (
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// staticEncodings are the compressed copies the build writes beside a file
// (scripts/build-wasm.sh: name.br and name.gz for the wasm and the modules),
// most preferred first.
var staticEncodings = []struct{ token, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// staticFiles serves dir like http.FileServer, except that a file with a
// compressed copy beside it is sent as that copy to a client that accepts
// its encoding (Content-Encoding: br or gzip): the widget's 4.5 MB of wasm
// is 0.66 MB as brotli, and what a person's phone downloads is what the
// page costs them. A copy older than its file is stale and never sent. The
// compressed copies themselves are not served under their own names.
func staticFiles(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean("/" + r.URL.Path)
		for _, e := range staticEncodings {
			if strings.HasSuffix(name, e.suffix) {
				http.NotFound(w, r)
				return
			}
		}
		if strings.HasSuffix(r.URL.Path, "/") {
			files.ServeHTTP(w, r)
			return
		}
		orig, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !orig.Mode().IsRegular() {
			files.ServeHTTP(w, r)
			return
		}
		varies := false
		for _, e := range staticEncodings {
			copyPath := filepath.Join(dir, filepath.FromSlash(name+e.suffix))
			st, err := os.Stat(copyPath)
			if err != nil || !st.Mode().IsRegular() || st.ModTime().Before(orig.ModTime()) {
				continue
			}
			varies = true
			if !acceptsEncoding(r.Header.Get("Accept-Encoding"), e.token) {
				continue
			}
			f, err := os.Open(copyPath)
			if err != nil {
				continue
			}
			defer f.Close()
			h := w.Header()
			h.Set("Vary", "Accept-Encoding")
			h.Set("Content-Encoding", e.token)
			if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
				h.Set("Content-Type", ct)
			} else {
				h.Set("Content-Type", "application/octet-stream")
			}
			// The name given is the original's only for its modification
			// time's sake; the type is set above.
			http.ServeContent(w, r, name, orig.ModTime(), f)
			return
		}
		if varies {
			w.Header().Set("Vary", "Accept-Encoding")
		}
		files.ServeHTTP(w, r)
	})
}

// acceptsEncoding reports whether an Accept-Encoding header admits coding
// (RFC 9110 §12.5.3): listed by name, or by "*", with a q-value above 0.
func acceptsEncoding(header, coding string) bool {
	star := false
	for _, item := range strings.Split(header, ",") {
		token, params, _ := strings.Cut(item, ";")
		token = strings.ToLower(strings.TrimSpace(token))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				} else {
					q = 0
				}
			}
		}
		switch token {
		case coding:
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}
