package pageaudit

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/cvmtrust/cvmtrust/verifier"
)

// Bounds on what an audit fetches.
const (
	maxPageBytes = 4 << 20
	maxFileBytes = 64 << 20
	maxFiles     = 300
)

// Policy is what a page must meet: load exactly this widget build, pinned,
// run nothing else but the code allowed by hash, and, over https, come from
// the attested machine.
type Policy struct {
	build   Build
	allowed []string // Subresource Integrity hashes
	// What the machine that serves an https page must prove (checkOrigin);
	// nil verifier: nothing was said, and no https page passes.
	verifier    *verifier.Verifier
	expectation verifier.Expectation
}

// NewPolicy returns the policy for build that also allows the code whose
// hashes ("sha384-…"; SHA-256 and SHA-512 too) are listed.
func NewPolicy(build Build, allowedCode ...string) (*Policy, error) {
	if len(build) == 0 {
		return nil, fmt.Errorf("%w: it lists no files", ErrNotBuild)
	}
	for _, h := range allowedCode {
		if _, _, err := parseSRI(h); err != nil {
			return nil, fmt.Errorf("allowed code %q: %w", h, err)
		}
	}
	return &Policy{build: build, allowed: allowedCode}, nil
}

// WithAttestation returns a copy of p that says what the machine serving an
// https page must prove for the page to count as its own: the report of the
// gateway the page's element names must verify with v against exp, bound to
// a fresh nonce and to the TLS key the page was served with. The audit sets
// exp's ReportData, Binding and TLSKeySHA256 itself. exp must name the
// measurements it accepts (or, for debugging, AnyMeasurementUnsafe).
func (p *Policy) WithAttestation(v *verifier.Verifier, exp verifier.Expectation) (*Policy, error) {
	switch {
	case v == nil:
		return nil, errors.New("pageaudit: WithAttestation needs a verifier")
	case len(exp.Measurements) == 0 && !exp.AnyMeasurementUnsafe:
		return nil, fmt.Errorf("pageaudit: %w: no allowed measurement given", verifier.ErrBadExpectation)
	case len(exp.Measurements) > 0 && exp.AnyMeasurementUnsafe:
		return nil, fmt.Errorf("pageaudit: %w: Measurements and AnyMeasurementUnsafe contradict each other", verifier.ErrBadExpectation)
	}
	q := *p
	q.verifier, q.expectation = v, exp
	return &q, nil
}

// allows reports whether b is code the policy allows by hash.
func (p *Policy) allows(b []byte) bool {
	for _, h := range p.allowed {
		alg, _, _ := strings.Cut(h, "-")
		if sriOf(alg, b) == h {
			return true
		}
	}
	return false
}

// ErrUnusable is returned by Audit when the page cannot be audited at all:
// it cannot be fetched, or is not HTML.
var ErrUnusable = errors.New("the page cannot be audited")

// How a file is loaded.
const (
	loadModule  = "module"  // an ES module: fetched with the import map's integrity
	loadClassic = "classic" // a classic script
	loadFetched = "fetched" // fetched by a module's code (new URL(…, import.meta.url)), not run as script
)

// loadedFile is one file the page loads, with everything that references it.
type loadedFile struct {
	url  string
	kind string
	// how says what loads it, for the report ("<script type=\"module\">").
	how string
	// tagIntegrity holds the integrity attribute of each tag that loads or
	// preloads it ("" when a tag has none).
	tagIntegrity []string
	// importedBy counts references from module code (imports, dynamic
	// imports, new URL): those fetches are pinned by the import map only.
	importedBy int
	body       []byte
	fetchErr   error
	// For a widget file: its path in the build, and the build's hash.
	name, want string
}

// reference is one reference from module code, and where the page's import
// map sends it.
type reference struct {
	referrer string
	spec     string
	kind     string // "import", "import()", "import.meta.resolve", "new URL"
	resolved string // "" when it does not resolve
	err      error
}

type audit struct {
	ctx    context.Context
	client *http.Client
	policy *Policy
	page   *Page
	// pageTLS is the connection that served the page, nil over plain HTTP.
	pageTLS *tls.ConnectionState
	imap    *importMap
	files   map[string]*loadedFile
	order   []string
	refs    []reference
	root    string // the widget package's URL prefix
	report  *Report
}

