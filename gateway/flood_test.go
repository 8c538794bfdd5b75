package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/lockedbuf"
	"github.com/cvmtrust/cvmtrust/protocol"
)

// One client floods GET /attestation; another, from another address,
// attests and enrolls while the flood goes on. Small in every run; at the
// reported size (the default report memory, 30 s of flood) with -flood:
//
//	go test ./gateway -run TestAttestationFlood -v -flood
var floodFull = flag.Bool("flood", false, "run TestAttestationFlood at full size (default MaxReports, 30 s of flood)")

// clientFrom is an HTTP client whose connections leave from the loopback
// address ip (127.0.0.0/8 is all loopback on Linux), so the gateway sees
// another client.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16},
		Timeout:   30 * time.Second,
	}
}

func attestWith(c *http.Client, base string) (int, protocol.Evidence, error) {
	var ev protocol.Evidence
	nonce := make([]byte, protocol.NonceSize)
	rand.Read(nonce)
	resp, err := c.Get(base + "/attestation?nonce=" + base64.RawURLEncoding.EncodeToString(nonce))
	if err != nil {
		return 0, ev, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		err = json.NewDecoder(resp.Body).Decode(&ev)
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, ev, err
}

func TestAttestationFlood(t *testing.T) {
	// Small: a report memory of 300, which the flood alone would fill.
	maxReports, floodFor, floodMax := 300, 2*time.Second, 100_000
	if *floodFull {
		maxReports, floodFor, floodMax = 0, 30*time.Second, 1_000_000
	}
	logs := &lockedbuf.Buffer{}
	_, srv := startGateway(t, Config{MaxReports: maxReports, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	flooder, user := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	defer flooder.CloseIdleConnections()
	defer user.CloseIdleConnections()

	peak := peakRSS(t)
	ctx, stop := context.WithTimeout(context.Background(), floodFor)
	defer stop()
	var sent atomic.Int64
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	t0 := time.Now()
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil && sent.Add(1) <= int64(floodMax) {
				code, _, err := attestWith(flooder, srv.URL)
				if err != nil {
					code = -1
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		})
	}
	// The other user comes while the flood runs, after it has had its fill.
	for deadline := time.Now().Add(floodFor / 2); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		refused := codes[http.StatusTooManyRequests] + codes[http.StatusServiceUnavailable]
		mu.Unlock()
		if refused > 0 {
			break
		}
	}
	u0 := time.Now()
	code, ev, err := attestWith(user, srv.URL)
	attestTook := time.Since(u0)
	if err != nil || code != http.StatusOK {
		stop()
		wg.Wait()
		t.Fatalf("the other user's attestation during the flood: %d %v (flood answers so far %v)", code, err, codes)
	}
	ct, key := sealCaptureKey(t, ev, testImage(t, 7))
	var rc protocol.Receipt
	u1 := time.Now()
	enrollCode := postWith(t, user, srv.URL, enrollBody(t, ev, ct), &rc)
	enrollTook := time.Since(u1)
	floodStill := ctx.Err() == nil
	wg.Wait()
	elapsed := time.Since(t0)
	if enrollCode != http.StatusOK || rc.Status != protocol.StatusEnrolled {
		t.Fatalf("the other user's upload during the flood: %d %+v", enrollCode, rc)
	}
	if err := protocol.VerifyReceipt(key, rc); err != nil {
		t.Fatalf("the other user's receipt: %v", err)
	}
	if !floodStill {
		t.Logf("note: the flood had ended before the other user's upload finished")
	}
	total := 0
	for _, n := range codes {
		total += n
	}
	t.Logf("flood from 127.0.0.1: %d requests in %v (%.0f req/s), answers %v", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), codes)
	t.Logf("other user from 127.0.0.2 during it: attestation 200 in %v, enrollment 200 in %v, receipt checks", attestTook.Round(time.Millisecond), enrollTook.Round(time.Millisecond))
	t.Logf("peak RSS %d MiB", peak())
	if codes[http.StatusServiceUnavailable] != 0 || codes[-1] != 0 {
		t.Errorf("the flooding client alone filled the report memory or broke connections: %v", codes)
	}
	// The refusals are logged once in ten seconds, not once each.
	if n, most := strings.Count(string(logs.Bytes()), CodeTooManyAttests), 1+int(floodFor/(10*time.Second)); n > most {
		t.Errorf("%d log lines for %d refusals, want at most %d", n, codes[http.StatusTooManyRequests], most)
	}
	if codes[http.StatusOK] > DefaultMaxReportsPerClient {
		t.Errorf("one client was served %d reports at once, more than its budget of %d", codes[http.StatusOK], DefaultMaxReportsPerClient)
	}
}

// postWith is post through client c.
func postWith(tb testing.TB, c *http.Client, base string, body []byte, out any) int {
	tb.Helper()
	resp, err := c.Post(base+"/enroll", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		tb.Fatalf("POST /enroll answered %s with undecodable JSON: %v", resp.Status, err)
	}
	return resp.StatusCode
}

// Each client's share is counted per IPv4 address and per IPv6 /64, is
// refused with 429 and Retry-After before a report is made, and comes back
// as its reports expire.
func TestReportsPerClient(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	src := &countingSource{ReportSource: simSource(t)}
	g, err := New(Config{Source: src, Now: clock, ReportTTL: time.Minute, MaxReportsPerClient: 2})
	if err != nil {
		t.Fatal(err)
	}
	attest := func(remote string) (int, string) {
		t.Helper()
		req := httptest.NewRequest("GET", "/attestation?nonce="+base64.RawURLEncoding.EncodeToString(newNonce(t)), nil)
		req.RemoteAddr = remote
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		var eb protocol.ErrorBody
		json.Unmarshal(w.Body.Bytes(), &eb)
		if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
		return w.Code, eb.Code
	}
	for _, c := range []struct {
		remote string
		code   int
	}{
		{"192.0.2.1:1000", 200}, {"192.0.2.1:1001", 200}, {"192.0.2.1:1002", 429},
		{"192.0.2.2:1000", 200},                                                                             // another address
		{"[2001:db8:0:1::1]:443", 200}, {"[2001:db8:0:1::2]:443", 200}, {"[2001:db8:0:1:ffff::9]:443", 429}, // one /64
		{"[2001:db8:0:2::1]:443", 200},   // another /64
		{"[::ffff:192.0.2.1]:1003", 429}, // the same IPv4 address, mapped
	} {
		before := src.n.Load()
		code, ecode := attest(c.remote)
		if code != c.code {
			t.Errorf("attestation from %s: %d %s, want %d", c.remote, code, ecode, c.code)
		}
		if code == http.StatusTooManyRequests && (ecode != CodeTooManyAttests || src.n.Load() != before) {
			t.Errorf("refused attestation from %s: code %q, %d reports made; want %s and none", c.remote, ecode, src.n.Load()-before, CodeTooManyAttests)
		}
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if code, _ := attest("192.0.2.1:1004"); code != http.StatusOK {
		t.Errorf("after its reports expired, the client got %d", code)
	}
}

type countingSource struct {
	ReportSource
	n atomic.Int64
}

func (s *countingSource) GetReport(ctx context.Context, rd [64]byte) ([]byte, protocol.Certs, error) {
	s.n.Add(1)
	return s.ReportSource.GetReport(ctx, rd)
}
