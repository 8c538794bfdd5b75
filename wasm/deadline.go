//go:build js && wasm

package main

import (
	"context"
	"sync"
	"time"
)

// callContext is the context of one call into the verifier: done when its
// time is up (Err is context.DeadlineExceeded), when it is cancelled (Err is
// context.Canceled), or when its parent is (Err is the parent's).
//
// It replaces context.WithTimeout and context.WithCancelCause, measured:
// WithTimeout's deadline context carries a time.Time (5 KB more brotli), and
// the cancelCtx behind both, with its parent propagation, 21 KB of code
// (about 4 KB brotli). Nothing here reads Deadline, and a call's parent is
// either context.Background or another callContext.
type callContext struct {
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	err   error
	hooks []func() // run once done, by whenDone
}

func (c *callContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *callContext) Done() <-chan struct{}       { return c.done }
func (c *callContext) Value(any) any               { return nil }

func (c *callContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *callContext) cancel(err error) {
	c.once.Do(func() {
		c.mu.Lock()
		c.err = err
		hooks := c.hooks
		c.hooks = nil
		c.mu.Unlock()
		close(c.done)
		for _, f := range hooks {
			f()
		}
	})
}

// whenDone runs f once c is done, however it ends (at once if it has), like
// context.AfterFunc without a way to take it back. f runs in the goroutine
// that ends c and must not block.
func (c *callContext) whenDone(f func()) {
	c.mu.Lock()
	if c.err == nil {
		c.hooks = append(c.hooks, f)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	f()
}

// withTimeout bounds parent to d, like context.WithTimeout.
func withTimeout(parent context.Context, d time.Duration) (*callContext, context.CancelFunc) {
	c := &callContext{done: make(chan struct{})}
	if err := parent.Err(); err != nil {
		c.cancel(err)
		return c, func() {}
	}
	timer := time.AfterFunc(d, func() { c.cancel(context.DeadlineExceeded) })
	if pd := parent.Done(); pd != nil {
		go func() {
			select {
			case <-pd:
				c.cancel(parent.Err())
			case <-c.done:
			}
		}()
	}
	return c, func() {
		timer.Stop()
		c.cancel(context.Canceled)
	}
}