// Audit fetches the page at pageURL with client and checks it against
// policy. The error is for a page that cannot be audited (ErrUnusable);
// any failure of the page itself is in the Report.
func Audit(ctx context.Context, client *http.Client, pageURL string, policy *Policy) (*Report, error) {
	u, err := url.Parse(pageURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not an http:// or https:// URL", ErrUnusable, pageURL)
	}
	resp, err := fetch(ctx, client, u.String(), maxPageBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnusable, err)
	}
	if mt, _, _ := mime.ParseMediaType(resp.header.Get("Content-Type")); mt != "text/html" && mt != "application/xhtml+xml" {
		return nil, fmt.Errorf("%w: %s is %q, not an HTML page", ErrUnusable, resp.url, resp.header.Get("Content-Type"))
	}
	final, err := parseURL(resp.url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnusable, err)
	}
	page, err := Parse(final, resp.header, resp.body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnusable, final, err)
	}
	a := &audit{ctx: ctx, client: client, policy: policy, page: page, pageTLS: resp.tls, files: map[string]*loadedFile{},
		report: &Report{MediaType: MediaType, Page: final.String(), WidgetFiles: []FileReport{}, Elements: []ElementReport{}, Findings: []Finding{}}}
	a.readImportMaps()
	if err := a.load(); err != nil {
		return nil, err
	}
	a.identifyWidget()
	// Each check adds its findings; a new check is one more line.
	for _, check := range []func(){
		a.checkWidgetFiles,
		a.checkWidgetResolution,
		a.checkCode,
		a.checkNavigations,
		a.checkElements,
		a.checkStyles,
		a.checkOrigin,
	} {
		check()
	}
	a.report.decide()
	return a.report, nil
}

func (a *audit) add(f Finding) { a.report.Findings = append(a.report.Findings, f) }

// readImportMaps merges the page's import maps into one, as browsers that
// take several do, and reports what makes browsers disagree about them.
func (a *audit) readImportMaps() {
	a.imap = &importMap{integrity: map[string]string{}}
	for i, s := range a.page.ImportMaps {
		what := fmt.Sprintf("import map #%d", i+1)
		switch {
		case s.External:
			a.add(Finding{Check: CheckImportMap, Outcome: Note, What: what, Why: "An import map given by src is refused by browsers; it has no effect."})
			continue
		case i > 0:
			a.add(Finding{Check: CheckImportMap, Outcome: Fail, What: what, Why: "The page has more than one import map: some browsers take only the first, others merge them, so what loads differs between browsers."})
		case s.AfterModules:
			a.add(Finding{Check: CheckImportMap, Outcome: Fail, What: what, Why: "It comes after a module script or modulepreload: some browsers then ignore it, and load the widget's modules unpinned."})
		}
		m, err := parseImportMap(s.Text, s.base)
		if err != nil {
			a.add(Finding{Check: CheckImportMap, Outcome: Fail, What: what, Why: "The audit cannot read it (" + err.Error() + "), so it cannot tell where it sends the widget's modules."})
			continue
		}
		for _, w := range m.warnings {
			a.add(Finding{Check: CheckImportMap, Outcome: Note, What: what, Why: "A browser ignores part of it: " + w + "."})
		}
		a.imap.merge(m)
	}
}

func (a *audit) file(u, kind, how string) *loadedFile {
	f, ok := a.files[u]
	if !ok {
		f = &loadedFile{url: u, kind: kind, how: how}
		a.files[u] = f
		a.order = append(a.order, u)
	}
	if f.kind == loadFetched && kind != loadFetched {
		f.kind, f.how = kind, how
	}
	return f
}

