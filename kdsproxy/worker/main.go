//go:build js && wasm

// Command worker is the KDS proxy as a Cloudflare Worker: kdsproxy.Handler
// on the Workers fetch and Cache APIs. Build and run it as README.md says.
package main

import (
	"net/http"

	"github.com/cvmtrust/cvmtrust/kdsproxy"
	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"
	"github.com/syumai/workers/cloudflare/cache"
	"github.com/syumai/workers/cloudflare/fetch"
)

// main registers the handler and stays alive: worker.mjs keeps started Go
// programs and reuses each for one request at a time.
func main() {
	workers.ServeNonBlock(newHandler())
	workers.Ready()
	select {}
}

// newHandler reads the Worker's variables. A bad configuration answers
// every request with 500 and the reason, so a deploy mistake is visible.
func newHandler() http.Handler {
	cfg, err := kdsproxy.ConfigFromVars(cloudflare.Getenv)
	if err == nil {
		cfg.Client = workerFetch{fetch.NewClient()}
		cfg.Cache = workerCache{cache.New()}
		var h *kdsproxy.Handler
		if h, err = kdsproxy.New(cfg); err == nil {
			return h
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "kdsproxy misconfigured: "+err.Error(), http.StatusInternalServerError)
	})
}
