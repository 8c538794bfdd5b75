//go:build js && wasm

package jsval

import (
	"strings"
	"testing"
)

// These run under Node: GOOS=js GOARCH=wasm go test -exec="$(go env
// GOROOT)/lib/wasm/go_js_wasm_exec" ./wasm/internal/jsval. Each provokes a
// panic in syscall/js and wants an error instead; the test binary surviving
// to the next case is part of what is checked.

func eval(t *testing.T, src string) Value {
	t.Helper()
	fn, err := Global().Get("Function")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fn.New(src)
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Invoke()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestThrownErrorsBecomeErrors(t *testing.T) {
	thrower := eval(t, `return { boom() { throw new TypeError("boom") }, str() { throw "plain string" }, get x() { throw new Error("getter") } }`)
	if _, err := thrower.Call("boom"); err == nil || err.Error() != "JavaScript error: boom" {
		t.Errorf("Call of a throwing method: err = %v, want JavaScript error: boom", err)
	}
	if _, err := thrower.Call("str"); err == nil || !strings.Contains(err.Error(), "plain string") {
		t.Errorf("a thrown string: err = %v", err)
	}
	if _, err := thrower.Get("x"); err == nil || err.Error() != "JavaScript error: getter" {
		t.Errorf("a throwing getter: err = %v", err)
	}
	setter := eval(t, `return { set y(v) { throw new Error("setter") } }`)
	if err := setter.Set("y", 1); err == nil || err.Error() != "JavaScript error: setter" {
		t.Errorf("a throwing setter: err = %v", err)
	}
	proxy := eval(t, `return new Proxy([], { get() { throw new Error("trap") } })`)
	if _, err := proxy.Index(0); err == nil || err.Error() != "JavaScript error: trap" {
		t.Errorf("a throwing Proxy trap: err = %v", err)
	}
	if _, err := proxy.Length(); err == nil {
		t.Error("length through a throwing Proxy trap gave no error")
	}
	if _, err := thrower.Call("missing"); err == nil {
		t.Error("calling a missing method gave no error")
	}
	ctor := eval(t, `return class { constructor() { throw new RangeError("no") } }`)
	if _, err := ctor.New(); err == nil || err.Error() != "JavaScript error: no" {
		t.Errorf("a throwing constructor: err = %v", err)
	}
}

func TestWrongTypesBecomeErrors(t *testing.T) {
	if _, err := Undefined().Get("x"); err == nil {
		t.Error("Get on undefined gave no error")
	}
	if _, err := Null().Index(0); err == nil {
		t.Error("Index on null gave no error")
	}
	s, _ := ValueOf("text")
	if _, err := s.Int(); err == nil {
		t.Error("Int of a string gave no error")
	}
	if _, err := s.Float(); err == nil {
		t.Error("Float of a string gave no error")
	}
	if _, err := s.Bool(); err == nil {
		t.Error("Bool of a string gave no error")
	}
	if _, err := Undefined().Invoke(); err == nil {
		t.Error("Invoke of undefined gave no error")
	}
	if ok, err := s.InstanceOf(s); err == nil || ok {
		t.Errorf("instanceof a string: %v, %v; want an error", ok, err)
	}
	if _, err := ValueOf(struct{}{}); err == nil {
		t.Error("ValueOf of a struct gave no error")
	}
	if _, err := CopyBytesToGo(make([]byte, 1), s); err == nil {
		t.Error("CopyBytesToGo from a string gave no error")
	}
	if err := Undefined().Set("x", 1); err == nil {
		t.Error("Set on undefined gave no error")
	}
}

func TestValuesNestInMapsAndSlices(t *testing.T) {
	inner, _ := ValueOf("inner")
	v, err := ValueOf(map[string]any{"a": []any{inner, 2}, "b": inner})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := v.Get("a")
	first, _ := a.Index(0)
	if s, _ := first.String(); s != "inner" {
		t.Errorf("nested Value came out as %q", s)
	}
}

// TestFuncPanicsDoNotEscape: a Go callback that panics returns an Error to
// its JavaScript caller, and Go keeps running.
func TestFuncPanicsDoNotEscape(t *testing.T) {
	f, err := FuncOf(func(Value, []Value) any { panic("callback failed") })
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	got, err := f.Value().Invoke()
	if err != nil {
		t.Fatalf("calling the panicking function: %v", err)
	}
	errCtor, _ := Global().Get("Error")
	if ok, _ := got.InstanceOf(errCtor); !ok {
		t.Fatalf("the panicking function returned %v, want an Error", got.Type())
	}
	msg, _ := got.Get("message")
	if s, _ := msg.String(); !strings.Contains(s, "callback failed") {
		t.Errorf("Error message %q does not say what failed", s)
	}
	var nilMap map[string]int
	g, _ := FuncOf(func(Value, []Value) any { nilMap["x"] = 1; return nil })
	defer g.Release()
	if _, err := g.Value().Invoke(); err != nil {
		t.Fatalf("a runtime panic in a callback: %v", err)
	}
	ok, _ := FuncOf(func(_ Value, args []Value) any { return args[0] })
	defer ok.Release()
	back, err := ok.Value().Invoke("echo")
	if s, _ := back.String(); err != nil || s != "echo" {
		t.Errorf("a working callback returned %q, %v", s, err)
	}
}

func TestRecovered(t *testing.T) {
	if Recovered(nil) != nil {
		t.Error("Recovered(nil) is not nil")
	}
	if err := Recovered("text"); err == nil || err.Error() != "text" {
		t.Errorf("Recovered(string) = %v", err)
	}
	if err := Recovered(42); err == nil {
		t.Error("Recovered(42) is nil")
	}
}

// Own and OwnIndex read a page's data, never what a prototype adds: a
// property set on Object.prototype, a getter inherited from a class, an
// array's hole filled in by Array.prototype.
func TestOwnIgnoresPrototypes(t *testing.T) {
	v := eval(t, `
		const proto = { inherited: "from the prototype", get trap() { throw new Error("an inherited getter ran") } };
		const o = Object.create(proto);
		o.own = "mine";
		const holes = [, "second"];
		Array.prototype[0] = "from Array.prototype";
		return { o, holes };`)
	defer eval(t, `delete Array.prototype[0]`)
	o, err := v.Own("o")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := o.Own("own"); err != nil || got.Type() != TypeString {
		t.Errorf("own property: %v, %v", got.Type(), err)
	}
	for _, p := range []string{"inherited", "trap", "toString", "constructor"} {
		got, err := o.Own(p)
		if err != nil || !got.IsUndefined() {
			t.Errorf("inherited %q: %v, %v, want undefined and no error", p, got.Type(), err)
		}
	}
	holes, _ := v.Own("holes")
	if got, err := holes.OwnIndex(0); err != nil || !got.IsUndefined() {
		t.Errorf("a hole: %v, %v, want undefined", got.Type(), err)
	}
	if got, err := holes.OwnIndex(1); err != nil || got.Type() != TypeString {
		t.Errorf("an element: %v, %v", got.Type(), err)
	}
	if _, err := Undefined().Own("x"); err == nil {
		t.Error("Own of undefined gave no error")
	}
}
