//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/hack-pad/safejs"
)

// asyncExport wraps fn as a JavaScript function that returns a Promise at
// once and runs fn in a goroutine: a Go function called from JavaScript must
// not block the event loop, and fn awaits WebCrypto Promises itself. A panic
// in fn becomes a rejected Error instead of killing the wasm instance.
func asyncExport(name string, fn func(args []safejs.Value) (any, error)) func(this safejs.Value, args []safejs.Value) any {
	return func(_ safejs.Value, args []safejs.Value) any {
		// Copy the arguments: the slice belongs to the caller's frame.
		args = append([]safejs.Value(nil), args...)
		p, err := newPromise(func(resolve, reject safejs.Value) {
			go func() {
				defer func() {
					if r := recover(); r != nil {
						// The stack goes to the console for the developer; the
						// page gets a short message. Neither holds argument values.
						consoleError(fmt.Sprintf("cvmtrust.%s: internal error: %v\n%s", name, r, debug.Stack()))
						_, _ = reject.Invoke(newError(fmt.Sprintf("cvmtrust.%s: internal error: %v", name, r)))
					}
				}()
				v, err := fn(args)
				if err != nil {
					_, _ = reject.Invoke(newError(fmt.Sprintf("cvmtrust.%s: %v", name, err)))
					return
				}
				_, _ = resolve.Invoke(v)
			}()
		})
		if err != nil {
			return newError(fmt.Sprintf("cvmtrust.%s: %v", name, err))
		}
		return p
	}
}

// newPromise returns new Promise(executor) where executor hands resolve and
// reject to start. The executor function is released once the Promise
// constructor has called it.
func newPromise(start func(resolve, reject safejs.Value)) (safejs.Value, error) {
	promise, err := safejs.Global().Get("Promise")
	if err != nil {
		return safejs.Value{}, err
	}
	executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		start(args[0], args[1])
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer executor.Release()
	return promise.New(executor.Value())
}

// await blocks the calling goroutine (never the event loop) until the
// JavaScript Promise p settles.
func await(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	type settled struct {
		v   safejs.Value
		err error
	}
	done := make(chan settled, 1)
	var onFulfilled, onRejected safejs.Func
	release := func() {
		onFulfilled.Release()
		onRejected.Release()
	}
	var err error
	onFulfilled, err = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		done <- settled{v: argOrUndefined(args, 0)}
		release()
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	onRejected, err = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		done <- settled{err: jsError(argOrUndefined(args, 0))}
		release()
		return nil
	})
	if err != nil {
		onFulfilled.Release()
		return safejs.Value{}, err
	}
	if _, err := p.Call("then", onFulfilled.Value(), onRejected.Value()); err != nil {
		release()
		return safejs.Value{}, err
	}
	select {
	case s := <-done:
		return s.v, s.err
	case <-ctx.Done():
		// The callbacks stay registered until the Promise settles and then
		// release themselves.
		return safejs.Value{}, context.Cause(ctx)
	}
}

func argOrUndefined(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}

// jsError turns a rejection reason into a Go error carrying its message.
func jsError(reason safejs.Value) error {
	if reason.Type() == safejs.TypeObject {
		if name, err := reason.Get("name"); err == nil && name.Type() == safejs.TypeString {
			n, _ := name.String()
			msg := ""
			if m, err := reason.Get("message"); err == nil && m.Type() == safejs.TypeString {
				msg, _ = m.String()
			}
			return fmt.Errorf("%s: %s", n, msg)
		}
	}
	return errors.New("promise rejected")
}

// newError returns a JavaScript Error with message msg. If even that fails,
// the message string is returned: a rejection must carry something.
func newError(msg string) any {
	ctor, err := safejs.Global().Get("Error")
	if err != nil {
		return msg
	}
	e, err := ctor.New(msg)
	if err != nil {
		return msg
	}
	return e
}
