// Package kdsclient fetches AMD Key Distribution Service documents — VCEK
// certificates, cert_chain and CRLs — over HTTP, from the KDS proxy of
// ../kdsproxy or from AMD KDS itself. A *Client is a verifier.Fetcher.
//
// It fails fast: a proxy that is down, slow or rate-limited gives a typed
// error within the timeout, so that the verifier can report "revocation not
// checked" (or fail, if revocation is required) instead of hanging. Match
// errors with errors.Is (ErrUnavailable, ErrRateLimited, ErrNotFound,
// ErrRejected, ErrBadResponse) and read details with errors.As(*Error).
//
// What it returns is not trusted: the verifier checks every certificate and
// CRL against the pinned AMD roots.
package kdsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/kdsproxy"
)

// DefaultTimeout bounds one Fetch, body included. It is longer than the
// proxy's own upstream timeout (3 s) so that a slow KDS shows up as the
// proxy's 504 rather than as a client timeout.
const DefaultTimeout = 5 * time.Second

// maxDocument caps a response body; KDS documents are a few KB.
const maxDocument = 1 << 20

// Error kinds, for errors.Is.
var (
	// ErrUnavailable: no answer (connection refused, timeout) or a 5xx.
	ErrUnavailable = errors.New("KDS unavailable")
	// ErrRateLimited: 429; Error.RetryAfter says when to try again.
	ErrRateLimited = errors.New("KDS rate-limited the request")
	// ErrNotFound: 404; KDS has no such document (e.g. unknown chip or TCB).
	ErrNotFound = errors.New("KDS has no such document")
	// ErrRejected: the path is not a KDS document, or the server said 4xx.
	ErrRejected = errors.New("KDS request rejected")
	// ErrBadResponse: an unexpected status or an oversized body.
	ErrBadResponse = errors.New("unexpected answer from KDS")
)

// Error is what Fetch returns on failure.
type Error struct {
	// Path is the KDS path asked for.
	Path string
	// Status is the HTTP status, 0 when there was no HTTP answer.
	Status int
	// Code is the proxy's error code (kdsproxy error JSON), if any.
	Code string
	// RetryAfter is the server's Retry-After, 0 when absent.
	RetryAfter time.Duration
	// Kind is one of the Err* values above.
	Kind error
	// Err is the underlying cause, if any (a network error, the proxy's
	// message).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kdsclient: %s: %v", e.Path, e.Kind)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %v", e.RetryAfter)
	}
	return b.String()
}

// Unwrap makes errors.Is match Kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Options tunes a Client; the zero value is fine.
type Options struct {
	// Timeout bounds one Fetch; DefaultTimeout when zero.
	Timeout time.Duration
	// HTTPClient sends the requests; a client that follows no redirects
	// when nil.
	HTTPClient *http.Client
}

// Client fetches KDS documents from one base URL.
type Client struct {
	base    string
	timeout time.Duration
	http    *http.Client
}

// New returns a Client for baseURL, the proxy's (or KDS's) http(s) URL; a
// path prefix is kept, e.g. "https://example.com/kds".
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("kdsclient: base URL %q must be http(s)://host[:port][/path]", baseURL)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("kdsclient: negative timeout %v", opts.Timeout)
	}
	c := &Client{
		base:    strings.TrimSuffix(u.String(), "/"),
		timeout: opts.Timeout,
		http:    opts.HTTPClient,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.http == nil {
		c.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // KDS does not redirect
		}}
	}
	return c, nil
}

// Fetch gets the document at a KDS path such as "/vcek/v1/Milan/cert_chain"
// or "/vcek/v1/Milan/{hwid}?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..". The
// path is validated as the proxy validates it before anything is sent.
func (c *Client) Fetch(ctx context.Context, path string) ([]byte, error) {
	p, q, _ := strings.Cut(path, "?")
	doc, err := kdsproxy.ParseDocument(p, q)
	if err != nil {
		return nil, &Error{Path: path, Kind: ErrRejected, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+doc.Path, nil)
	if err != nil {
		return nil, &Error{Path: doc.Path, Kind: ErrRejected, Err: err}
	}
	res, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v", c.timeout)
		}
		return nil, &Error{Path: doc.Path, Kind: ErrUnavailable, Err: err}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxDocument+1))
	if err != nil {
		return nil, &Error{Path: doc.Path, Status: res.StatusCode, Kind: ErrUnavailable, Err: err}
	}
	if res.StatusCode == http.StatusOK {
		if len(body) > maxDocument {
			return nil, &Error{Path: doc.Path, Status: res.StatusCode, Kind: ErrBadResponse,
				Err: fmt.Errorf("body larger than %d bytes", maxDocument)}
		}
		return body, nil
	}
	e := &Error{Path: doc.Path, Status: res.StatusCode, RetryAfter: retryAfter(res.Header.Get("Retry-After"))}
	switch {
	case res.StatusCode == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
	case res.StatusCode == http.StatusNotFound:
		e.Kind = ErrNotFound
	case res.StatusCode >= 500:
		e.Kind = ErrUnavailable
	case res.StatusCode >= 400:
		e.Kind = ErrRejected
	default:
		e.Kind = ErrBadResponse
	}
	// The proxy explains itself in JSON {"error", "code"}; KDS does not.
	var pe struct{ Error, Code string }
	if json.Unmarshal(body, &pe) == nil && pe.Error != "" {
		e.Code = pe.Code
		e.Err = errors.New(pe.Error)
	}
	return nil, e
}

// retryAfter reads delay-seconds; anything else (an HTTP date, garbage) is
// left to the caller's own policy as 0.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(min(n, 86400)) * time.Second
}
