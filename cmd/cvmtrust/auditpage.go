package main

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"golang.org/x/net/html"
)

func init() {
	register("audit-page", "check that a deployed page loads exactly the published widget, pinned", runAuditPage)
}

const auditPageUsage = `usage: cvmtrust audit-page URL --build build.json [--timeout DURATION] [--json]

Fetches the page at URL and every widget file it loads — script tags, the
ES module graph (static imports, modulepreload links, the import map), and
the wasm and wasm_exec.js the loader fetches — and compares each byte for
byte with build.json (of a release, or of your own reproducible build at the
release's commit). It checks that the page pins them: integrity on script
tags and in the import map, and the wasm's integrity in the loader. It lists
the other scripts that run in the page's realm: they can change what the
widget shows.

Exit status: 0 every widget file the page loads matches build.json and is
pinned; 1 one differs, is missing or is not pinned (or the page loads no
widget); 2 unusable input (the page or build.json cannot be read).

flags:
`

// Bounds on what audit-page fetches.
const (
	maxPageBytes     = 4 << 20
	maxAuditFileSize = 64 << 20
	maxAuditFiles    = 300
)

func runAuditPage(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("audit-page", auditPageUsage, stderr)
	buildFile := fs.String("build", "", "build.json `file` of the widget build the page must load")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this `duration`")
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	// The page URL may come before or after the flags.
	var pageURL string
	var rest []string
	for _, a := range args {
		if pageURL == "" && (strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://")) {
			pageURL = a
			continue
		}
		rest = append(rest, a)
	}
	if code, done := parseFlags(fs, rest); done {
		return code
	}
	if pageURL == "" {
		return usageError(stderr, "audit-page: give the page's http:// or https:// URL")
	}
	if *buildFile == "" {
		return usageError(stderr, "audit-page: give --build build.json")
	}
	build, err := readBuildJSON(*buildFile)
	if err != nil {
		return usageError(stderr, "audit-page: --build %s: %v", *buildFile, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	rep, err := auditPage(ctx, &http.Client{}, pageURL, build)
	if err != nil {
		return usageError(stderr, "audit-page: %v", err)
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep.summary()); err != nil {
			return usageError(stderr, "audit-page: %v", err)
		}
	} else {
		rep.print(stdout)
	}
	if !rep.passed() {
		return exitRejected
	}
	return exitOK
}

// buildFiles maps a file's path in the widget package ("define.js",
// "dist/cvmtrust.wasm") to its SRI hash ("sha384-...").
type buildFiles map[string]string

func readBuildJSON(file string) (buildFiles, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Files map[string]struct {
			Integrity string `json:"integrity"`
		} `json:"files"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not a build.json: %w", err)
	}
	if len(doc.Files) == 0 {
		return nil, errors.New("not a build.json: it lists no files")
	}
	out := buildFiles{}
	for name, f := range doc.Files {
		if _, _, err := parseSRI(f.Integrity); err != nil || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
			return nil, fmt.Errorf("file %q: integrity %q is not a SHA-256, SHA-384 or SHA-512 hash", name, f.Integrity)
		}
		out[name] = f.Integrity
	}
	return out, nil
}

// parseSRI splits "sha384-BASE64" into its algorithm and digest.
func parseSRI(s string) (alg string, digest []byte, err error) {
	alg, b64, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return "", nil, errors.New("no algorithm")
	}
	digest, err = base64.StdEncoding.DecodeString(b64)
	sizes := map[string]int{"sha256": 32, "sha384": 48, "sha512": 64}
	if err != nil || sizes[alg] == 0 || len(digest) != sizes[alg] {
		return "", nil, errors.New("not a SHA-2 hash")
	}
	return alg, digest, nil
}

// sriOf hashes b with alg, as a Subresource Integrity value.
func sriOf(alg string, b []byte) string {
	var d []byte
	switch alg {
	case "sha256":
		s := sha256.Sum256(b)
		d = s[:]
	case "sha512":
		s := sha512.Sum512(b)
		d = s[:]
	default:
		s := sha512.Sum384(b)
		d = s[:]
		alg = "sha384"
	}
	return alg + "-" + base64.StdEncoding.EncodeToString(d)
}

// sriIncludes reports whether an integrity attribute (space-separated
// hashes, options after '?') names want.
func sriIncludes(attr, want string) bool {
	for _, h := range strings.Fields(attr) {
		h, _, _ = strings.Cut(h, "?")
		if h == want {
			return true
		}
	}
	return false
}

// How a file is loaded by the page.
const (
	loadModule  = "module"  // an ES module: fetched with the import map's integrity
	loadClassic = "classic" // a classic <script src>
	loadFetched = "fetched" // fetched by a module's code (new URL(..., import.meta.url))
)

// loadedFile is one file the page loads, with everything that references it.
type loadedFile struct {
	url  string
	kind string
	// tagIntegrity holds the integrity attribute of each tag that loads or
	// preloads it ("" when a tag has none).
	tagIntegrity []string
	// importedBy counts references from module code (imports, dynamic
	// imports, new URL): those fetches are pinned by the import map only.
	importedBy int
	body       []byte
	fetchErr   error
	// widget file: its path in the package, and build.json's hash.
	name, want string
}

// moduleImport is one reference from module code: what it names and the
// URL the page's import map makes of it.
type moduleImport struct{ referrer, spec, resolved string }

// otherScript is a script that runs in the page's realm and is not the
// widget's.
type otherScript struct{ what, where string }

type pageReport struct {
	page      string
	root      string // the widget package's URL prefix
	files     []*loadedFile
	others    []otherScript
	notes     []string
	importMap *importMap
	// imports records every module reference, to check that the import
	// map sends none of the widget's own imports elsewhere.
	imports []moduleImport
	// remapped lists widget imports the import map redirects.
	remapped    []string
	widgetFound bool
}

// importMap is the page's import map, keys and addresses resolved.
type importMap struct {
	imports   map[string]string            // specifier (resolved when URL-like) -> URL
	scopes    map[string]map[string]string // scope URL prefix -> imports for referrers under it
	integrity map[string]string            // URL -> integrity
}

func auditPage(ctx context.Context, client *http.Client, pageURL string, build buildFiles) (*pageReport, error) {
	page, err := url.Parse(pageURL)
	if err != nil || (page.Scheme != "http" && page.Scheme != "https") || page.Host == "" {
		return nil, fmt.Errorf("%q is not an http:// or https:// URL", pageURL)
	}
	body, final, ctype, err := fetchLimited(ctx, client, page.String(), maxPageBytes)
	if err != nil {
		return nil, fmt.Errorf("the page cannot be audited: %w", err)
	}
	if !strings.Contains(ctype, "html") {
		return nil, fmt.Errorf("%s is %q, not an HTML page", final, ctype)
	}
	base, _ := url.Parse(final)
	doc, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", final, err)
	}
	rep := &pageReport{page: final, importMap: &importMap{imports: map[string]string{}, integrity: map[string]string{}}}
	files := map[string]*loadedFile{}
	var order []string
	add := func(u, kind string) *loadedFile {
		f, ok := files[u]
		if !ok {
			f = &loadedFile{url: u, kind: kind}
			files[u] = f
			order = append(order, u)
		}
		if f.kind == loadFetched && kind != loadFetched {
			f.kind = kind
		}
		return f
	}
	type moduleSource struct{ referrer, src string }
	var inlineModules []moduleSource

	// The page: scripts, preloads, the import map, inline code.
	var baseSet bool
	inline := 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
				if strings.HasPrefix(a.Key, "on") && len(a.Key) > 2 {
					rep.others = append(rep.others, otherScript{"inline event handler " + a.Key + " on <" + n.Data + ">", oneLine(a.Val)})
				}
				if (a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					rep.others = append(rep.others, otherScript{"javascript: URL on <" + n.Data + ">", oneLine(a.Val)})
				}
			}
			switch n.Data {
			case "base":
				if h, ok := attrs["href"]; ok && !baseSet {
					if u, err := base.Parse(h); err == nil {
						base, baseSet = u, true
					}
				}
			case "script":
				typ := strings.ToLower(strings.TrimSpace(attrs["type"]))
				kind := ""
				switch typ {
				case "", "text/javascript", "application/javascript", "text/ecmascript", "application/ecmascript":
					kind = loadClassic
				case "module":
					kind = loadModule
				case "importmap":
					kind = "importmap"
				}
				text := textOf(n)
				src, hasSrc := attrs["src"]
				switch {
				case kind == "": // data, not code
				case kind == "importmap":
					if hasSrc {
						rep.notes = append(rep.notes, "an external import map (src) is ignored by browsers")
					} else if err := rep.importMap.merge(text, base); err != nil {
						rep.notes = append(rep.notes, "the import map is not valid JSON: "+err.Error())
					}
				case hasSrc:
					u, err := base.Parse(src)
					if err != nil {
						rep.notes = append(rep.notes, fmt.Sprintf("script src %q is not a URL", src))
						break
					}
					f := add(stripFragment(u), kind)
					f.tagIntegrity = append(f.tagIntegrity, attrs["integrity"])
				default:
					inline++
					sum := sha256.Sum256([]byte(text))
					rep.others = append(rep.others, otherScript{
						fmt.Sprintf("inline %s script #%d (%d bytes, sha256-%s)", kind, inline, len(text), base64.StdEncoding.EncodeToString(sum[:])),
						preview(text)})
					if kind == loadModule {
						inlineModules = append(inlineModules, moduleSource{base.String(), text})
					}
				}
			case "link":
				rel := strings.Fields(strings.ToLower(attrs["rel"]))
				as := strings.ToLower(attrs["as"])
				kind := ""
				switch {
				case contains(rel, "modulepreload"):
					kind = loadModule
				case contains(rel, "preload") && as == "script":
					kind = loadClassic
				case contains(rel, "preload") && as == "fetch":
					kind = loadFetched
				}
				if kind != "" {
					if u, err := base.Parse(attrs["href"]); err == nil {
						f := add(stripFragment(u), kind)
						if kind != loadFetched { // a preload's integrity does not pin a later fetch
							f.tagIntegrity = append(f.tagIntegrity, attrs["integrity"])
						}
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)

	// The module graph, breadth first, bounded.
	resolveRefs := func(referrer string, refs jsReferences) {
		ref, _ := url.Parse(referrer)
		for _, list := range []struct {
			specs []string
			kind  string
		}{{refs.static, loadModule}, {refs.dynamic, loadModule}, {refs.relativeURLs, ""}} {
			for _, spec := range list.specs {
				var u string
				if list.kind == loadModule {
					var ok bool
					if u, ok = rep.importMap.resolve(spec, ref); !ok {
						rep.notes = append(rep.notes, fmt.Sprintf("%s imports %q, which neither the import map nor a relative URL resolves", referrer, spec))
						continue
					}
				} else {
					r, err := ref.Parse(spec)
					if err != nil {
						continue
					}
					u = stripFragment(r)
				}
				rep.imports = append(rep.imports, moduleImport{referrer, spec, u})
				kind := list.kind
				if kind == "" {
					// new URL(x, import.meta.url): a module when it is
					// JavaScript (the loader imports it), else fetched.
					kind = loadFetched
					if p := strings.ToLower(path.Ext(mustPath(u))); p == ".js" || p == ".mjs" {
						kind = loadModule
					}
				}
				add(u, kind).importedBy++
			}
		}
		if refs.opaqueDynamic > 0 {
			rep.notes = append(rep.notes, fmt.Sprintf("%s has %d import() of a computed URL; what it loads is known only where it also names the file with new URL(..., import.meta.url)", referrer, refs.opaqueDynamic))
		}
	}
	for _, m := range inlineModules {
		resolveRefs(m.referrer, scanJS(m.src))
	}
	for i := 0; i < len(order); i++ {
		if i >= maxAuditFiles {
			return nil, fmt.Errorf("the page loads more than %d files", maxAuditFiles)
		}
		f := files[order[i]]
		f.body, _, _, f.fetchErr = fetchLimited(ctx, client, f.url, maxAuditFileSize)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("the page cannot be audited: %w", ctx.Err())
		}
		if f.fetchErr == nil && f.kind == loadModule {
			resolveRefs(f.url, scanJS(string(f.body)))
		}
	}
	for _, u := range order {
		rep.files = append(rep.files, files[u])
	}
	rep.identifyWidget(build)
	return rep, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mustPath(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Path
}

func stripFragment(u *url.URL) string {
	c := *u
	c.Fragment = ""
	return c.String()
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

func preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// merge adds an import map's imports and integrity, resolved against
// base. As browsers merge several maps, an entry already present wins.
func (m *importMap) merge(text string, base *url.URL) error {
	var raw struct {
		Imports   map[string]string            `json:"imports"`
		Scopes    map[string]map[string]string `json:"scopes"`
		Integrity map[string]string            `json:"integrity"`
	}
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return err
	}
	addImports := func(dst, src map[string]string) {
		for k, v := range src {
			key := normalizeSpecifier(k, base)
			if _, ok := dst[key]; ok {
				continue
			}
			if u, err := base.Parse(v); err == nil {
				dst[key] = u.String()
			}
		}
	}
	addImports(m.imports, raw.Imports)
	for scope, imports := range raw.Scopes {
		u, err := base.Parse(scope)
		if err != nil {
			continue
		}
		if m.scopes == nil {
			m.scopes = map[string]map[string]string{}
		}
		if m.scopes[u.String()] == nil {
			m.scopes[u.String()] = map[string]string{}
		}
		addImports(m.scopes[u.String()], imports)
	}
	for k, v := range raw.Integrity {
		if !isURLLike(k) {
			continue
		}
		key := normalizeSpecifier(k, base)
		if _, ok := m.integrity[key]; !ok {
			m.integrity[key] = v
		}
	}
	return nil
}

func isURLLike(s string) bool {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

func normalizeSpecifier(s string, base *url.URL) string {
	if isURLLike(s) {
		if u, err := base.Parse(s); err == nil {
			return u.String()
		}
	}
	return s
}

// resolve resolves a module specifier as a browser does with this map:
// in each scope that contains the referrer, most specific first, then in
// the top-level imports, an exact entry or else the longest entry ending in
// "/" that prefixes it; failing those, a URL-like specifier is itself.
func (m *importMap) resolve(spec string, referrer *url.URL) (string, bool) {
	key := normalizeSpecifier(spec, referrer)
	var scopes []string
	for prefix := range m.scopes {
		if r := referrer.String(); r == prefix || strings.HasSuffix(prefix, "/") && strings.HasPrefix(r, prefix) {
			scopes = append(scopes, prefix)
		}
	}
	sort.Slice(scopes, func(i, j int) bool { return len(scopes[i]) > len(scopes[j]) })
	for _, prefix := range scopes {
		if u, ok := resolveIn(m.scopes[prefix], key); ok {
			return u, true
		}
	}
	if u, ok := resolveIn(m.imports, key); ok {
		return u, true
	}
	if isURLLike(spec) {
		return key, true
	}
	return "", false
}

func resolveIn(imports map[string]string, key string) (string, bool) {
	if v, ok := imports[key]; ok {
		return v, true
	}
	best := ""
	for k := range imports {
		if strings.HasSuffix(k, "/") && strings.HasPrefix(key, k) && len(k) > len(best) {
			best = k
		}
	}
	if best == "" {
		return "", false
	}
	u, err := url.Parse(imports[best])
	if err != nil {
		return "", false
	}
	r, err := u.Parse(strings.TrimPrefix(key, best))
	if err != nil {
		return "", false
	}
	return r.String(), true
}

// fetchLimited GETs u, at most max bytes, and returns the body, the final
// URL and the content type.
func fetchLimited(ctx context.Context, client *http.Client, u string, max int64) ([]byte, string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", "", fmt.Errorf("%s answered %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, "", "", fmt.Errorf("%s: %w", u, err)
	}
	if int64(len(b)) > max {
		return nil, "", "", fmt.Errorf("%s is larger than %d bytes", u, max)
	}
	return b, resp.Request.URL.String(), resp.Header.Get("Content-Type"), nil
}

// identifyWidget finds the widget's package root — the URL prefix under
// which the most loaded files have build.json's names — and marks those
// files; every other script is one of the page's others.
func (rep *pageReport) identifyWidget(build buildFiles) {
	votes := map[string]int{}
	for _, f := range rep.files {
		for name := range build {
			if p := mustPath(f.url); strings.HasSuffix(p, "/"+name) {
				votes[strings.TrimSuffix(f.url, name)]++
			}
		}
	}
	for root, n := range votes {
		if n > votes[rep.root] || n == votes[rep.root] && root < rep.root {
			rep.root = root
		}
	}
	widget := map[string]string{}
	for _, f := range rep.files {
		if name, ok := strings.CutPrefix(f.url, rep.root); ok && rep.root != "" {
			if want, known := build[name]; known {
				f.name, f.want = name, want
				widget[f.url] = name
				rep.widgetFound = true
				continue
			}
		}
		if f.kind != loadFetched {
			where := "same origin"
			if pu, fu := mustHost(rep.page), mustHost(f.url); pu != fu {
				where = "another origin: " + fu
			}
			rep.others = append(rep.others, otherScript{f.kind + " script " + f.url, where})
		}
	}
	// A widget module's relative import must reach the file it names: an
	// import map entry or scope can send it to other code.
	for _, im := range rep.imports {
		name, fromWidget := widget[im.referrer]
		if !fromWidget || !isURLLike(im.spec) {
			continue
		}
		ref, _ := url.Parse(im.referrer)
		if want, err := ref.Parse(im.spec); err == nil && stripFragment(want) != im.resolved {
			rep.remapped = append(rep.remapped, fmt.Sprintf("%s imports %q, which the page's import map sends to %s", name, im.spec, im.resolved))
		}
	}
}

func mustHost(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// fileVerdict says whether a widget file matches build.json and how it is
// pinned; ok is true when both hold.
func (rep *pageReport) fileVerdict(f *loadedFile) (ok bool, match, pin string) {
	alg, _, _ := parseSRI(f.want)
	matches := false
	switch {
	case f.fetchErr != nil:
		match = "cannot be fetched: " + f.fetchErr.Error()
	case sriOf(alg, f.body) != f.want:
		match = fmt.Sprintf("DIFFERS from build.json: served %s, build.json %s", sriOf(alg, f.body), f.want)
	default:
		matches = true
		match = "matches build.json"
	}
	pinned := false
	switch f.kind {
	case loadFetched:
		// Pinned when a widget module that matches the build and is
		// itself pinned carries its hash: the loader fetches it with it.
		for _, g := range rep.files {
			if g == f || g.name == "" || g.kind != loadModule || !strings.Contains(string(g.body), f.want) {
				continue
			}
			if gm, _, _ := rep.fileVerdict(g); gm {
				pinned, pin = true, "pinned by "+g.name+", which the loader fetches it with"
				break
			}
		}
		if !pinned {
			pin = "NOT PINNED: no pinned widget module carries its integrity"
		}
	default:
		mapped, inMap := rep.importMap.integrity[f.url]
		wrongTag := ""
		for _, t := range f.tagIntegrity {
			if t != "" && !sriIncludes(t, f.want) {
				wrongTag = t
			}
		}
		tagsPinned := len(f.tagIntegrity) > 0
		for _, t := range f.tagIntegrity {
			tagsPinned = tagsPinned && sriIncludes(t, f.want)
		}
		switch {
		case wrongTag != "":
			pin = "NOT PINNED to the build: a tag says integrity " + wrongTag
		case f.kind == loadModule && inMap && sriIncludes(mapped, f.want):
			pinned, pin = true, "pinned by the import map"
		case f.kind == loadModule && inMap:
			pin = "NOT PINNED to the build: the import map says " + mapped
		case f.importedBy == 0 && tagsPinned:
			pinned, pin = true, "pinned by integrity on its tag"
		case f.kind == loadModule && f.importedBy > 0:
			pin = "NOT PINNED: imported by a module, but the import map has no integrity for it"
		default:
			pin = "NOT PINNED: its tag has no integrity"
		}
	}
	return matches && pinned, match, pin
}

func (rep *pageReport) passed() bool {
	if !rep.widgetFound || !rep.wasmFound() || len(rep.remapped) > 0 {
		return false
	}
	for _, f := range rep.files {
		if f.name == "" {
			continue
		}
		if ok, _, _ := rep.fileVerdict(f); !ok {
			return false
		}
	}
	return true
}

func (rep *pageReport) wasmFound() bool {
	for _, f := range rep.files {
		if strings.HasSuffix(f.name, ".wasm") {
			return true
		}
	}
	return false
}

// auditSummary is the JSON form of a page audit.
type auditSummary struct {
	Page         string             `json:"page"`
	Passed       bool               `json:"passed"`
	WidgetRoot   string             `json:"widgetRoot,omitempty"`
	WidgetFiles  []auditFileSummary `json:"widgetFiles"`
	Remapped     []string           `json:"remappedImports,omitempty"`
	OtherScripts []otherScriptJSON  `json:"otherScripts"`
	Notes        []string           `json:"notes,omitempty"`
}

type auditFileSummary struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Loaded  string `json:"loadedAs"` // module, classic or fetched
	OK      bool   `json:"ok"`
	Content string `json:"content"` // matches build.json, or how it differs
	Pinning string `json:"pinning"`
}

type otherScriptJSON struct {
	What  string `json:"what"`
	Where string `json:"where"`
}

func (rep *pageReport) summary() auditSummary {
	out := auditSummary{Page: rep.page, Passed: rep.passed(), WidgetRoot: rep.root, Remapped: rep.remapped, Notes: rep.notes,
		WidgetFiles: []auditFileSummary{}, OtherScripts: []otherScriptJSON{}}
	for _, f := range rep.files {
		if f.name == "" {
			continue
		}
		ok, match, pin := rep.fileVerdict(f)
		out.WidgetFiles = append(out.WidgetFiles, auditFileSummary{f.name, f.url, f.kind, ok, match, pin})
	}
	sort.Slice(out.WidgetFiles, func(i, j int) bool { return out.WidgetFiles[i].Name < out.WidgetFiles[j].Name })
	for _, o := range rep.others {
		out.OtherScripts = append(out.OtherScripts, otherScriptJSON{o.what, o.where})
	}
	return out
}

func (rep *pageReport) print(w io.Writer) {
	fmt.Fprintf(w, "page %s\n", rep.page)
	if !rep.widgetFound {
		fmt.Fprintln(w, "FAIL: the page loads no file of this widget build")
	} else {
		fmt.Fprintf(w, "widget files, from %s\n", rep.root)
		var widget []*loadedFile
		for _, f := range rep.files {
			if f.name != "" {
				widget = append(widget, f)
			}
		}
		sort.Slice(widget, func(i, j int) bool { return widget[i].name < widget[j].name })
		for _, f := range widget {
			ok, match, pin := rep.fileVerdict(f)
			mark := "ok  "
			if !ok {
				mark = "FAIL"
			}
			fmt.Fprintf(w, "  %s %-20s %s; %s\n", mark, f.name, match, pin)
		}
		if !rep.wasmFound() {
			fmt.Fprintln(w, "  FAIL the page's widget loads no wasm of this build")
		}
		for _, r := range rep.remapped {
			fmt.Fprintf(w, "  FAIL %s\n", r)
		}
	}
	if len(rep.others) > 0 {
		fmt.Fprintln(w, "other scripts in the page's realm (they can change what the widget shows):")
		for _, o := range rep.others {
			fmt.Fprintf(w, "  %s: %s\n", o.what, o.where)
		}
	} else {
		fmt.Fprintln(w, "no other scripts in the page's realm")
	}
	for _, n := range rep.notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if rep.passed() {
		fmt.Fprintln(w, "PASS: every widget file the page loads matches build.json and is pinned")
	} else {
		fmt.Fprintln(w, "FAIL: the page does not load exactly this widget build, pinned")
	}
}
