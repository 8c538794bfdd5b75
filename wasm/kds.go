//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/hack-pad/safejs"

	"github.com/cvmtrust/cvmtrust/verifier"
)

// maxKDSDocument bounds what is read from a KDS proxy: AMD's largest
// document, a CRL, is far smaller.
const maxKDSDocument = 1 << 20

// kdsFetcher implements verifier.Fetcher with the page's fetch() against a
// KDS proxy (see kdsproxy/): AMD KDS itself sends no CORS headers. The proxy
// is not trusted; the verifier checks whatever it serves against the pinned
// roots.
type kdsFetcher struct {
	base string // absolute URL without a trailing slash
}

var _ verifier.Fetcher = kdsFetcher{}

// Fetch implements verifier.Fetcher. path is a KDS path such as
// "/vcek/v1/Milan/cert_chain".
func (k kdsFetcher) Fetch(ctx context.Context, path string) ([]byte, error) {
	url := k.base + path
	fetch, err := safejs.Global().Get("fetch")
	if err != nil {
		return nil, err
	}
	p, err := fetch.Invoke(url)
	if err != nil {
		return nil, err
	}
	res, err := await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("KDS proxy unreachable: %w", err)
	}
	if ok, err := res.Get("ok"); err != nil || !truthy(ok) {
		status, _ := res.Get("status")
		n, _ := status.Int()
		return nil, fmt.Errorf("KDS proxy answered HTTP %d for %s", n, path)
	}
	p, err = res.Call("arrayBuffer")
	if err != nil {
		return nil, err
	}
	buf, err := await(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("KDS proxy: %w", err)
	}
	u8, err := safejs.Global().Get("Uint8Array")
	if err != nil {
		return nil, err
	}
	arr, err := u8.New(buf)
	if err != nil {
		return nil, err
	}
	n, err := arr.Length()
	if err != nil {
		return nil, err
	}
	if n > maxKDSDocument {
		return nil, fmt.Errorf("KDS proxy sent %d bytes for %s, more than any KDS document", n, path)
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, arr); err != nil {
		return nil, err
	}
	return b, nil
}

func newKDSFetcher(base string) (verifier.Fetcher, error) {
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") {
		return nil, fmt.Errorf("expectation.kdsProxy must be an absolute http(s) URL, got %q", base)
	}
	return kdsFetcher{base: strings.TrimRight(base, "/")}, nil
}
