// Package kdsproxy is an HTTP handler that relays AMD Key Distribution
// Service (KDS) documents — VCEK certificates, cert_chain and CRLs — to
// browsers. AMD KDS sends no CORS headers and rate-limits hard, so a web
// page cannot fetch from it directly; this handler adds CORS for configured
// origins, caches what it fetched, validates every request against the few
// paths KDS serves, and answers fast when KDS is slow or refuses.
//
// # Trust
//
// The proxy is not trusted. Everything it serves is checked by the verifier
// against the pinned AMD roots; a proxy that serves a wrong certificate
// makes verification fail, never pass. The checks here only keep garbage
// out of the cache and the upstream out of reach of arbitrary requests.
//
// # Running
//
// The handler is plain net/http and is tested natively. The Cloudflare
// Worker in ./worker wires it to the Workers fetch and Cache APIs through
// github.com/syumai/workers; see README.md for running it in workerd.
package kdsproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultUpstream is AMD's Key Distribution Service.
const DefaultUpstream = "https://kdsintf.amd.com"

// DefaultTimeout bounds one upstream exchange, body included. AMD KDS
// usually answers within a second; past this the client gets 504 and may
// retry, rather than hanging.
const DefaultTimeout = 3 * time.Second

// Cache lifetimes. A VCEK is bound to one chip and one TCB and never
// changes; cert_chain changes only when AMD reissues an ASK. A CRL is fresh
// until its nextUpdate. Past freshness an entry is kept for staleGrace and
// served only when KDS cannot answer, marked stale (the verifier judges a
// CRL's nextUpdate itself).
const (
	vcekFresh  = 365 * 24 * time.Hour
	chainFresh = 7 * 24 * time.Hour
	crlMinimum = time.Minute
	crlMaximum = 7 * 24 * time.Hour
	staleGrace = 30 * 24 * time.Hour
)

// maxDocument caps what is read from upstream. KDS documents are a few KB;
// AMD's CRLs are well under this.
const maxDocument = 1 << 20

// Retry-After defaults when upstream gives none usable.
const (
	retryAfterRateLimited = 60 * time.Second
	retryAfterUnavailable = 30 * time.Second
	maxRetryAfter         = time.Hour
)

// CacheStatusHeader says where a document came from: "hit" (cache, fresh),
// "miss" (fetched from upstream just now) or "stale" (cache, past its
// freshness, because upstream could not answer).
const CacheStatusHeader = "KDS-Proxy-Cache"

// Entry is one cached document or, for the rate-limit marker, an empty body.
type Entry struct {
	Body        []byte
	ContentType string
	// FreshUntil is when the entry stops being served without asking
	// upstream first.
	FreshUntil time.Time
	// KeepUntil is when the cache may drop the entry; at or after FreshUntil.
	KeepUntil time.Time
}

// Cache stores entries by an absolute URL key. Get returns (nil, nil) on a
// miss. Implementations may drop entries at any time; errors are treated as
// misses, never as failures of the request.
type Cache interface {
	Get(ctx context.Context, key string) (*Entry, error)
	Put(ctx context.Context, key string, e *Entry) error
}

// Upstream sends one request to KDS. *http.Client is one; the Worker uses
// the Workers fetch binding directly, which keeps net/http's client
// transport (TLS, HTTP/2) out of the Worker's wasm.
type Upstream interface {
	Do(req *http.Request) (*http.Response, error)
}

