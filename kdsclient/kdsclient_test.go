package kdsclient_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/kdsclient"
	"github.com/cvmtrust/cvmtrust/kdsproxy"
	"github.com/cvmtrust/cvmtrust/verifier"
)

var _ verifier.Fetcher = (*kdsclient.Client)(nil)

const chainPath = "/vcek/v1/Milan/cert_chain"

func newClient(t *testing.T, url string, timeout time.Duration) *kdsclient.Client {
	t.Helper()
	c, err := kdsclient.New(url, kdsclient.Options{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fetchErr(t *testing.T, c *kdsclient.Client, path string) *kdsclient.Error {
	t.Helper()
	body, err := c.Fetch(context.Background(), path)
	var e *kdsclient.Error
	if !errors.As(err, &e) {
		t.Fatalf("Fetch(%q) = %d bytes, %v; want a *kdsclient.Error", path, len(body), err)
	}
	if body != nil {
		t.Fatalf("Fetch(%q) returned a body with an error", path)
	}
	return e
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	for _, base := range []string{"", "127.0.0.1:8787", "ftp://kds.example", "https://kds.example?x=1",
		"https://kds.example#x", "https://user:pw@kds.example"} {
		if _, err := kdsclient.New(base, kdsclient.Options{}); err == nil {
			t.Errorf("New(%q) accepted", base)
		}
	}
	if _, err := kdsclient.New("https://kds.example", kdsclient.Options{Timeout: -1}); err == nil {
		t.Error("negative timeout accepted")
	}
}

func TestInvalidPathNeverSent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := newClient(t, srv.URL, time.Second)
	for _, p := range []string{"", "vcek/v1/Milan/cert_chain", "/vcek/v1/Rome/cert_chain", "/vcek/v1/Milan/crl?x=1",
		"/vcek/v1/Milan/abcd?blSPL=1&teeSPL=0&snpSPL=1&ucodeSPL=1", "/../etc/passwd"} {
		e := fetchErr(t, c, p)
		if !errors.Is(e, kdsclient.ErrRejected) || !errors.Is(e, kdsproxy.ErrInvalidRequest) || e.Status != 0 {
			t.Errorf("%q: %v, want ErrRejected wrapping kdsproxy.ErrInvalidRequest", p, e)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d invalid requests reached the server", n)
	}
}

func TestProxyDownFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing listens there any more
	c := newClient(t, url, 5*time.Second)
	start := time.Now()
	e := fetchErr(t, c, chainPath)
	if !errors.Is(e, kdsclient.ErrUnavailable) || e.Status != 0 {
		t.Fatalf("got %v, want ErrUnavailable with no status", e)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("refused connection took %v", d)
	}
}

func TestHangingProxyBoundedByTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newClient(t, srv.URL, 150*time.Millisecond)
	start := time.Now()
	e := fetchErr(t, c, chainPath)
	if !errors.Is(e, kdsclient.ErrUnavailable) || !strings.Contains(e.Error(), "no answer within 150ms") {
		t.Fatalf("got %v, want ErrUnavailable naming the timeout", e)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout of 150ms took %v", d)
	}
}

func TestStatuses(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		body       string
		kind       error
		code       string
		wantRetry  time.Duration
	}{
		{429, "17", `{"error":"AMD KDS rate-limited this proxy","code":"upstream_rate_limited"}`,
			kdsclient.ErrRateLimited, "upstream_rate_limited", 17 * time.Second},
		{404, "", `{"error":"AMD KDS has no such document","code":"not_found"}`, kdsclient.ErrNotFound, "not_found", 0},
		{502, "30", `{"error":"AMD KDS answered 500","code":"upstream_unavailable"}`,
			kdsclient.ErrUnavailable, "upstream_unavailable", 30 * time.Second},
		{504, "30", "", kdsclient.ErrUnavailable, "", 30 * time.Second},
		{503, "Wed, 21 Oct 2015 07:28:00 GMT", "<html>", kdsclient.ErrUnavailable, "", 0},
		{400, "", `{"error":"bad","code":"bad_request"}`, kdsclient.ErrRejected, "bad_request", 0},
		{403, "", "", kdsclient.ErrRejected, "", 0},
		{302, "", "", kdsclient.ErrBadResponse, "", 0},
		{204, "", "", kdsclient.ErrBadResponse, "", 0},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				if tc.status == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			e := fetchErr(t, newClient(t, srv.URL, time.Second), chainPath)
			if !errors.Is(e, tc.kind) || e.Status != tc.status || e.Code != tc.code || e.RetryAfter != tc.wantRetry {
				t.Fatalf("got %#v (%v), want kind %v code %q retry %v", e, e, tc.kind, tc.code, tc.wantRetry)
			}
		})
	}
}

func TestOversizedBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 1<<20+1))
	}))
	defer srv.Close()
	if e := fetchErr(t, newClient(t, srv.URL, 2*time.Second), chainPath); !errors.Is(e, kdsclient.ErrBadResponse) {
		t.Fatalf("got %v, want ErrBadResponse", e)
	}
}

// TestThroughProxy runs the client against the real proxy handler in front
// of a KDS that serves the Milan chain of testdata/kds.
func TestThroughProxy(t *testing.T) {
	chain, err := os.ReadFile(filepath.Join("..", "testdata", "kds", "vcek", "Milan", "cert_chain.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var kdsHits atomic.Int32
	kds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kdsHits.Add(1)
		if r.URL.RequestURI() != chainPath {
			http.NotFound(w, r)
			return
		}
		w.Write(chain)
	}))
	defer kds.Close()
	h, err := kdsproxy.New(kdsproxy.Config{Upstream: kds.URL, Client: kds.Client()})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(h)
	defer proxy.Close()
	c := newClient(t, proxy.URL+"/", time.Second)
	got, err := c.Fetch(context.Background(), chainPath)
	if err != nil || string(got) != string(chain) {
		t.Fatalf("Fetch: %d bytes, %v", len(got), err)
	}
	e := fetchErr(t, c, "/vcek/v1/Genoa/cert_chain")
	if !errors.Is(e, kdsclient.ErrNotFound) || e.Code != "not_found" {
		t.Fatalf("got %v, want ErrNotFound from the proxy", e)
	}
	if n := kdsHits.Load(); n != 2 {
		t.Fatalf("KDS asked %d times, want 2", n)
	}
}

func ExampleClient_Fetch() {
	// A proxy that is down: the CLI's --kds URL points nowhere.
	c, _ := kdsclient.New("http://127.0.0.1:1", kdsclient.Options{Timeout: time.Second})
	_, err := c.Fetch(context.Background(), "/vcek/v1/Milan/crl")
	fmt.Println(errors.Is(err, kdsclient.ErrUnavailable))
	// Output: true
}