// load fetches every file the page loads — scripts, preloads, the module
// graph through the import map, the files modules name with new URL — and
// the linked stylesheets.
func (a *audit) load() error {
	for _, c := range a.page.Code {
		switch {
		case c.URL == "" && c.Kind == ModuleScript:
			a.addReferences(c.base.String(), scanJS(c.Source))
		case c.URL == "":
		case c.Kind == ModuleScript || c.Kind == ModulePreload:
			f := a.file(stripFragment(c.URL), loadModule, c.Element)
			f.tagIntegrity = append(f.tagIntegrity, c.Integrity)
		case c.Kind == ClassicScript || c.Kind == ScriptPreload:
			f := a.file(stripFragment(c.URL), loadClassic, c.Element)
			f.tagIntegrity = append(f.tagIntegrity, c.Integrity)
		}
	}
	for i := 0; i < len(a.order); i++ {
		if i >= maxFiles {
			return fmt.Errorf("%w: the page loads more than %d files", ErrUnusable, maxFiles)
		}
		f := a.files[a.order[i]]
		var r *fetched
		r, f.fetchErr = fetch(a.ctx, a.client, f.url, maxFileBytes)
		if a.ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ErrUnusable, a.ctx.Err())
		}
		if f.fetchErr == nil {
			f.body = r.body
			if f.kind == loadModule {
				a.addReferences(f.url, scanJS(string(f.body)))
			}
		}
	}
	for i := range a.page.Styles {
		s := &a.page.Styles[i]
		if s.URL == "" {
			continue
		}
		r, err := fetch(a.ctx, a.client, s.URL, maxFileBytes)
		if err != nil {
			a.add(Finding{Check: CheckStyle, Outcome: Fail, What: s.Where, Why: "The audit cannot read this stylesheet (" + err.Error() + "), so it cannot tell what it restyles."})
			continue
		}
		s.Text = string(r.body)
	}
	return nil
}

func stripFragment(u string) string {
	p, err := parseURL(u, nil)
	if err != nil {
		return u
	}
	return withoutFragment(p)
}

// addReferences records what a module names and adds the files it loads.
func (a *audit) addReferences(referrer string, refs jsReferences) {
	ref, err := parseURL(referrer, nil)
	if err != nil {
		return
	}
	imports := func(specs []string, kind string) {
		for _, spec := range specs {
			r := reference{referrer: referrer, spec: spec, kind: kind}
			u, err := a.imap.resolve(spec, ref)
			if err != nil {
				r.err = err
			} else {
				r.resolved = withoutFragment(u)
				if kind != "import.meta.resolve" {
					a.file(r.resolved, loadModule, "imported by "+referrer).importedBy++
				}
			}
			a.refs = append(a.refs, r)
		}
	}
	imports(refs.static, "import")
	imports(refs.dynamic, "import()")
	imports(refs.metaResolve, "import.meta.resolve")
	for _, spec := range refs.relativeURLs {
		target, err := parseURL(spec, ref)
		if err != nil {
			continue
		}
		// A module named this way is imported by its URL, which the
		// import map resolves like any specifier; any other file is
		// fetched, which no import map changes.
		if ext := strings.ToLower(path.Ext(target.Path)); ext == ".js" || ext == ".mjs" {
			r := reference{referrer: referrer, spec: withoutFragment(target), kind: "new URL"}
			u, err := a.imap.resolve(r.spec, ref)
			if err != nil {
				r.err = err
			} else {
				r.resolved = withoutFragment(u)
				a.file(r.resolved, loadModule, "imported by "+referrer).importedBy++
			}
			a.refs = append(a.refs, r)
			continue
		}
		a.file(withoutFragment(target), loadFetched, "fetched by "+referrer).importedBy++
	}
	if refs.opaqueDynamic > 0 {
		a.add(Finding{Check: CheckImportMap, Outcome: Note, What: referrer, Why: fmt.Sprintf("It has %d import() of a computed URL: what it loads is known only where it also names the file with new URL(…, import.meta.url).", refs.opaqueDynamic)})
	}
}

// identifyWidget finds the widget's package root — the URL prefix under
// which the most loaded files have the build's names — and marks those files.
func (a *audit) identifyWidget() {
	votes := map[string]int{}
	for _, u := range a.order {
		for name := range a.policy.build {
			if p, err := url.Parse(u); err == nil && strings.HasSuffix(p.Path, "/"+name) {
				votes[strings.TrimSuffix(u, name)]++
			}
		}
	}
	for root, n := range votes {
		if n > votes[a.root] || n == votes[a.root] && root < a.root {
			a.root = root
		}
	}
	a.report.WidgetRoot = a.root
	if a.root == "" {
		return
	}
	for _, f := range a.files {
		if name, ok := strings.CutPrefix(f.url, a.root); ok {
			if want, known := a.policy.build[name]; known {
				f.name, f.want = name, want
			}
		}
	}
}

func (a *audit) widgetFile(u string) *loadedFile {
	if f := a.files[u]; f != nil && f.name != "" {
		return f
	}
	return nil
}

