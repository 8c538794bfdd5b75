package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/protocol"
)

// The load test runs small in every `go test`; -load runs it at full size:
//
//	go test ./gateway -run TestLoad -load -v
//
// and BenchmarkLoad reports the same figures as benchmark metrics:
//
//	go test ./gateway -run '^$' -bench BenchmarkLoad -benchtime 1x
var (
	loadFull        = flag.Bool("load", false, "run TestLoad at full size (2,000 attestations, 500 enrollments)")
	loadConcurrency = flag.Int("load-concurrency", 16, "concurrent clients in the load test")
	loadSandboxed   = flag.Bool("load-sandbox", false, "TestLoad: run the reference matcher in the sandbox, as cvmtrust does")
)

const (
	fullAttestations = 2000
	fullEnrollments  = 500
)

type phaseStats struct {
	requests int
	elapsed  time.Duration
	p50, p99 time.Duration
}

func (p phaseStats) perSecond() float64 { return float64(p.requests) / p.elapsed.Seconds() }

func (p phaseStats) String() string {
	return fmt.Sprintf("%d requests in %v: %.0f req/s, p50 %v, p99 %v", p.requests, p.elapsed.Round(time.Millisecond),
		p.perSecond(), p.p50.Round(10*time.Microsecond), p.p99.Round(10*time.Microsecond))
}

