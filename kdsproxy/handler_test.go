package kdsproxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// kdsDocs are the documents of testdata/kds: real AMD certificates by KDS
// path (see its README).
func kdsDocs(t testing.TB) map[string][]byte {
	t.Helper()
	dir := filepath.Join("..", "testdata", "kds")
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index map[string]struct{ File string }
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{}
	for path, d := range index {
		b, err := os.ReadFile(filepath.Join(dir, d.File))
		if err != nil {
			t.Fatal(err)
		}
		docs[path] = b
	}
	return docs
}

// fakeKDS serves docs like AMD KDS, counts requests by path, and can be
// told to answer otherwise.
type fakeKDS struct {
	mu   sync.Mutex
	docs map[string][]byte
	hits map[string]int
	// answer, when set, replaces the normal answer.
	answer func(w http.ResponseWriter, r *http.Request) bool
}

func (f *fakeKDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	path := r.URL.RequestURI()
	f.hits[path]++
	body, ok := f.docs[path]
	answer := f.answer
	f.mu.Unlock()
	if answer != nil && answer(w, r) {
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(body)
}

func (f *fakeKDS) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.hits {
		n += c
	}
	return n
}

func (f *fakeKDS) setAnswer(a func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.answer = a
	f.mu.Unlock()
}

// memCache is Cache in memory; it drops entries at KeepUntil like the
// Workers Cache API drops them at max-age.
type memCache struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]Entry
}

func (c *memCache) Get(_ context.Context, key string) (*Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.now().Before(e.KeepUntil) {
		return nil, nil
	}
	return &e, nil
}

func (c *memCache) Put(_ context.Context, key string, e *Entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = *e
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	kds     *fakeKDS
	clock   *clock
	handler *Handler
}

func newFixture(t testing.TB, mutate func(*Config)) *fixture {
	t.Helper()
	kds := &fakeKDS{docs: kdsDocs(t), hits: map[string]int{}}
	srv := httptest.NewServer(kds)
	t.Cleanup(srv.Close)
	clk := &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	cfg := Config{
		Upstream:       srv.URL,
		AllowedOrigins: []string{"https://app.example"},
		Client:         srv.Client(),
		Cache:          &memCache{now: clk.now, entries: map[string]Entry{}},
		Timeout:        300 * time.Millisecond,
		Now:            clk.now,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{kds: kds, clock: clk, handler: h}
}

func (f *fixture) get(target, origin string) *httptest.ResponseRecorder {
	return f.do(http.MethodGet, target, origin)
}

func (f *fixture) do(method, target, origin string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://proxy.example"+target, nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	if body.Error == "" {
		t.Fatalf("error body %q has no message", rec.Body.String())
	}
	return body.Code
}

const milanVCEK = "/vcek/v1/Milan/" + milanHWID + "?" + milanTCB

func TestInvalidRequestsNeverReachUpstream(t *testing.T) {
	f := newFixture(t, nil)
	for _, target := range []string{
		"/",
		"/vcek/v1/Rome/cert_chain",
		"/vcek/v1/Milan/cert_chain?x=1",
		"/vcek/v1/Milan/" + milanHWID + "?" + milanTCB + "&x=1",
		"/vcek/v1/Milan/" + milanHWID[:120] + "?" + milanTCB,
		"/vcek/v1/Turin/" + milanHWID + "?" + turinTCB,
		"/vcek/v1/Milan/" + milanHWID + "?blSPL=999&teeSPL=0&snpSPL=8&ucodeSPL=115",
		"/vcek/v1/Milan/%2e%2e/cert_chain",
		"/vlek/v1/Milan/" + milanHWID + "?" + milanTCB,
	} {
		rec := f.get(target, "https://app.example")
		if rec.Code != http.StatusBadRequest || errorCode(t, rec) != "bad_request" {
			t.Errorf("GET %s: %d %s, want 400 bad_request", target, rec.Code, rec.Body)
		}
		if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Errorf("GET %s: rejection has no CORS header, the page could not read why", target)
		}
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead} {
		rec := f.do(method, "/vcek/v1/Milan/cert_chain", "")
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, OPTIONS" {
			t.Errorf("%s: %d Allow=%q, want 405 with Allow", method, rec.Code, rec.Header().Get("Allow"))
		}
	}
	if n := f.kds.total(); n != 0 {
		t.Fatalf("upstream was asked %d times for invalid requests, want 0", n)
	}
}

