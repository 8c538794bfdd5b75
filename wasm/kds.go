//go:build js && wasm

package main

import (
	"context"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/verifier"
	"github.com/cvmtrust/cvmtrust/wasm/internal/jsval"
)

// maxKDSDocument bounds what is read from a KDS proxy: AMD's largest
// document, a CRL, is far smaller. The answer is read as a stream and the
// read stops (the stream is cancelled) as soon as it passes the bound.
const maxKDSDocument = 1 << 20

// kdsTimeout bounds one request to the KDS proxy, answer included: a proxy
// that stalls must not hold a verification for the whole call's time.
const kdsTimeout = 10 * time.Second

// kdsFetcher implements verifier.Fetcher with the page's fetch() against a
// KDS proxy (see kdsproxy/): AMD KDS itself sends no CORS headers. The proxy
// is not trusted; the verifier checks whatever it serves against the pinned
// roots.
type kdsFetcher struct {
	base string // absolute URL without a trailing slash
}

var _ verifier.Fetcher = kdsFetcher{}

// Fetch implements verifier.Fetcher. path is a KDS path such as
// "/vcek/v1/Milan/cert_chain". The request is aborted when ctx ends or
// kdsTimeout passes, whichever is first.
func (k kdsFetcher) Fetch(ctx context.Context, path string) ([]byte, error) {
	call, cancel := withTimeout(ctx, kdsTimeout)
	defer cancel()
	abort, err := jsval.Global().Get("AbortController")
	if err != nil {
		return nil, err
	}
	controller, err := abort.New()
	if err != nil {
		return nil, err
	}
	signal, err := controller.Get("signal")
	if err != nil {
		return nil, err
	}
	// The request (and any body read in flight) is aborted once the call
	// ends, however it ends: on time-out, and on return too, so that the
	// connection closes even after an answer was refused part-way (an engine
	// may go on reading a body whose reader was cancelled; WebKitGTK did).
	// Aborting a request that completed does nothing.
	call.whenDone(func() { _, _ = controller.Call("abort") })

	b, err := k.fetch(call, path, signal)
	if err != nil && call.Err() != nil {
		return nil, errfmt.Errorf("KDS proxy did not answer %s within %s", path, kdsTimeout)
	}
	return b, err
}

func (k kdsFetcher) fetch(ctx context.Context, path string, signal jsval.Value) ([]byte, error) {
	fetch, err := jsval.Global().Get("fetch")
	if err != nil {
		return nil, err
	}
	object, err := jsval.Global().Get("Object")
	if err != nil {
		return nil, err
	}
	// A null-prototype init: fetch reads its members through the prototype
	// chain, and what Object.prototype has must not become a method, a mode
	// or a body.
	init, err := object.Call("create", nil)
	if err != nil {
		return nil, err
	}
	if err := init.Set("signal", signal); err != nil {
		return nil, err
	}
	p, err := fetch.Invoke(k.base+path, init)
	if err != nil {
		return nil, err
	}
	res, err := await(ctx, p)
	if err != nil {
		return nil, errfmt.Errorf("KDS proxy unreachable: %w", err)
	}
	if ok, err := res.Get("ok"); err != nil || !truthy(ok) {
		status, _ := res.Get("status")
		n, _ := status.Int()
		return nil, errfmt.Errorf("KDS proxy answered HTTP %d for %s", n, path)
	}
	body, err := res.Get("body")
	if err != nil || !truthy(body) {
		return nil, errfmt.Errorf("KDS proxy sent no body for %s", path)
	}
	reader, err := body.Call("getReader")
	if err != nil {
		return nil, err
	}
	var out []byte
	for {
		p, err := reader.Call("read")
		if err != nil {
			return nil, err
		}
		chunk, err := await(ctx, p)
		if err != nil {
			return nil, errfmt.Errorf("KDS proxy: %w", err)
		}
		if done, err := chunk.Get("done"); err != nil || truthy(done) {
			return out, err
		}
		value, err := chunk.Get("value")
		if err != nil {
			return nil, err
		}
		n, err := value.Length()
		if err != nil {
			return nil, err
		}
		if len(out)+n > maxKDSDocument {
			_, _ = reader.Call("cancel")
			return nil, errfmt.Errorf("KDS proxy sent more than %d bytes for %s, more than any KDS document", maxKDSDocument, path)
		}
		part := make([]byte, n)
		if _, err := jsval.CopyBytesToGo(part, value); err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
}

func newKDSFetcher(base string) (verifier.Fetcher, error) {
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") {
		return nil, errfmt.Errorf("expectation.kdsProxy must be an absolute http(s) URL, got %q", base)
	}
	return kdsFetcher{base: strings.TrimRight(base, "/")}, nil
}
