//go:build js && wasm

package main

import (
	"net/http"

	"github.com/syumai/workers/cloudflare/fetch"
)

// workerFetch is kdsproxy.Upstream on the Workers fetch binding. KDS does
// not redirect; a redirect fails the request rather than being followed.
type workerFetch struct{ c *fetch.Client }

func (f workerFetch) Do(req *http.Request) (*http.Response, error) {
	return f.c.Do(&fetch.Request{Request: req}, &fetch.RequestInit{Redirect: fetch.RedirectModeError})
}