func TestCORS(t *testing.T) {
	f := newFixture(t, nil)
	t.Run("other origin gets no CORS header", func(t *testing.T) {
		rec := f.get("/vcek/v1/Milan/cert_chain", "https://evil.example")
		if v := rec.Header().Get("Access-Control-Allow-Origin"); v != "" {
			t.Fatalf("Access-Control-Allow-Origin = %q for a foreign origin", v)
		}
		if rec.Header().Get("Vary") != "Origin" {
			t.Fatalf("Vary = %q, want Origin", rec.Header().Get("Vary"))
		}
	})
	t.Run("other origin preflight refused", func(t *testing.T) {
		rec := f.do(http.MethodOptions, "/vcek/v1/Milan/cert_chain", "https://evil.example")
		if rec.Code != http.StatusForbidden || rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight from a foreign origin: %d %v", rec.Code, rec.Header())
		}
	})
	t.Run("no origin: no CORS header, still Vary", func(t *testing.T) {
		rec := f.get("/vcek/v1/Milan/cert_chain", "")
		if rec.Header().Get("Access-Control-Allow-Origin") != "" || rec.Header().Get("Vary") != "Origin" {
			t.Fatalf("headers %v", rec.Header())
		}
	})
	t.Run("configured origin", func(t *testing.T) {
		rec := f.get("/vcek/v1/Milan/cert_chain", "https://app.example")
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if v := rec.Header().Get("Access-Control-Allow-Origin"); v != "https://app.example" {
			t.Fatalf("Access-Control-Allow-Origin = %q", v)
		}
		if v := rec.Header().Get("Access-Control-Expose-Headers"); v != "Retry-After, "+CacheStatusHeader {
			t.Fatalf("Access-Control-Expose-Headers = %q", v)
		}
	})
	t.Run("configured origin preflight", func(t *testing.T) {
		rec := f.do(http.MethodOptions, "/vcek/v1/Milan/cert_chain", "https://app.example")
		if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Methods") != "GET, OPTIONS" ||
			rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
		}
	})
	t.Run("any origin", func(t *testing.T) {
		g := newFixture(t, func(c *Config) { c.AllowedOrigins = []string{"*"} })
		rec := g.get("/vcek/v1/Milan/cert_chain", "https://anyone.example")
		if v := rec.Header().Get("Access-Control-Allow-Origin"); v != "*" || rec.Header().Get("Vary") != "" {
			t.Fatalf("Access-Control-Allow-Origin = %q, Vary = %q; want * and no Vary", v, rec.Header().Get("Vary"))
		}
	})
}

func TestSecondRequestServedFromCache(t *testing.T) {
	f := newFixture(t, nil)
	want := f.kds.docs[milanVCEK]
	// The second request spells the same document differently: it must
	// still be one cache entry.
	for i, target := range []string{milanVCEK,
		"/vcek/v1/Milan/" + milanHWID + "?ucodeSPL=115&snpSPL=8&teeSPL=0&blSPL=3"} {
		rec := f.get(target, "https://app.example")
		if rec.Code != http.StatusOK || rec.Body.String() != string(want) {
			t.Fatalf("request %d: %d, %d bytes; want 200 and the VCEK", i, rec.Code, rec.Body.Len())
		}
		wantStatus := []string{"miss", "hit"}[i]
		if got := rec.Header().Get(CacheStatusHeader); got != wantStatus {
			t.Fatalf("request %d: %s = %q, want %q", i, CacheStatusHeader, got, wantStatus)
		}
		if rec.Header().Get("Content-Type") != "application/pkix-cert" {
			t.Fatalf("Content-Type = %q", rec.Header().Get("Content-Type"))
		}
	}
	if n := f.kds.hits[milanVCEK]; n != 1 || f.kds.total() != 1 {
		t.Fatalf("upstream asked %d times (total %d), want once", n, f.kds.total())
	}
}

func TestWithoutCacheEveryRequestGoesUpstream(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Cache = nil })
	for range 2 {
		if rec := f.get("/vcek/v1/Genoa/cert_chain", ""); rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if n := f.kds.total(); n != 2 {
		t.Fatalf("upstream asked %d times, want 2", n)
	}
}