func (a *audit) checkWidgetFiles() {
	var widget []*loadedFile
	wasm := false
	for _, f := range a.files {
		if f.name != "" {
			widget = append(widget, f)
			wasm = wasm || strings.HasSuffix(f.name, ".wasm")
		}
	}
	sort.Slice(widget, func(i, j int) bool { return widget[i].name < widget[j].name })
	for _, f := range widget {
		ok, content, pin := a.fileVerdict(f)
		a.report.WidgetFiles = append(a.report.WidgetFiles, FileReport{f.name, f.url, f.kind, ok, content, pin})
	}
	switch {
	case len(widget) == 0:
		a.add(Finding{Check: CheckWidget, Outcome: Fail, What: "no widget", Why: "The page loads no file of this widget build."})
	case !wasm:
		a.add(Finding{Check: CheckWidget, Outcome: Fail, What: "no wasm", Why: "The page's widget loads no wasm of this build."})
	}
	if len(a.page.Elements) == 0 {
		a.add(Finding{Check: CheckWidget, Outcome: Fail, What: "no <" + widgetTag + "> element",
			Why: "The page has no <" + widgetTag + "> element in its markup, so the audit cannot tell what it is told (an element made by a script is not audited)."})
	}
}

// fileVerdict says whether a widget file matches the build and how it is
// pinned; ok is true when both hold.
func (a *audit) fileVerdict(f *loadedFile) (ok bool, content, pin string) {
	alg, _, _ := parseSRI(f.want)
	matches := false
	switch {
	case f.fetchErr != nil:
		content = "cannot be fetched: " + f.fetchErr.Error()
	case sriOf(alg, f.body) != f.want:
		content = fmt.Sprintf("DIFFERS from build.json: served %s, build.json %s", sriOf(alg, f.body), f.want)
	default:
		matches = true
		content = "matches build.json"
	}
	if f.kind == loadFetched {
		// Pinned when a widget module that matches the build and is
		// itself pinned carries its hash: the loader checks it with it.
		for _, u := range a.order {
			g := a.files[u]
			if g == f || g.name == "" || g.kind != loadModule || !strings.Contains(string(g.body), f.want) {
				continue
			}
			if gok, _, _ := a.fileVerdict(g); gok {
				return matches, content, "pinned by " + g.name + ", which the loader checks it with"
			}
		}
		return false, content, "NOT PINNED: no pinned widget module carries its integrity"
	}
	pinned, pin := a.pinning(f, f.body)
	return matches && pinned, content, pin
}

// pinning says whether the page makes a browser refuse any bytes but body
// for f, and how.
func (a *audit) pinning(f *loadedFile, body []byte) (bool, string) {
	tagsPinned := len(f.tagIntegrity) > 0
	for _, t := range f.tagIntegrity {
		if t != "" && !integrityPins(t, body) {
			return false, "NOT PINNED to these bytes: a tag says integrity " + t
		}
		tagsPinned = tagsPinned && t != ""
	}
	mapped, inMap := a.imap.integrity[f.url]
	switch {
	case f.kind == loadModule && inMap && integrityPins(mapped, body):
		return true, "pinned by the import map"
	case f.kind == loadModule && inMap:
		return false, "NOT PINNED to these bytes: the import map says " + mapped
	case f.importedBy == 0 && tagsPinned:
		return true, "pinned by integrity on its tag"
	case f.kind == loadModule && f.importedBy > 0:
		return false, "NOT PINNED: imported by a module, but the import map has no integrity for it"
	}
	return false, "NOT PINNED: its tag has no integrity"
}

// integrityPins reports whether an integrity attribute admits body and
// nothing else: a browser checks the strongest algorithm it lists, and
// every hash of that algorithm must be body's.
func integrityPins(attr string, body []byte) bool {
	rank := map[string]int{"sha256": 1, "sha384": 2, "sha512": 3}
	var strongest []string
	best := 0
	for _, h := range strings.Fields(attr) {
		h, _, _ = strings.Cut(h, "?")
		alg, _, err := parseSRI(h)
		if err != nil {
			continue
		}
		switch {
		case rank[alg] > best:
			best, strongest = rank[alg], []string{h}
		case rank[alg] == best:
			strongest = append(strongest, h)
		}
	}
	for _, h := range strongest {
		alg, _, _ := strings.Cut(h, "-")
		if sriOf(alg, body) != h {
			return false
		}
	}
	return len(strongest) > 0
}