// Config sets up a Handler. Only Client is required; the rest defaults to
// AMD KDS, no CORS origin, no cache and DefaultTimeout.
type Config struct {
	// Upstream is the KDS base URL, "https://kdsintf.amd.com" when empty.
	Upstream string
	// AllowedOrigins are the exact origins (scheme://host[:port]) that get
	// CORS headers; "*" allows any origin.
	AllowedOrigins []string
	// Client reaches upstream; required. It need not honour the request
	// context: the handler stops waiting at the timeout regardless.
	Client Upstream
	// Cache keeps documents between requests; nil disables caching.
	Cache Cache
	// Timeout bounds one upstream exchange; DefaultTimeout when zero.
	Timeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Handler serves KDS documents; create it with New.
type Handler struct {
	upstream string
	origins  []string
	anyOrig  bool
	client   Upstream
	cache    Cache
	timeout  time.Duration
	now      func() time.Time
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	h := &Handler{
		upstream: cfg.Upstream,
		client:   cfg.Client,
		cache:    cfg.Cache,
		timeout:  cfg.Timeout,
		now:      cfg.Now,
	}
	if h.upstream == "" {
		h.upstream = DefaultUpstream
	}
	u, err := url.Parse(h.upstream)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("kdsproxy: upstream %q must be an http(s) origin such as %s", cfg.Upstream, DefaultUpstream)
	}
	h.upstream = u.Scheme + "://" + u.Host
	for _, o := range cfg.AllowedOrigins {
		if o == "*" {
			h.anyOrig = true
			continue
		}
		ou, err := url.Parse(o)
		if err != nil || (ou.Scheme != "https" && ou.Scheme != "http") || ou.Host == "" || o != ou.Scheme+"://"+ou.Host {
			return nil, fmt.Errorf("kdsproxy: allowed origin %q must be scheme://host[:port] or *", o)
		}
		h.origins = append(h.origins, o)
	}
	if h.timeout < 0 {
		return nil, fmt.Errorf("kdsproxy: negative timeout %v", h.timeout)
	}
	if h.timeout == 0 {
		h.timeout = DefaultTimeout
	}
	if h.client == nil {
		return nil, errors.New("kdsproxy: Config.Client is required")
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// ConfigFromVars reads the Worker's variables (see wrangler.jsonc):
// UPSTREAM, ALLOWED_ORIGINS (comma-separated) and UPSTREAM_TIMEOUT_MS.
// Unset variables keep the Config defaults.
func ConfigFromVars(get func(name string) string) (Config, error) {
	var cfg Config
	cfg.Upstream = strings.TrimSpace(get("UPSTREAM"))
	for _, o := range strings.Split(get("ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, o)
		}
	}
	if ms := strings.TrimSpace(get("UPSTREAM_TIMEOUT_MS")); ms != "" {
		n, err := strconv.Atoi(ms)
		if err != nil || n <= 0 || n > 60000 {
			return Config{}, fmt.Errorf("kdsproxy: UPSTREAM_TIMEOUT_MS %q must be 1..60000", ms)
		}
		cfg.Timeout = time.Duration(n) * time.Millisecond
	}
	return cfg, nil
}

// ServeHTTP answers OPTIONS preflights and GETs of KDS documents.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	allowed := h.originAllowed(origin)
	if !h.anyOrig {
		// The CORS headers depend on Origin; browser caches must know.
		w.Header().Set("Vary", "Origin")
	}
	if allowed {
		w.Header().Set("Access-Control-Allow-Origin", h.allowOriginValue(origin))
		w.Header().Set("Access-Control-Expose-Headers", "Retry-After, "+CacheStatusHeader)
	}
	switch r.Method {
	case http.MethodOptions:
		if !allowed {
			writeError(w, http.StatusForbidden, "origin_not_allowed", "origin not allowed by this proxy", 0)
			return
		}
		w.Header().Set("Access-Control-Allow-Methods", "GET, OPTIONS")
		w.Header().Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodGet:
	default:
		w.Header().Set("Allow", "GET, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "only GET and OPTIONS", 0)
		return
	}
	doc, err := ParseDocument(r.URL.EscapedPath(), r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error(), 0)
		return
	}
	h.serveDocument(r.Context(), w, cacheOrigin(r), doc)
}

func (h *Handler) originAllowed(origin string) bool {
	if origin == "" {
		return false
	}
	return h.anyOrig || slices.Contains(h.origins, origin)
}

func (h *Handler) allowOriginValue(origin string) string {
	if h.anyOrig {
		return "*"
	}
	return origin
}

// cacheOrigin is the origin of cache keys. The Workers Cache API keys by
// URL of the Worker's own zone, so the key is the request's host with the
// canonical KDS path: the client's own spelling never reaches the key.
func cacheOrigin(r *http.Request) string {
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	return "https://" + host
}

const backoffPath = "/_kdsproxy/upstream-backoff"

func (h *Handler) serveDocument(ctx context.Context, w http.ResponseWriter, origin string, doc Document) {
	key := origin + doc.Path
	now := h.now()
	cached := h.cacheGet(ctx, key)
	if cached != nil && now.Before(cached.FreshUntil) {
		writeDocument(w, cached, "hit", now)
		return
	}
	// After a 429 the proxy leaves upstream alone until Retry-After passes,
	// so that one busy page does not keep the whole proxy rate-limited.
	if b := h.cacheGet(ctx, origin+backoffPath); b != nil && now.Before(b.FreshUntil) {
		if cached != nil {
			writeDocument(w, cached, "stale", now)
			return
		}
		writeError(w, http.StatusTooManyRequests, "upstream_rate_limited",
			"AMD KDS rate-limited this proxy; not asking again before Retry-After", b.FreshUntil.Sub(now))
		return
	}
	res := h.fetch(ctx, doc.Path)
	now = h.now()
	var (
		status int
		code   string
		msg    string
		retry  time.Duration
	)
	switch {
	case res.err != nil && errors.Is(res.err, context.DeadlineExceeded):
		status, code, retry = http.StatusGatewayTimeout, "upstream_timeout", retryAfterUnavailable
		msg = fmt.Sprintf("AMD KDS did not answer within %v", h.timeout)
	case res.err != nil:
		status, code, retry = http.StatusBadGateway, "upstream_unreachable", retryAfterUnavailable
		msg = "AMD KDS could not be reached: " + res.err.Error()
	case res.status == http.StatusOK:
		e, err := h.newEntry(doc, res.body, now)
		if err != nil {
			status, code, retry = http.StatusBadGateway, "upstream_malformed", retryAfterUnavailable
			msg = err.Error()
			break
		}
		// A failed put only costs a later upstream request.
		_ = h.cachePut(ctx, key, e)
		writeDocument(w, e, "miss", now)
		return
	case res.status == http.StatusNotFound:
		writeError(w, http.StatusNotFound, "not_found", "AMD KDS has no such document", 0)
		return
	case res.status == http.StatusTooManyRequests:
		status, code = http.StatusTooManyRequests, "upstream_rate_limited"
		retry = parseRetryAfter(res.retryAfter, now, retryAfterRateLimited)
		msg = "AMD KDS rate-limited this proxy"
		_ = h.cachePut(ctx, origin+backoffPath, &Entry{FreshUntil: now.Add(retry), KeepUntil: now.Add(retry)})
	case res.status >= 500:
		status, code = http.StatusBadGateway, "upstream_unavailable"
		retry = parseRetryAfter(res.retryAfter, now, retryAfterUnavailable)
		msg = fmt.Sprintf("AMD KDS answered %d", res.status)
	default:
		status, code, retry = http.StatusBadGateway, "upstream_unexpected", retryAfterUnavailable
		msg = fmt.Sprintf("AMD KDS answered %d", res.status)
	}
	if cached != nil {
		writeDocument(w, cached, "stale", now)
		return
	}
	writeError(w, status, code, msg, retry)
}

func (h *Handler) cacheGet(ctx context.Context, key string) *Entry {
	if h.cache == nil {
		return nil
	}
	e, err := h.cache.Get(ctx, key)
	if err != nil {
		return nil
	}
	return e
}

func (h *Handler) cachePut(ctx context.Context, key string, e *Entry) error {
	if h.cache == nil {
		return nil
	}
	return h.cache.Put(ctx, key, e)
}

type upstreamResult struct {
	status     int
	retryAfter string
	body       []byte
	err        error
}

// fetch gets path from upstream within the timeout. The exchange runs in
// its own goroutine so that a transport that ignores the context (the
// Workers fetch binding does) cannot hold the answer back.
func (h *Handler) fetch(ctx context.Context, path string) upstreamResult {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	done := make(chan upstreamResult, 1)
	go func() {
		done <- h.exchange(ctx, path)
	}()
	select {
	case res := <-done:
		return res
	case <-ctx.Done():
		return upstreamResult{err: ctx.Err()}
	}
}

func (h *Handler) exchange(ctx context.Context, path string) upstreamResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.upstream+path, nil)
	if err != nil {
		return upstreamResult{err: err}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return upstreamResult{err: err}
	}
	defer resp.Body.Close()
	res := upstreamResult{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode != http.StatusOK {
		return res
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return upstreamResult{err: err}
	}
	if len(body) > maxDocument {
		return upstreamResult{err: fmt.Errorf("kdsproxy: upstream document larger than %d bytes", maxDocument)}
	}
	res.body = body
	return res
}