func TestUpstreamRateLimited(t *testing.T) {
	f := newFixture(t, nil)
	f.kds.setAnswer(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	rec := f.get("/vcek/v1/Milan/cert_chain", "https://app.example")
	if rec.Code != http.StatusTooManyRequests || errorCode(t, rec) != "upstream_rate_limited" {
		t.Fatalf("got %d %s, want 429 upstream_rate_limited", rec.Code, rec.Body)
	}
	if v := rec.Header().Get("Retry-After"); v != "7" {
		t.Fatalf("Retry-After = %q, want upstream's 7", v)
	}
	// Within Retry-After the proxy leaves KDS alone, for every document.
	f.clock.advance(3 * time.Second)
	rec = f.get("/vcek/v1/Genoa/crl", "")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "4" {
		t.Fatalf("during backoff: %d Retry-After=%q, want 429 and 4", rec.Code, rec.Header().Get("Retry-After"))
	}
	if n := f.kds.total(); n != 1 {
		t.Fatalf("upstream asked %d times during backoff, want 1", n)
	}
	// After it, KDS is asked again.
	f.clock.advance(5 * time.Second)
	f.kds.setAnswer(nil)
	if rec = f.get("/vcek/v1/Genoa/crl", ""); rec.Code != http.StatusOK {
		t.Fatalf("after backoff: %d %s", rec.Code, rec.Body)
	}
}

func TestUpstreamFailureServesStaleCopy(t *testing.T) {
	f := newFixture(t, nil)
	if rec := f.get("/vcek/v1/Turin/cert_chain", ""); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	f.clock.advance(chainFresh + time.Hour) // past freshness, within grace
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		f.kds.setAnswer(func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(status)
			return true
		})
		rec := f.get("/vcek/v1/Turin/cert_chain", "")
		if rec.Code != http.StatusOK || rec.Header().Get(CacheStatusHeader) != "stale" ||
			rec.Body.String() != string(f.kds.docs["/vcek/v1/Turin/cert_chain"]) {
			t.Fatalf("upstream %d: got %d %s=%q, want the stale copy", status, rec.Code,
				CacheStatusHeader, rec.Header().Get(CacheStatusHeader))
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("stale copy has Cache-Control %q, want no-store", rec.Header().Get("Cache-Control"))
		}
	}
}

func TestUpstreamErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		answer     func(w http.ResponseWriter, r *http.Request) bool
		status     int
		code       string
		retryAfter string
	}{
		{"5xx", func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}, http.StatusBadGateway, "upstream_unavailable", "30"},
		{"503 with Retry-After date", func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Retry-After", time.Date(2026, 11, 23, 12, 2, 0, 0, time.UTC).Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}, http.StatusBadGateway, "upstream_unavailable", "120"},
		{"429 with absurd Retry-After", func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Retry-After", "99999999")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}, http.StatusTooManyRequests, "upstream_rate_limited", "3600"},
		{"429 without Retry-After", func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}, http.StatusTooManyRequests, "upstream_rate_limited", "60"},
		{"404", func(w http.ResponseWriter, r *http.Request) bool {
			http.NotFound(w, r)
			return true
		}, http.StatusNotFound, "not_found", ""},
		{"unexpected 403", func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(http.StatusForbidden)
			return true
		}, http.StatusBadGateway, "upstream_unexpected", "30"},
		{"HTML instead of a VCEK", func(w http.ResponseWriter, r *http.Request) bool {
			w.Write([]byte("<html>maintenance</html>"))
			return true
		}, http.StatusBadGateway, "upstream_malformed", "30"},
		{"truncated VCEK", func(w http.ResponseWriter, r *http.Request) bool {
			w.Write(kdsDocs(t)[milanVCEK][:100])
			return true
		}, http.StatusBadGateway, "upstream_malformed", "30"},
		{"oversized VCEK", func(w http.ResponseWriter, r *http.Request) bool {
			w.Write(make([]byte, maxDocument+1))
			return true
		}, http.StatusBadGateway, "upstream_unreachable", "30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.kds.setAnswer(tc.answer)
			rec := f.get(milanVCEK, "")
			if rec.Code != tc.status || errorCode(t, rec) != tc.code || rec.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("got %d %s Retry-After=%q, want %d %s %q", rec.Code, rec.Body,
					rec.Header().Get("Retry-After"), tc.status, tc.code, tc.retryAfter)
			}
			// Nothing of a failed answer is cached.
			f.kds.setAnswer(nil)
			f.clock.advance(time.Hour)
			if rec := f.get(milanVCEK, ""); rec.Code != http.StatusOK || rec.Header().Get(CacheStatusHeader) != "miss" {
				t.Fatalf("next request: %d %s=%q, want a fresh miss", rec.Code, CacheStatusHeader,
					rec.Header().Get(CacheStatusHeader))
			}
		})
	}
}

