//go:build js && wasm

// Package jsval is the browser build's boundary over syscall/js: the same
// JavaScript values, with every operation that can throw or panic returning
// an error instead.
//
// syscall/js panics when JavaScript throws (a getter, a constructor, a
// rejected argument) and when a value is not what an operation needs (Get
// on undefined, Int on a string). In a wasm instance a panic that reaches
// the event loop kills the Go runtime for the page's lifetime: the verifier
// would answer nothing until the page is reloaded. Every call here runs under
// a recover that turns such a panic into an error, and every Go function
// handed to JavaScript (FuncOf) recovers its own panics and returns a
// JavaScript Error instead.
//
// It replaces github.com/hack-pad/safejs, whose API it follows for the calls
// this package's users make: safejs formats errors with fmt (and its stack
// traces with runtime/debug), which links fmt, reflect and os into the
// browser build: see ../../README.md for what that cost.
package jsval

import (
	"errors"
	"syscall/js"
)

// Value is a JavaScript value. Its zero value is undefined.
type Value struct{ v js.Value }

// Type is a JavaScript type (typeof, with null apart).
type Type = js.Type

// The JavaScript types.
const (
	TypeUndefined = js.TypeUndefined
	TypeNull      = js.TypeNull
	TypeBoolean   = js.TypeBoolean
	TypeNumber    = js.TypeNumber
	TypeString    = js.TypeString
	TypeSymbol    = js.TypeSymbol
	TypeObject    = js.TypeObject
	TypeFunction  = js.TypeFunction
)

// Global returns globalThis.
func Global() Value { return Value{js.Global()} }

// Undefined returns undefined.
func Undefined() Value { return Value{js.Undefined()} }

// Null returns null.
func Null() Value { return Value{js.Null()} }

// Recovered turns a recovered panic value into an error. A JavaScript
// exception (js.Error) keeps syscall/js's message, "JavaScript error: " and
// the thrown Error's message, read without calling into anything that may
// throw again.
func Recovered(r any) error {
	switch r := r.(type) {
	case nil:
		return nil
	case js.Error:
		return errors.New("JavaScript error: " + describe(r.Value))
	case js.Value:
		return errors.New("JavaScript error: " + describe(r))
	case error:
		return r
	case string:
		return errors.New(r)
	}
	return errors.New("panic with a value that is neither an error nor a string")
}

// describe returns the message of a thrown value: an Error's message, a
// thrown string itself, or syscall/js's <type: value> form of anything else.
func describe(v js.Value) (s string) {
	defer func() {
		if recover() != nil {
			s = "(the thrown value cannot be read)"
		}
	}()
	if v.Type() == js.TypeObject {
		if m := v.Get("message"); m.Type() == js.TypeString {
			return m.String()
		}
	}
	return v.String()
}

// try runs fn and returns a panic in it as an error.
func try(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Recovered(r)
		}
	}()
	fn()
	return nil
}

// toJS replaces this package's Values and Funcs with syscall/js's, inside
// maps and slices too, for js.ValueOf.
func toJS(x any) any {
	switch x := x.(type) {
	case Value:
		return x.v
	case Func:
		return x.f.Value
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, v := range x {
			out[k] = toJS(v)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = toJS(v)
		}
		return out
	}
	return x
}

func toJSAll(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = toJS(a)
	}
	return out
}

// ValueOf converts x as js.ValueOf does (nil, bool, numbers, strings,
// []any, map[string]any, Values and Funcs); any other type is an error.
func ValueOf(x any) (Value, error) {
	var out Value
	err := try(func() { out = Value{js.ValueOf(toJS(x))} })
	return out, err
}

// Type returns v's type; it cannot fail.
func (v Value) Type() Type { return v.v.Type() }

// IsUndefined reports whether v is undefined.
func (v Value) IsUndefined() bool { return v.v.IsUndefined() }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.v.IsNull() }

// Property reads and writes go through Reflect.get and Reflect.set called
// as functions: syscall/js catches what a called function throws and turns
// it into a panic this package recovers, but a throwing getter or setter
// reached through js.Value.Get or Set (or a Proxy's trap) throws straight
// through the wasm instance and stops the Go program.
var reflectGet, reflectSet = func() (js.Value, js.Value) {
	r := js.Global().Get("Reflect")
	return r.Get("get"), r.Get("set")
}()

// hasOwn is Object.hasOwn, taken when the program starts.
var hasOwn = js.Global().Get("Object").Get("hasOwn")

// Get returns v[p]. A throwing getter is an error; so is a v that is not an
// object (Reflect.get throws a TypeError for undefined, null, numbers…).
func (v Value) Get(p string) (Value, error) {
	var out Value
	err := try(func() {
		if t := v.v.Type(); t != js.TypeObject && t != js.TypeFunction {
			// Strings and other primitives have properties too (length),
			// but nothing here reads them; js.Value.Get panics on them
			// without calling into JavaScript.
			out = Value{v.v.Get(p)}
			return
		}
		out = Value{reflectGet.Invoke(v.v, p)}
	})
	return out, err
}

// Own returns v[p] when p is v's own property and undefined otherwise: what
// a page's data says, never what Object.prototype (or another prototype)
// adds. Read the page's arguments with it; platform objects (a Response, a
// stream's chunk) keep their properties on prototypes and are read with Get.
func (v Value) Own(p string) (Value, error) {
	return v.own(p)
}

