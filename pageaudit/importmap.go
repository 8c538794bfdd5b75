package pageaudit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// importMap is a page's import map, parsed and normalized as the HTML
// standard says ("parse an import map string"): keys that are URL-like
// resolved against the base URL, addresses resolved, entries that cannot be
// used kept as blocked (a browser refuses to resolve through them), and both
// the specifier maps and the scopes sorted in descending code-unit order, the
// order resolution tries them in.
type importMap struct {
	imports   []mapEntry
	scopes    []scope
	integrity map[string]string // URL -> integrity metadata
	warnings  []string          // entries a browser ignores, each with why
}

type mapEntry struct {
	key     string
	address string // "" when blocked
}

type scope struct {
	prefix  string
	entries []mapEntry
}

// errImportMap is returned for an import map a browser rejects as a whole.
var errImportMap = errors.New("not a valid import map")

func parseImportMap(text string, base *url.URL) (*importMap, error) {
	top, err := orderedObject([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errImportMap, err)
	}
	m := &importMap{integrity: map[string]string{}}
	for _, kv := range top {
		switch kv.key {
		case "imports":
			obj, err := orderedObject(kv.value)
			if err != nil {
				return nil, fmt.Errorf("%w: \"imports\" is not an object", errImportMap)
			}
			m.imports = m.specifierMap(obj, base)
		case "scopes":
			obj, err := orderedObject(kv.value)
			if err != nil {
				return nil, fmt.Errorf("%w: \"scopes\" is not an object", errImportMap)
			}
			byPrefix := map[string][]mapEntry{}
			for _, s := range obj {
				inner, err := orderedObject(s.value)
				if err != nil {
					return nil, fmt.Errorf("%w: scope %q is not an object", errImportMap, s.key)
				}
				u, err := parseURL(s.key, base)
				if err != nil {
					m.warnings = append(m.warnings, fmt.Sprintf("scope %q is not a URL", s.key))
					continue
				}
				byPrefix[u.String()] = m.specifierMap(inner, base)
			}
			for prefix, entries := range byPrefix {
				m.scopes = append(m.scopes, scope{prefix, entries})
			}
			sort.Slice(m.scopes, func(i, j int) bool { return m.scopes[i].prefix > m.scopes[j].prefix })
		case "integrity":
			obj, err := orderedObject(kv.value)
			if err != nil {
				return nil, fmt.Errorf("%w: \"integrity\" is not an object", errImportMap)
			}
			for _, e := range obj {
				u := urlLikeSpecifier(e.key, base)
				var v string
				if u == nil || json.Unmarshal(e.value, &v) != nil {
					m.warnings = append(m.warnings, fmt.Sprintf("integrity entry %q is ignored: not a URL with a string", e.key))
					continue
				}
				m.integrity[u.String()] = v
			}
		default:
			m.warnings = append(m.warnings, fmt.Sprintf("the key %q means nothing in an import map", kv.key))
		}
	}
	return m, nil
}