// newEntry checks that body looks like the document asked for and decides
// how long it may be cached. It is no verification: it only keeps an
// upstream error page or a truncated body out of the cache.
func (h *Handler) newEntry(doc Document, body []byte, now time.Time) (*Entry, error) {
	e := &Entry{Body: body}
	switch doc.Kind {
	case KindVCEK:
		if !isDERSequence(body) {
			return nil, errors.New("AMD KDS answered a VCEK that is not DER")
		}
		e.ContentType = "application/pkix-cert"
		e.FreshUntil = now.Add(vcekFresh)
	case KindChain:
		if !bytes.Contains(body, []byte("-----BEGIN CERTIFICATE-----")) {
			return nil, errors.New("AMD KDS answered a cert_chain with no PEM certificate")
		}
		e.ContentType = "application/x-pem-file"
		e.FreshUntil = now.Add(chainFresh)
	case KindCRL:
		next, err := crlNextUpdate(body)
		if err != nil {
			return nil, errors.New("AMD KDS answered a CRL that is not DER with a nextUpdate")
		}
		ttl := min(max(next.Sub(now), crlMinimum), crlMaximum)
		e.ContentType = "application/pkix-crl"
		e.FreshUntil = now.Add(ttl)
	default:
		return nil, fmt.Errorf("kdsproxy: unknown document kind %v", doc.Kind)
	}
	e.KeepUntil = e.FreshUntil.Add(staleGrace)
	return e, nil
}

