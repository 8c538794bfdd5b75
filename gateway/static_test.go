package gateway

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A file the build wrote compressed beside itself is sent compressed to a
// client that accepts the encoding, and as itself otherwise; a stale copy
// is never sent, and the copies are not served under their own names.
func TestStaticCompressedCopies(t *testing.T) {
	dir := t.TempDir()
	wasm := bytes.Repeat([]byte("\x00asm wasm bytes "), 4096)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(wasm)
	zw.Close()
	// The brotli copy's bytes are opaque to the server: any marker will do.
	br := []byte("brotli copy of the wasm")
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("app.wasm", wasm)
	write("app.wasm.gz", gz.Bytes())
	write("app.wasm.br", br)
	write("plain.js", []byte("export {};"))
	_, srv := startGateway(t, Config{StaticDir: dir})
	// No transparent decompression: the test sees what the server sends.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(method, path, acceptEncoding string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}

	for _, c := range []struct {
		acceptEncoding string
		want           string // Content-Encoding, "" for the file itself
	}{
		{"", ""},
		{"identity", ""},
		{"gzip, deflate, br, zstd", "br"},
		{"gzip, deflate", "gzip"},
		{"br;q=0, gzip", "gzip"},
		{"BR;Q=0.5", "br"},
		{"*", "br"},
		{"*;q=0", ""},
		{"*, br;q=0", "gzip"},
		{"gzip;q=0, br;q=0", ""},
		{"gzip;q=bogus", ""},
	} {
		resp, body := get("GET", "/app.wasm", c.acceptEncoding)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("Accept-Encoding %q: %s", c.acceptEncoding, resp.Status)
		}
		if got := resp.Header.Get("Content-Encoding"); got != c.want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", c.acceptEncoding, got, c.want)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/wasm" {
			t.Errorf("Accept-Encoding %q: Content-Type %q", c.acceptEncoding, ct)
		}
		if v := resp.Header.Get("Vary"); v != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q", c.acceptEncoding, v)
		}
		want := map[string][]byte{"": wasm, "gzip": gz.Bytes(), "br": br}[c.want]
		if !bytes.Equal(body, want) {
			t.Errorf("Accept-Encoding %q: got %d bytes, not the %q copy", c.acceptEncoding, len(body), c.want)
		}
	}

	// HEAD answers with the headers of the copy GET would send.
	if resp, body := get("HEAD", "/app.wasm", "gzip"); resp.Header.Get("Content-Encoding") != "gzip" || len(body) != 0 {
		t.Errorf("HEAD: Content-Encoding %q, %d bytes of body", resp.Header.Get("Content-Encoding"), len(body))
	}
	// A file without copies: as itself, and no Vary.
	if resp, body := get("GET", "/plain.js", "gzip, br"); resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Vary") != "" || string(body) != "export {};" {
		t.Errorf("plain.js: Content-Encoding %q, Vary %q, body %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"), body)
	}
	// The copies are not files of the site.
	for _, p := range []string{"/app.wasm.br", "/app.wasm.gz", "/x/../app.wasm.gz"} {
		if resp, _ := get("GET", p, "gzip, br"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		}
	}

	// A copy older than its file (the file was rebuilt or changed after
	// it) is stale: the file itself is sent.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "app.wasm"), later, later); err != nil {
		t.Fatal(err)
	}
	if resp, body := get("GET", "/app.wasm", "gzip, br"); resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, wasm) {
		t.Errorf("stale copies: Content-Encoding %q, %d bytes", resp.Header.Get("Content-Encoding"), len(body))
	}
	// Refreshed, the gzip copy only is sent again.
	if err := os.Chtimes(filepath.Join(dir, "app.wasm.gz"), later, later); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get("GET", "/app.wasm", "gzip, br"); resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("fresh gzip copy beside a stale brotli one: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
}