// checkWidgetResolution: every reference in the widget's own modules must
// land, through the page's import map, on the file it names; and no entry of
// the map, in any scope, may send a file of the build elsewhere.
func (a *audit) checkWidgetResolution() {
	if a.root == "" {
		return
	}
	for _, r := range a.refs {
		from := a.widgetFile(r.referrer)
		if from == nil {
			continue
		}
		ref, _ := parseURL(r.referrer, nil)
		want := ""
		if u := urlLikeSpecifier(r.spec, ref); u != nil {
			want = withoutFragment(u)
		}
		switch {
		case r.err != nil:
			a.add(Finding{Check: CheckImportMap, Outcome: Fail, What: fmt.Sprintf("%s: %s %q", from.name, r.kind, r.spec),
				Why: "The page's import map makes it fail to load (" + r.err.Error() + ")."})
		case want != "" && r.resolved != want:
			a.add(Finding{Check: CheckImportMap, Outcome: Fail, What: fmt.Sprintf("%s: %s %q", from.name, r.kind, r.spec), Where: r.resolved,
				Why: "The page's import map sends it to " + r.resolved + " instead of " + want + ": other code would run as the widget's."})
		case want == "" && a.widgetFile(r.resolved) == nil:
			a.add(Finding{Check: CheckImportMap, Outcome: Fail, What: fmt.Sprintf("%s: %s %q", from.name, r.kind, r.spec), Where: r.resolved,
				Why: "A widget module names a bare specifier, and the page's import map sends it to a file that is not the build's."})
		}
	}
	lists := []struct {
		where   string
		entries []mapEntry
	}{{"imports", a.imap.imports}}
	for _, s := range a.imap.scopes {
		lists = append(lists, struct {
			where   string
			entries []mapEntry
		}{"scope " + s.prefix, s.entries})
	}
	names := make([]string, 0, len(a.policy.build))
	for name := range a.policy.build {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		u, err := parseURL(a.root+name, nil)
		if err != nil {
			continue
		}
		for _, l := range lists {
			got, matched, err := resolveImportsMatch(u.String(), u, l.entries)
			if !matched || err == nil && got.String() == u.String() {
				continue
			}
			to := "nowhere (it is blocked)"
			if err == nil {
				to = got.String()
			}
			a.add(Finding{Check: CheckImportMap, Outcome: Fail, What: fmt.Sprintf("import map %s: %s", l.where, u), Where: to,
				Why: "An entry for the widget's " + name + " sends it to " + to + ": whatever imports it by URL (the loader imports its modules so) runs that instead."})
		}
	}
}

