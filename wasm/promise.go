//go:build js && wasm

package main

import (
	"context"
	"errors"
	"runtime"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/wasm/internal/jsval"
)

// asyncExport wraps fn as a JavaScript function that returns a Promise at
// once and runs fn in a goroutine: a Go function called from JavaScript must
// not block the event loop, and fn awaits WebCrypto Promises itself. A panic
// in fn becomes a rejected Error instead of killing the wasm instance.
func asyncExport(name string, fn func(args []jsval.Value) (any, error)) func(this jsval.Value, args []jsval.Value) any {
	return func(_ jsval.Value, args []jsval.Value) any {
		// Copy the arguments: the slice belongs to the caller's frame.
		args = append([]jsval.Value(nil), args...)
		p, err := newPromise(func(resolve, reject jsval.Value) {
			go func() {
				defer func() {
					if r := recover(); r != nil {
						// The stack goes to the console for the developer; the
						// page gets a short message. Neither holds argument values.
						// runtime.Stack, not runtime/debug, which links fmt and os.
						perr := jsval.Recovered(r)
						stack := make([]byte, 16<<10)
						stack = stack[:runtime.Stack(stack, false)]
						consoleError(errfmt.Sprintf("cvmtrust.%s: internal error: %v\n%s", name, perr, stack))
						_, _ = reject.Invoke(newError(errfmt.Sprintf("cvmtrust.%s: internal error: %v", name, perr)))
					}
				}()
				v, err := fn(args)
				if err != nil {
					_, _ = reject.Invoke(newError(errfmt.Sprintf("cvmtrust.%s: %v", name, err)))
					return
				}
				_, _ = resolve.Invoke(v)
			}()
		})
		if err != nil {
			return newError(errfmt.Sprintf("cvmtrust.%s: %v", name, err))
		}
		return p
	}
}

// newPromise returns new Promise(executor) where executor hands resolve and
// reject to start. The executor function is released once the Promise
// constructor has called it.
func newPromise(start func(resolve, reject jsval.Value)) (jsval.Value, error) {
	promise, err := jsval.Global().Get("Promise")
	if err != nil {
		return jsval.Value{}, err
	}
	executor, err := jsval.FuncOf(func(_ jsval.Value, args []jsval.Value) any {
		start(args[0], args[1])
		return nil
	})
	if err != nil {
		return jsval.Value{}, err
	}
	defer executor.Release()
	return promise.New(executor.Value())
}

// await blocks the calling goroutine (never the event loop) until the
// JavaScript Promise p settles.
func await(ctx context.Context, p jsval.Value) (jsval.Value, error) {
	type settled struct {
		v   jsval.Value
		err error
	}
	done := make(chan settled, 1)
	var onFulfilled, onRejected jsval.Func
	release := func() {
		onFulfilled.Release()
		onRejected.Release()
	}
	var err error
	onFulfilled, err = jsval.FuncOf(func(_ jsval.Value, args []jsval.Value) any {
		done <- settled{v: argOrUndefined(args, 0)}
		release()
		return nil
	})
	if err != nil {
		return jsval.Value{}, err
	}
	onRejected, err = jsval.FuncOf(func(_ jsval.Value, args []jsval.Value) any {
		done <- settled{err: jsError(argOrUndefined(args, 0))}
		release()
		return nil
	})
	if err != nil {
		onFulfilled.Release()
		return jsval.Value{}, err
	}
	if _, err := p.Call("then", onFulfilled.Value(), onRejected.Value()); err != nil {
		release()
		return jsval.Value{}, err
	}
	select {
	case s := <-done:
		return s.v, s.err
	case <-ctx.Done():
		// The callbacks stay registered until the Promise settles and then
		// release themselves.
		return jsval.Value{}, ctx.Err()
	}
}

func argOrUndefined(args []jsval.Value, i int) jsval.Value {
	if i < len(args) {
		return args[i]
	}
	return jsval.Undefined()
}

// jsError turns a rejection reason into a Go error carrying its message.
func jsError(reason jsval.Value) error {
	if reason.Type() == jsval.TypeObject {
		if name, err := reason.Get("name"); err == nil && name.Type() == jsval.TypeString {
			n, _ := name.String()
			msg := ""
			if m, err := reason.Get("message"); err == nil && m.Type() == jsval.TypeString {
				msg, _ = m.String()
			}
			return errfmt.Errorf("%s: %s", n, msg)
		}
	}
	return errors.New("promise rejected")
}

// newError returns a JavaScript Error with message msg. If even that fails,
// the message string is returned: a rejection must carry something.
func newError(msg string) any {
	ctor, err := jsval.Global().Get("Error")
	if err != nil {
		return msg
	}
	e, err := ctor.New(msg)
	if err != nil {
		return msg
	}
	return e
}