// OwnIndex is Own for an array's element i: a hole reads as undefined, not
// as whatever Array.prototype or Object.prototype has at i.
func (v Value) OwnIndex(i int) (Value, error) {
	return v.own(i)
}

func (v Value) own(p any) (Value, error) {
	if t := v.v.Type(); t != js.TypeObject && t != js.TypeFunction {
		return Value{}, errors.New("own property of a " + t.String() + ", not of an object")
	}
	out := Undefined()
	err := try(func() {
		if hasOwn.Invoke(v.v, p).Truthy() {
			out = Value{reflectGet.Invoke(v.v, p)}
		}
	})
	return out, err
}

// Set sets v[p] = ValueOf(x). A throwing setter is an error.
func (v Value) Set(p string, x any) error {
	x = toJS(x)
	return try(func() {
		if t := v.v.Type(); t != js.TypeObject && t != js.TypeFunction {
			v.v.Set(p, x) // panics: not an object
			return
		}
		reflectSet.Invoke(v.v, p, x)
	})
}

// Index returns v[i]. A throwing getter is an error.
func (v Value) Index(i int) (Value, error) {
	var out Value
	err := try(func() {
		if t := v.v.Type(); t != js.TypeObject && t != js.TypeFunction {
			out = Value{v.v.Index(i)} // panics: not an object
			return
		}
		out = Value{reflectGet.Invoke(v.v, i)}
	})
	return out, err
}

// Length returns v.length, a number.
func (v Value) Length() (int, error) {
	n, err := v.Get("length")
	if err != nil {
		return 0, err
	}
	return n.Int()
}

// Call calls v's method m with args.
func (v Value) Call(m string, args ...any) (Value, error) {
	args = toJSAll(args)
	var out Value
	err := try(func() { out = Value{v.v.Call(m, args...)} })
	return out, err
}

// Invoke calls v, a function, with args.
func (v Value) Invoke(args ...any) (Value, error) {
	args = toJSAll(args)
	var out Value
	err := try(func() { out = Value{v.v.Invoke(args...)} })
	return out, err
}

// New calls v as a constructor with args.
func (v Value) New(args ...any) (Value, error) {
	args = toJSAll(args)
	var out Value
	err := try(func() { out = Value{v.v.New(args...)} })
	return out, err
}

// InstanceOf reports whether v instanceof t; a t that is not a constructor
// is an error rather than a TypeError thrown. syscall/js does not catch a
// throwing Symbol.hasInstance: call it only with the page's built-in
// constructors (Uint8Array), as this module does.
func (v Value) InstanceOf(t Value) (bool, error) {
	if t.Type() != TypeFunction {
		return false, errors.New("instanceof: the right-hand side is not a constructor")
	}
	var out bool
	err := try(func() { out = v.v.InstanceOf(t.v) })
	return out, err
}

// String returns a string's value, or syscall/js's <type: value> form of
// anything else.
func (v Value) String() (string, error) {
	var out string
	err := try(func() { out = v.v.String() })
	return out, err
}

// Int returns a number truncated to an int; anything else is an error.
func (v Value) Int() (int, error) {
	var out int
	err := try(func() { out = v.v.Int() })
	return out, err
}

// Float returns a number; anything else is an error.
func (v Value) Float() (float64, error) {
	var out float64
	err := try(func() { out = v.v.Float() })
	return out, err
}

// Bool returns a boolean; anything else is an error.
func (v Value) Bool() (bool, error) {
	var out bool
	err := try(func() { out = v.v.Bool() })
	return out, err
}

// Truthy returns JavaScript's truthiness of v.
func (v Value) Truthy() (bool, error) {
	var out bool
	err := try(func() { out = v.v.Truthy() })
	return out, err
}

// CopyBytesToGo copies from src, a Uint8Array or Uint8ClampedArray, into dst.
func CopyBytesToGo(dst []byte, src Value) (int, error) {
	var n int
	err := try(func() { n = js.CopyBytesToGo(dst, src.v) })
	return n, err
}

// CopyBytesToJS copies src into dst, a Uint8Array or Uint8ClampedArray.
func CopyBytesToJS(dst Value, src []byte) (int, error) {
	var n int
	err := try(func() { n = js.CopyBytesToJS(dst.v, src) })
	return n, err
}

// Func is a Go function JavaScript can call. Release it when JavaScript no
// longer will.
type Func struct{ f js.Func }

// FuncOf wraps fn for JavaScript. A panic in fn does not reach the event
// loop: it is reported on the console and the call returns a JavaScript
// Error carrying its message.
func FuncOf(fn func(this Value, args []Value) any) (Func, error) {
	wrapped := func(this js.Value, args []js.Value) (out any) {
		defer func() {
			if r := recover(); r != nil {
				msg := "cvmtrust: internal error: " + Recovered(r).Error()
				_ = try(func() { js.Global().Get("console").Call("error", msg) })
				out = nil
				_ = try(func() { out = js.Global().Get("Error").New(msg) })
			}
		}()
		vals := make([]Value, len(args))
		for i, a := range args {
			vals[i] = Value{a}
		}
		return toJS(fn(Value{this}, vals))
	}
	var f Func
	err := try(func() { f = Func{js.FuncOf(wrapped)} })
	return f, err
}

// Value returns the JavaScript function.
func (f Func) Value() Value { return Value{f.f.Value} }

// Release frees the function; JavaScript must not call it afterwards.
func (f Func) Release() { f.f.Release() }