// checkCode: anything that can run and is not the widget fails unless the
// policy allows its hash (and, for a file, the page pins it).
func (a *audit) checkCode() {
	whys := map[CodeKind]struct {
		check Check
		why   string
	}{
		ClassicScript:  {CheckScript, "It runs in the page's realm: it can change what the widget checks and shows, and read what it captures."},
		ModuleScript:   {CheckScript, "It runs in the page's realm: it can change what the widget checks and shows, and read what it captures."},
		EventHandler:   {CheckEventHandler, "An event handler runs in the page's realm, as a script does."},
		JavaScriptURL:  {CheckJavaScriptURL, "A javascript: URL runs as a script in the page when it is followed or loaded."},
		NestedDocument: {CheckNestedDocument, "A document in a frame of the page's origin can reach into the page, the element's camera preview included."},
	}
	for _, c := range a.page.Code {
		w := whys[c.Kind]
		switch {
		case c.Kind == NestedDocument && !c.Inline:
			where := c.URL
			if where == "" {
				where = "about:blank"
			}
			a.add(Finding{Check: CheckNestedDocument, Outcome: Fail, What: c.Element, Where: where,
				Why: "A frame of the page's origin can reach into the page, the element's camera preview included; one of another origin can draw over it. The audit cannot pin what a frame loads."})
		case !c.Inline:
			// A file: judged below, once per file.
		case c.Kind == ModuleScript && a.loadsWidget(c):
			a.add(Finding{Check: CheckScript, Outcome: Pass, What: "inline " + c.Element, Where: preview(c.Source), Why: "It only imports the widget."})
		default:
			f := Finding{Check: w.check, Outcome: Fail, What: fmt.Sprintf("inline %s (%d bytes)", c.Element, len(c.Source)), Where: preview(c.Source),
				Hash: sriOf("sha384", []byte(c.Source)), Why: w.why}
			if a.policy.allows([]byte(c.Source)) {
				f.Outcome, f.Why = Allowed, w.why+" Allowed by its hash."
			}
			a.add(f)
		}
	}
	for _, u := range a.order {
		f := a.files[u]
		if f.name != "" || f.kind == loadFetched {
			continue
		}
		what := f.kind + " script " + f.url
		where := "same origin, " + f.how
		if originOf(f.url) != originOf(a.report.Page) {
			where = "another origin, " + f.how
		}
		why := whys[ClassicScript].why
		if f.fetchErr != nil {
			a.add(Finding{Check: CheckScript, Outcome: Fail, What: what, Where: where, Why: why + " The audit cannot fetch it: " + f.fetchErr.Error() + "."})
			continue
		}
		finding := Finding{Check: CheckScript, Outcome: Fail, What: what, Where: where, Hash: sriOf("sha384", f.body), Why: why}
		if a.policy.allows(f.body) {
			if pinned, pin := a.pinning(f, f.body); pinned {
				finding.Outcome, finding.Why = Allowed, why+" Allowed by its hash, and "+pin+"."
			} else {
				finding.Why = why + " Its hash is allowed, but the page does not pin it (" + pin + "): the server can send the next visitor other code."
			}
		}
		a.add(finding)
	}
}

// loadsWidget reports whether an inline module only imports, and only the
// widget's modules.
func (a *audit) loadsWidget(c Code) bool {
	specs, ok := importsOnly(c.Source)
	if !ok || a.root == "" {
		return false
	}
	for _, s := range specs {
		u, err := a.imap.resolve(s, c.base)
		if err != nil || a.widgetFile(withoutFragment(u)) == nil {
			return false
		}
	}
	return true
}

func (a *audit) checkNavigations() {
	for _, n := range a.page.Navigations {
		why := "It takes the person to another page, one the audit has not seen, without a click."
		if n.Element == "<base>" {
			why = "It changes where every relative URL after it leads: the gateway, the release manifests, the widget's own files."
		}
		a.add(Finding{Check: CheckNavigation, Outcome: Fail, What: n.Element, Where: n.Target, Why: why})
	}
}

func (a *audit) checkElements() {
	for _, el := range a.page.Elements {
		a.report.Elements = append(a.report.Elements, ElementReport{Attributes: checkElement(el)})
	}
}

func (a *audit) checkStyles() {
	target := cssTarget{}
	for _, el := range a.page.Elements {
		target.elements = append(target.elements, el.self)
		target.ancestors = append(target.ancestors, el.ancestors...)
		for _, b := range el.ancestors {
			if b.hidden {
				a.add(Finding{Check: CheckStyle, Outcome: Fail, What: "<" + b.tag + " hidden> (or inert), an ancestor of the element",
					Why: "It hides the element, or takes it out of the person's reach."})
			}
		}
	}
	for _, f := range a.files {
		target.widgetReadsVars = target.widgetReadsVars || f.name != "" && strings.Contains(string(f.body), "var(--")
	}
	for _, s := range a.page.Styles {
		var found []cssFinding
		switch {
		case s.Declarations:
			found = target.checkDeclarations(s.Text, s.OnElement)
		case s.Text != "":
			found = target.checkSheet(s.Text)
		}
		for _, c := range found {
			a.add(Finding{Check: CheckStyle, Outcome: Fail, What: c.rule, Where: s.Where, Why: c.why})
		}
	}
}

func preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80]) + "…"
	}
	return s
}

type fetched struct {
	body   []byte
	url    string // after redirects
	header http.Header
	// tls is the state of the connection that carried the answer (after
	// redirects), nil over plain HTTP: the page's says who served it.
	tls *tls.ConnectionState
}

// fetch GETs u, at most max bytes.
func fetch(ctx context.Context, client *http.Client, u string, max int64) (*fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", u, max)
	}
	return &fetched{body: b, url: resp.Request.URL.String(), header: resp.Header, tls: resp.TLS}, nil
}
