package sigstore

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestSortTimes(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for n := range 9 {
		for range 200 {
			times := make([]time.Time, n)
			for i := range times {
				times[i] = time.Unix(rng.Int64N(8), 0) // repeats included
			}
			want := slices.Clone(times)
			slices.SortFunc(want, func(a, b time.Time) int { return a.Compare(b) })
			sortTimes(times)
			if !slices.EqualFunc(times, want, time.Time.Equal) {
				t.Fatalf("sortTimes = %v, want %v", times, want)
			}
		}
	}
}