// specifierMap is "sort and normalize a specifier map".
func (m *importMap) specifierMap(obj []keyValue, base *url.URL) []mapEntry {
	byKey := map[string]string{}
	for _, e := range obj {
		if e.key == "" {
			m.warnings = append(m.warnings, "an empty specifier key is ignored")
			continue
		}
		key := e.key
		if u := urlLikeSpecifier(e.key, base); u != nil {
			key = u.String()
		}
		var v string
		var addr *url.URL
		if json.Unmarshal(e.value, &v) == nil {
			addr = urlLikeSpecifier(v, base)
		}
		switch {
		case addr == nil:
			m.warnings = append(m.warnings, fmt.Sprintf("the address of %q is not a URL: importing it fails", e.key))
			byKey[key] = ""
		case strings.HasSuffix(key, "/") && !strings.HasSuffix(addr.String(), "/"):
			m.warnings = append(m.warnings, fmt.Sprintf("%q ends in / and its address does not: importing under it fails", e.key))
			byKey[key] = ""
		default:
			byKey[key] = addr.String()
		}
	}
	out := make([]mapEntry, 0, len(byKey))
	for k, v := range byKey {
		out = append(out, mapEntry{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key > out[j].key })
	return out
}

// merge adds a later import map to m, as browsers that take several do: an
// entry m already has wins.
func (m *importMap) merge(n *importMap) {
	has := func(list []mapEntry, key string) bool {
		for _, e := range list {
			if e.key == key {
				return true
			}
		}
		return false
	}
	add := func(dst []mapEntry, src []mapEntry) []mapEntry {
		for _, e := range src {
			if !has(dst, e.key) {
				dst = append(dst, e)
			}
		}
		sort.Slice(dst, func(i, j int) bool { return dst[i].key > dst[j].key })
		return dst
	}
	m.imports = add(m.imports, n.imports)
	for _, s := range n.scopes {
		i := sort.Search(len(m.scopes), func(i int) bool { return m.scopes[i].prefix <= s.prefix })
		if i < len(m.scopes) && m.scopes[i].prefix == s.prefix {
			m.scopes[i].entries = add(m.scopes[i].entries, s.entries)
			continue
		}
		m.scopes = append(m.scopes, s)
		sort.Slice(m.scopes, func(i, j int) bool { return m.scopes[i].prefix > m.scopes[j].prefix })
	}
	for k, v := range n.integrity {
		if _, ok := m.integrity[k]; !ok {
			m.integrity[k] = v
		}
	}
	m.warnings = append(m.warnings, n.warnings...)
}

// errUnresolvable is returned when a browser cannot resolve a specifier: a
// bare one the map does not name, or one the map blocks.
var errUnresolvable = errors.New("the import map does not resolve it")

// resolve is the HTML standard's "resolve a module specifier" for a
// referrer (the importing module's URL, or the page's base URL for an
// inline script): the scopes that contain the referrer, most specific
// first, then the top-level imports; a URL-like specifier no entry names is
// itself.
func (m *importMap) resolve(specifier string, referrer *url.URL) (*url.URL, error) {
	asURL := urlLikeSpecifier(specifier, referrer)
	normalized := specifier
	if asURL != nil {
		normalized = asURL.String()
	}
	ref := referrer.String()
	for _, s := range m.scopes {
		if s.prefix == ref || strings.HasSuffix(s.prefix, "/") && strings.HasPrefix(ref, s.prefix) {
			if u, matched, err := resolveImportsMatch(normalized, asURL, s.entries); matched {
				return u, err
			}
		}
	}
	if u, matched, err := resolveImportsMatch(normalized, asURL, m.imports); matched {
		return u, err
	}
	if asURL != nil {
		return asURL, nil
	}
	return nil, fmt.Errorf("%w: %q is a bare specifier", errUnresolvable, specifier)
}

// resolveImportsMatch is "resolve an imports match": an exact entry, or
// the first entry ending in "/" that prefixes the specifier.
func resolveImportsMatch(normalized string, asURL *url.URL, entries []mapEntry) (*url.URL, bool, error) {
	for _, e := range entries {
		if e.key == normalized {
			if e.address == "" {
				return nil, true, fmt.Errorf("%w: the entry for %q is blocked", errUnresolvable, e.key)
			}
			u, err := parseURL(e.address, nil)
			return u, true, err
		}
		if strings.HasSuffix(e.key, "/") && strings.HasPrefix(normalized, e.key) && (asURL == nil || asURL.Scheme == "http" || asURL.Scheme == "https") {
			if e.address == "" {
				return nil, true, fmt.Errorf("%w: the entry for %q is blocked", errUnresolvable, e.key)
			}
			base, err := parseURL(e.address, nil)
			if err != nil {
				return nil, true, err
			}
			u, err := parseURL(strings.TrimPrefix(normalized, e.key), base)
			if err != nil || !strings.HasPrefix(u.String(), e.address) {
				return nil, true, fmt.Errorf("%w: %q backtracks above %q", errUnresolvable, normalized, e.address)
			}
			return u, true, nil
		}
	}
	return nil, false, nil
}

// urlLikeSpecifier is "resolve a URL-like module specifier": one that
// starts with /, ./ or ../ is resolved against base; any other must be an
// absolute URL; nil when it is neither (a bare specifier).
func urlLikeSpecifier(s string, base *url.URL) *url.URL {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") {
		if u, err := parseURL(s, base); err == nil {
			return u
		}
		return nil
	}
	if u, err := parseURL(s, nil); err == nil {
		return u
	}
	return nil
}

type keyValue struct {
	key   string
	value json.RawMessage
}

// orderedObject decodes a JSON object keeping its members in order (a
// later duplicate key stays later, and wins where it is read into a map).
func orderedObject(b []byte) ([]keyValue, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out []keyValue
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, keyValue{t.(string), v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("text after the JSON object")
	}
	return out, nil
}
