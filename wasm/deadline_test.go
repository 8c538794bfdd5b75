//go:build js && wasm

package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A call context ends on time-out, on cancel and with its parent, with the
// error of what ended it, and runs what whenDone was given exactly once.
func TestCallContext(t *testing.T) {
	wait := func(c *callContext) {
		t.Helper()
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the call context did not end")
		}
	}

	timed, cancel := withTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	ran := make(chan struct{}, 2)
	timed.whenDone(func() { ran <- struct{}{} })
	if timed.Err() != nil {
		t.Fatalf("ended before its time: %v", timed.Err())
	}
	wait(timed)
	if !errors.Is(timed.Err(), context.DeadlineExceeded) {
		t.Errorf("timed out with %v", timed.Err())
	}
	cancel() // after the time-out: changes nothing, runs nothing again
	if !errors.Is(timed.Err(), context.DeadlineExceeded) || len(ran) != 1 {
		t.Errorf("after cancel: %v, hook ran %d times", timed.Err(), len(ran))
	}
	// Given after the end, a hook runs at once.
	late := false
	timed.whenDone(func() { late = true })
	if !late {
		t.Error("a hook given to an ended call did not run")
	}

	cancelled, cancel2 := withTimeout(context.Background(), time.Hour)
	n := 0
	cancelled.whenDone(func() { n++ })
	cancelled.whenDone(func() { n++ })
	cancel2()
	cancel2()
	if !errors.Is(cancelled.Err(), context.Canceled) || n != 2 {
		t.Errorf("cancelled: %v, hooks ran %d times, want 2", cancelled.Err(), n)
	}

	parent, cancelParent := withTimeout(context.Background(), time.Hour)
	child, cancelChild := withTimeout(parent, time.Hour)
	defer cancelChild()
	cancelParent()
	wait(child)
	if !errors.Is(child.Err(), context.Canceled) {
		t.Errorf("child of a cancelled parent: %v", child.Err())
	}
	born, cancelBorn := withTimeout(parent, time.Hour)
	defer cancelBorn()
	if !errors.Is(born.Err(), context.Canceled) {
		t.Errorf("made from an ended parent: %v", born.Err())
	}
}
