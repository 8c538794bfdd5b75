//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/cvmtrust/cvmtrust/kdsproxy"
	"github.com/syumai/workers/cloudflare/cache"
)

// freshUntilHeader carries Entry.FreshUntil (Unix seconds) inside the
// cached response; the Cache API itself drops the response at KeepUntil,
// through its max-age.
const freshUntilHeader = "Kds-Proxy-Fresh-Until"

// workerCache is kdsproxy.Cache on the Workers Cache API (caches.default).
type workerCache struct{ c *cache.Cache }

func (wc workerCache) Get(ctx context.Context, key string) (*kdsproxy.Entry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, key, nil)
	if err != nil {
		return nil, err
	}
	res, err := wc.c.Match(req, nil)
	if errors.Is(err, cache.ErrCacheNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	fresh, err := strconv.ParseInt(res.Header.Get(freshUntilHeader), 10, 64)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &kdsproxy.Entry{
		Body:        body,
		ContentType: res.Header.Get("Content-Type"),
		FreshUntil:  time.Unix(fresh, 0),
	}, nil
}

func (wc workerCache) Put(ctx context.Context, key string, e *kdsproxy.Entry) error {
	keep := int64(time.Until(e.KeepUntil) / time.Second)
	if keep <= 0 {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, key, nil)
	if err != nil {
		return err
	}
	header := http.Header{}
	header.Set("Content-Type", e.ContentType)
	header.Set("Cache-Control", "public, max-age="+strconv.FormatInt(keep, 10))
	header.Set(freshUntilHeader, strconv.FormatInt(e.FreshUntil.Unix(), 10))
	return wc.c.Put(req, &http.Response{
		StatusCode:    http.StatusOK,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(e.Body)),
		ContentLength: int64(len(e.Body)),
	})
}
