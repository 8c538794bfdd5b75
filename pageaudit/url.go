package pageaudit

import (
	"errors"
	"net/url"
	"strings"
)

// parseURL parses raw against base (nil: raw must be absolute) the way the
// URL Standard does where it matters to an audit: leading and trailing C0
// controls and spaces are trimmed, tabs and newlines removed anywhere, a
// backslash is a slash in http(s) URLs, dot segments are resolved, and the
// scheme and host are lowercased with the default port dropped. Go's parser
// does none of these, and a browser does all.
func parseURL(raw string, base *url.URL) (*url.URL, error) {
	s := cleanURLString(raw)
	scheme, _, ok := strings.Cut(s, ":")
	if !ok || !validScheme(scheme) {
		scheme = ""
		if base != nil {
			scheme = base.Scheme
		}
	}
	if scheme = strings.ToLower(scheme); scheme == "http" || scheme == "https" {
		s = strings.ReplaceAll(s, `\`, "/")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if base == nil {
		if !u.IsAbs() {
			return nil, errors.New("not an absolute URL")
		}
		base = &url.URL{}
	}
	u = base.ResolveReference(u) // and so resolves dot segments
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if h, port, ok := strings.Cut(u.Host, ":"); ok && (u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443") {
		u.Host = h
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Path == "" {
		u.Path, u.RawPath = "/", ""
	}
	return u, nil
}

func validScheme(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// cleanURLString trims leading and trailing C0 controls and spaces and
// removes every tab and newline, as the URL parser does first.
func cleanURLString(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= 0x20 })
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
}

// isJavaScriptURL reports whether a browser parses s as a javascript: URL
// (which runs as code when followed or loaded).
func isJavaScriptURL(s string) bool {
	scheme, _, ok := strings.Cut(cleanURLString(s), ":")
	return ok && strings.EqualFold(scheme, "javascript")
}

// withoutFragment is u's serialization without its fragment: the file it names.
func withoutFragment(u *url.URL) string {
	c := *u
	c.Fragment, c.RawFragment = "", ""
	return c.String()
}

// originOf is u's scheme://host, or "" when u is not a URL.
func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}