func TestUpstreamTimeoutIsBounded(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	f := newFixture(t, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	f.kds.setAnswer(func(w http.ResponseWriter, r *http.Request) bool {
		select { // hang until the test ends or the proxy gives up
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	start := time.Now()
	rec := f.get(milanVCEK, "")
	elapsed := time.Since(start)
	if rec.Code != http.StatusGatewayTimeout || errorCode(t, rec) != "upstream_timeout" || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("got %d %s, want 504 upstream_timeout with Retry-After", rec.Code, rec.Body)
	}
	if elapsed > 2*time.Second {
		t.Fatalf("answered after %v with a 200 ms upstream timeout", elapsed)
	}
}

// ignoringContext is an Upstream that, like the Workers fetch binding,
// does not stop when the request context ends.
type ignoringContext struct{ block chan struct{} }

func (u ignoringContext) Do(*http.Request) (*http.Response, error) {
	<-u.block
	return nil, errors.New("released")
}

func TestTimeoutHoldsWhenTransportIgnoresContext(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	f := newFixture(t, func(c *Config) {
		c.Client = ignoringContext{block}
		c.Timeout = 100 * time.Millisecond
	})
	if rec := f.get("/vcek/v1/Milan/crl", ""); rec.Code != http.StatusGatewayTimeout {
		t.Fatalf("got %d %s, want 504", rec.Code, rec.Body)
	}
}

func testCRL(t *testing.T, next time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CRL issuer"},
		NotBefore: next.Add(-48 * time.Hour), NotAfter: next.Add(48 * time.Hour),
		KeyUsage: x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	issuer, _ := x509.ParseCertificate(der)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: next.Add(-24 * time.Hour), NextUpdate: next,
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(7), RevocationTime: next.Add(-30 * time.Hour)}},
	}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

func TestCRLNextUpdate(t *testing.T) {
	next := time.Date(2027, 3, 4, 5, 6, 7, 0, time.UTC)
	crl := testCRL(t, next)
	for _, tc := range []struct {
		name string
		der  []byte
	}{
		{"empty", nil},
		{"not DER", []byte("-----BEGIN X509 CRL-----")},
		{"truncated", crl[:len(crl)/2]},
		{"trailing data", append(append([]byte{}, crl...), 0)},
		{"a certificate", kdsDocs(t)[milanVCEK]},
	} {
		if got, err := crlNextUpdate(tc.der); !errors.Is(err, errMalformedCRL) {
			t.Errorf("%s: got %v, %v; want errMalformedCRL", tc.name, got, err)
		}
	}
	got, err := crlNextUpdate(crl)
	if err != nil || !got.Equal(next) {
		t.Fatalf("got %v, %v; want %v", got, err, next)
	}
	// The synthetic CRLs of testdata/kds say 2046-01-01.
	got, err = crlNextUpdate(kdsDocs(t)["/vcek/v1/Milan/crl"])
	if err != nil || !got.Equal(time.Date(2046, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("testdata CRL: %v, %v", got, err)
	}
}

func TestCRLCachedUntilNextUpdate(t *testing.T) {
	f := newFixture(t, nil)
	crl := testCRL(t, f.clock.now().Add(10*time.Minute))
	f.kds.docs["/vcek/v1/Genoa/crl"] = crl
	rec := f.get("/vcek/v1/Genoa/crl", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "public, max-age=600" ||
		rec.Header().Get("Content-Type") != "application/pkix-crl" {
		t.Fatalf("got %d %v", rec.Code, rec.Header())
	}
	f.clock.advance(9 * time.Minute)
	if rec := f.get("/vcek/v1/Genoa/crl", ""); rec.Header().Get(CacheStatusHeader) != "hit" ||
		rec.Header().Get("Cache-Control") != "public, max-age=60" {
		t.Fatalf("before nextUpdate: %v", rec.Header())
	}
	f.clock.advance(2 * time.Minute)
	if rec := f.get("/vcek/v1/Genoa/crl", ""); rec.Header().Get(CacheStatusHeader) != "miss" {
		t.Fatalf("after nextUpdate: %s = %q, want miss", CacheStatusHeader, rec.Header().Get(CacheStatusHeader))
	}
	if n := f.kds.hits["/vcek/v1/Genoa/crl"]; n != 2 {
		t.Fatalf("upstream asked %d times, want 2", n)
	}
}

func TestMalformedCRLNotCached(t *testing.T) {
	f := newFixture(t, nil)
	f.kds.docs["/vcek/v1/Genoa/crl"] = f.kds.docs[milanVCEK] // a certificate is not a CRL
	rec := f.get("/vcek/v1/Genoa/crl", "")
	if rec.Code != http.StatusBadGateway || errorCode(t, rec) != "upstream_malformed" {
		t.Fatalf("got %d %s", rec.Code, rec.Body)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	client := http.DefaultClient
	for _, cfg := range []Config{
		{},
		{Client: client, Upstream: "kdsintf.amd.com"},
		{Client: client, Upstream: "ftp://kdsintf.amd.com"},
		{Client: client, Upstream: "https://kdsintf.amd.com/vcek"},
		{Client: client, Upstream: "https://kdsintf.amd.com?x=1"},
		{Client: client, Upstream: "https://user@kdsintf.amd.com"},
		{Client: client, AllowedOrigins: []string{"app.example"}},
		{Client: client, AllowedOrigins: []string{"https://app.example/"}},
		{Client: client, AllowedOrigins: []string{"https://app.example/path"}},
		{Client: client, Timeout: -time.Second},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	h, err := New(Config{Client: client})
	if err != nil || h.upstream != DefaultUpstream || h.timeout != DefaultTimeout {
		t.Fatalf("defaults: %+v, %v", h, err)
	}
}

func TestConfigFromVars(t *testing.T) {
	vars := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	for _, bad := range []string{"0", "-5", "abc", "60001", "1.5"} {
		if _, err := ConfigFromVars(vars(map[string]string{"UPSTREAM_TIMEOUT_MS": bad})); err == nil {
			t.Errorf("UPSTREAM_TIMEOUT_MS=%q accepted", bad)
		}
	}
	cfg, err := ConfigFromVars(vars(map[string]string{
		"UPSTREAM":            " http://127.0.0.1:9 ",
		"ALLOWED_ORIGINS":     "https://a.example, http://127.0.0.1:8443,,",
		"UPSTREAM_TIMEOUT_MS": "800",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Upstream != "http://127.0.0.1:9" || cfg.Timeout != 800*time.Millisecond ||
		len(cfg.AllowedOrigins) != 2 || cfg.AllowedOrigins[1] != "http://127.0.0.1:8443" {
		t.Fatalf("got %+v", cfg)
	}
	empty, err := ConfigFromVars(vars(nil))
	if err != nil || empty.Upstream != "" || empty.AllowedOrigins != nil || empty.Timeout != 0 {
		t.Fatalf("unset vars: %+v, %v", empty, err)
	}
}

func TestIsDERSequence(t *testing.T) {
	vcek := kdsDocs(t)[milanVCEK]
	for _, tc := range []struct {
		b    []byte
		want bool
	}{
		{nil, false},
		{[]byte{0x30}, false},
		{[]byte{0x30, 0x00}, true},
		{[]byte{0x31, 0x00}, false},
		{[]byte{0x30, 0x01}, false},
		{[]byte{0x30, 0x80, 0x00, 0x00}, false}, // indefinite length is not DER
		{[]byte{0x30, 0x84, 0, 0, 0, 0}, false},
		{vcek, true},
		{vcek[:len(vcek)-1], false},
		{append(append([]byte{}, vcek...), 0), false},
	} {
		if got := isDERSequence(tc.b); got != tc.want {
			t.Errorf("isDERSequence(% x…) = %v, want %v", tc.b[:min(len(tc.b), 4)], got, tc.want)
		}
	}
}

func BenchmarkServeCached(b *testing.B) {
	f := newFixture(b, nil)
	f.get(milanVCEK, "https://app.example")
	b.ReportAllocs()
	for b.Loop() {
		rec := f.get(milanVCEK, "https://app.example")
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

func BenchmarkParseDocument(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDocument("/vcek/v1/Milan/"+milanHWID, milanTCB); err != nil {
			b.Fatal(err)
		}
	}
}