// isDERSequence reports whether b is exactly one DER SEQUENCE (definite
// length, nothing after it).
func isDERSequence(b []byte) bool {
	if len(b) < 2 || b[0] != 0x30 {
		return false
	}
	n, hdr := int(b[1]), 2
	if n&0x80 != 0 {
		octets := n & 0x7f
		if octets == 0 || octets > 3 || len(b) < 2+octets {
			return false
		}
		n = 0
		for _, c := range b[2 : 2+octets] {
			n = n<<8 | int(c)
		}
		hdr += octets
	}
	return len(b) == hdr+n
}

func writeDocument(w http.ResponseWriter, e *Entry, status string, now time.Time) {
	h := w.Header()
	h.Set("Content-Type", e.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(e.Body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(CacheStatusHeader, status)
	// Browsers may keep a fresh document as long as the proxy would; a
	// stale one is not to be kept at all.
	if ttl := e.FreshUntil.Sub(now); status != "stale" && ttl > 0 {
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(ttl/time.Second)))
	} else {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(http.StatusOK)
	w.Write(e.Body)
}

// errorBody is the JSON of every error answer; it has the shape of the
// gateway's protocol.ErrorBody, which the proxy does not import to keep the
// HPKE code out of the Worker.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func writeError(w http.ResponseWriter, status int, code, msg string, retryAfter time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
	}
	body, _ := json.Marshal(errorBody{Error: msg, Code: code})
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// parseRetryAfter reads a Retry-After of delay-seconds or an HTTP date,
// clamped to 1 s .. 1 h; def when absent or unreadable.
func parseRetryAfter(v string, now time.Time, def time.Duration) time.Duration {
	v = strings.TrimSpace(v)
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return def
	}
	return min(max(d, time.Second), maxRetryAfter)
}
