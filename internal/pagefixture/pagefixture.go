// Package pagefixture serves the pages `cvmtrust audit-page` is tested on: a
// stand-in widget build (widget/, with its build.json) and pages (pages/),
// one scenario each, whose first line says what the audit must make of it:
//
//	<!-- expect: pass -->
//	<!-- expect: fail: KIND -->   (KIND: the kind of finding the report must name)
//
// Pages are templates: {{pinned}} is the import map that pins every module
// of the stand-in widget and the inline module that loads it; {{sri "NAME"}}
// is build.json's integrity for the widget file NAME. Files whose names start
// with "_" are served as they are: what the pages load.
package pagefixture

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/template"
)

//go:embed all:widget all:pages
var files embed.FS

// Page is one scenario.
type Page struct {
	Name string // file name, e.g. "css-part.html"
	Pass bool   // whether the audit must pass it
	Kind string // for a failing page, the kind of finding the report must name
}

var expectLine = regexp.MustCompile(`^<!-- expect: (pass|fail: ([a-z-]+)) -->\n`)

// Pages lists the scenarios, by name.
func Pages(t testing.TB) []Page {
	t.Helper()
	entries, err := fs.ReadDir(files, "pages")
	if err != nil {
		t.Fatal(err)
	}
	var out []Page
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "_") {
			continue
		}
		b, _ := files.ReadFile("pages/" + e.Name())
		m := expectLine.FindSubmatch(b)
		if m == nil {
			t.Fatalf("pages/%s: the first line is not <!-- expect: pass --> or <!-- expect: fail: KIND -->", e.Name())
		}
		out = append(out, Page{Name: e.Name(), Pass: string(m[1]) == "pass", Kind: string(m[2])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Build returns the stand-in widget's build.json, written to a file.
func Build(t testing.TB) string {
	t.Helper()
	b, err := files.ReadFile("widget/build.json")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "build.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// Integrity returns build.json's integrity of each widget file, by name.
func Integrity(t testing.TB) map[string]string {
	t.Helper()
	b, err := files.ReadFile("widget/build.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files map[string]struct{ Integrity string } `json:"files"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, f := range doc.Files {
		out[name] = f.Integrity
	}
	return out
}

// Pinned is what {{pinned}} stands for: an import map that pins every
// module of the stand-in widget served at /widget/, and the inline module
// that loads it, as web/example/index.html does.
func Pinned(t testing.TB) string {
	sri := Integrity(t)
	var names []string
	for name := range sri {
		if strings.HasSuffix(name, ".js") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(`<script type="importmap">
  {
    "imports": { "@cvmtrust/widget/define": "/widget/define.js" },
    "integrity": {`)
	for i, name := range names {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n      %q: %q", "/widget/"+name, sri[name])
	}
	b.WriteString("\n    }\n  }\n  </script>\n  <script type=\"module\">import '@cvmtrust/widget/define';</script>")
	return b.String()
}

// Render returns a page with its template expanded.
func Render(t testing.TB, name string) []byte {
	t.Helper()
	src, err := files.ReadFile("pages/" + name)
	if err != nil {
		t.Fatal(err)
	}
	sri := Integrity(t)
	tmpl, err := template.New(name).Funcs(template.FuncMap{
		"pinned": func() string { return Pinned(t) },
		"sri": func(name string) (string, error) {
			if s, ok := sri[name]; ok {
				return s, nil
			}
			return "", fmt.Errorf("build.json has no %q", name)
		},
	}).Parse(string(src))
	if err != nil {
		t.Fatalf("pages/%s: %v", name, err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, nil); err != nil {
		t.Fatalf("pages/%s: %v", name, err)
	}
	return out.Bytes()
}

// Serve starts a server on 127.0.0.1 that serves Handler(t, extra) over
// plain HTTP. It returns the server's base URL.
func Serve(t testing.TB, extra map[string][]byte) string {
	t.Helper()
	srv := httptest.NewServer(Handler(t, extra))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Handler serves the stand-in widget at /widget/, each page at /NAME
// (expanded), and extra, when not nil, at the paths it names (a test's own
// pages).
func Handler(t testing.TB, extra map[string][]byte) http.Handler {
	t.Helper()
	widget, err := fs.Sub(files, "widget")
	if err != nil {
		t.Fatal(err)
	}
	// Everything is read and expanded here, in the test's goroutine.
	served := map[string][]byte{}
	entries, err := fs.ReadDir(files, "pages")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "_") {
			served["/"+e.Name()], _ = files.ReadFile("pages/" + e.Name())
		} else {
			served["/"+e.Name()] = Render(t, e.Name())
		}
	}
	for p, b := range extra {
		served[p] = b
	}
	types := map[string]string{".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
	mux := http.NewServeMux()
	mux.Handle("/widget/", http.StripPrefix("/widget/", http.FileServerFS(widget)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, ok := served[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", types[path.Ext(r.URL.Path)])
		w.Write(body)
	})
	return mux
}
