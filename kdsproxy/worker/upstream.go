//go:build js && wasm

package main

import (
	"net/http"

	"github.com/syumai/workers/cloudflare/fetch"
)

// workerFetch is kdsproxy.Upstream on the Workers fetch binding. KDS does
// not redirect: a redirect is not followed but comes back as a 3xx, which
// the handler answers as an unexpected upstream status.
type workerFetch struct{ c *fetch.Client }

func (f workerFetch) Do(req *http.Request) (*http.Response, error) {
	return f.c.Do(&fetch.Request{Request: req}, &fetch.RequestInit{Redirect: fetch.RedirectModeManual})
}