// runPhase issues n requests from at most conc goroutines and times each.
// do returns an error for any answer that is not the expected success.
func runPhase(tb testing.TB, n, conc int, do func(i int) error) phaseStats {
	tb.Helper()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failures atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range min(conc, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				err := do(i)
				lat[i] = time.Since(t0)
				if err != nil {
					failures.Add(1)
					firstErr.Do(func() { tb.Errorf("request %d: %v", i, err) })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failures.Load(); f != 0 {
		tb.Fatalf("%d of %d requests failed", f, n)
	}
	slices.Sort(lat)
	return phaseStats{requests: n, elapsed: elapsed, p50: lat[n/2], p99: lat[(n*99+99)/100-1]}
}

// runLoad starts a simulated gateway on loopback, fetches nAttest pieces of
// evidence, then enrolls nEnroll distinct captures, each sealed to a
// different one of them. It fails on any error and on any enrollment the
// matcher did not store.
func runLoad(tb testing.TB, nAttest, nEnroll, conc int) (attest, enroll phaseStats) {
	tb.Helper()
	inProcess := NewReferenceMatcher()
	var matcher Matcher = inProcess
	if *loadSandboxed {
		matcher = sandboxedReference(tb)
	}
	// One client makes every request: the per-client bound is off, as
	// behind a proxy, so the load measures the gateway.
	_, srv := startGateway(tb, Config{Matcher: matcher, MaxReportsPerClient: -1})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()

	nonces := make([]string, nAttest)
	for i := range nonces {
		nonces[i] = base64.RawURLEncoding.EncodeToString(newNonce(tb))
	}
	evidence := make([]protocol.Evidence, nAttest)
	attest = runPhase(tb, nAttest, conc, func(i int) error {
		resp, err := client.Get(srv.URL + "/attestation?nonce=" + nonces[i])
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		return json.NewDecoder(resp.Body).Decode(&evidence[i])
	})

	// Sealing is the browser's work: done before the clock starts.
	images := make([][]byte, nEnroll)
	bodies := make([][]byte, nEnroll)
	for i := range nEnroll {
		images[i] = testImage(tb, int64(1000+i))
		ev := evidence[i*nAttest/nEnroll]
		bodies[i] = enrollBody(tb, ev, sealCapture(tb, ev, images[i]))
	}
	enroll = runPhase(tb, nEnroll, conc, func(i int) error {
		resp, err := client.Post(srv.URL+"/enroll", "application/json", bytes.NewReader(bodies[i]))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s: %s", resp.Status, b)
		}
		var rc protocol.Receipt
		if err := json.Unmarshal(b, &rc); err != nil {
			return err
		}
		if rc.Status != protocol.StatusEnrolled {
			return fmt.Errorf("distinct capture %d answered %q", i, rc.Status)
		}
		return nil
	})

	if *loadSandboxed {
		// The templates live in the sandbox: every capture, sent again
		// freshly sealed, must be already enrolled.
		for i, img := range images {
			ev := evidence[(i*nAttest/nEnroll+1)%nAttest]
			var rc protocol.Receipt
			if code := post(tb, srv.URL, enrollBody(tb, ev, sealCapture(tb, ev, img)), &rc); code != http.StatusOK || rc.Status != protocol.StatusAlreadyEnrolled {
				tb.Fatalf("capture %d was lost: %d %+v", i, code, rc)
			}
		}
		return attest, enroll
	}
	// No lost enrollments: every capture's template is stored, once.
	stored := inProcess.Templates()
	if len(stored) != nEnroll {
		tb.Fatalf("%d templates stored for %d enrollments", len(stored), nEnroll)
	}
	for i, img := range images {
		want, err := TemplateOf(img)
		if err != nil {
			tb.Fatal(err)
		}
		if !slices.Contains(stored, want) {
			tb.Fatalf("capture %d's template was not stored", i)
		}
	}
	return attest, enroll
}

func TestLoad(t *testing.T) {
	nAttest, nEnroll := 100, 25
	if *loadFull {
		nAttest, nEnroll = fullAttestations, fullEnrollments
	}
	attest, enroll := runLoad(t, nAttest, nEnroll, *loadConcurrency)
	t.Logf("concurrency %d", *loadConcurrency)
	t.Logf("GET /attestation: %v", attest)
	t.Logf("POST /enroll:     %v", enroll)
}

func BenchmarkLoad(b *testing.B) {
	simSource(b) // key generation is not part of the load
	for b.Loop() {
		attest, enroll := runLoad(b, fullAttestations, fullEnrollments, *loadConcurrency)
		b.ReportMetric(attest.perSecond(), "attest/s")
		b.ReportMetric(float64(attest.p99.Microseconds())/1000, "attest-p99-ms")
		b.ReportMetric(enroll.perSecond(), "enroll/s")
		b.ReportMetric(float64(enroll.p99.Microseconds())/1000, "enroll-p99-ms")
	}
}

// countingMatcher enrolls everyone: the per-request benchmarks measure the
// gateway, not the reference matcher's image decoding.
type countingMatcher struct{ n atomic.Int64 }

func (m *countingMatcher) Enroll(context.Context, protocol.Capture) (bool, error) {
	m.n.Add(1)
	return false, nil
}

// BenchmarkAttestation is one GET /attestation in process (no network):
// parse, bind, sign a simulated report, remember it, encode the evidence.
//
//	go test ./gateway -run '^$' -bench 'Attestation|Enroll$'
func BenchmarkAttestation(b *testing.B) {
	g, err := New(Config{Source: simSource(b), MaxReportsPerClient: -1})
	if err != nil {
		b.Fatal(err)
	}
	target := "/attestation?nonce=" + base64.RawURLEncoding.EncodeToString(newNonce(b))
	for b.Loop() {
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkEnroll is one POST /enroll in process: decode, look up the
// report, HPKE-open, decode the capture. Bodies are sealed beforehand.
func BenchmarkEnroll(b *testing.B) {
	for _, kem := range []string{protocol.KEMMLKEM768X25519, protocol.KEMX25519} {
		b.Run(kem, func(b *testing.B) {
			m := &countingMatcher{}
			g, err := New(Config{Source: simSource(b), KEM: kem, Matcher: m, MaxReports: b.N + 1, MaxReportsPerClient: -1})
			if err != nil {
				b.Fatal(err)
			}
			img := testImage(b, 1)
			bodies := make([][]byte, b.N)
			var ev protocol.Evidence
			for i := range bodies {
				if i%DefaultMaxUploadsPerReport == 0 {
					w := httptest.NewRecorder()
					g.ServeHTTP(w, httptest.NewRequest("GET", "/attestation?nonce="+base64.RawURLEncoding.EncodeToString(newNonce(b)), nil))
					if err := json.Unmarshal(w.Body.Bytes(), &ev); err != nil {
						b.Fatal(err)
					}
				}
				bodies[i] = enrollBody(b, ev, sealCapture(b, ev, img))
			}
			b.ResetTimer()
			for i := range b.N {
				w := httptest.NewRecorder()
				g.ServeHTTP(w, httptest.NewRequest("POST", "/enroll", bytes.NewReader(bodies[i])))
				if w.Code != http.StatusOK {
					b.Fatal(w.Code, w.Body.String())
				}
			}
			b.StopTimer()
			if m.n.Load() != int64(b.N) {
				b.Fatalf("%d enrollments reached the matcher, want %d", m.n.Load(), b.N)
			}
		})
	}
}
