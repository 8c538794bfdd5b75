package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/protocol/seal"
)

// Two attacks of the abuse report, on loopback against an in-process
// gateway, small in every run and at the reported size with -abuse (the
// third, the attestation flood, is TestAttestationFlood):
//
//	go test ./gateway -run TestAbuse -v -abuse
//
// Each reports the test process's peak RSS during the attack (VmHWM, reset
// before it through /proc/self/clear_refs; it includes the attacking
// clients, which run in the same process) and checks that a real user's
// upload, with evidence fetched before the attack, succeeds after it.
var abuseFull = flag.Bool("abuse", false, "run TestAbuse at the reported size (64 bodies of 8 MiB, 8 large PNGs)")

// peakRSS resets the peak RSS and returns a function that reads it in MiB.
func peakRSS(t *testing.T) func() int64 {
	t.Helper()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("cannot reset the peak RSS: %v", err)
	}
	return func() int64 {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.SplitSeq(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb >> 10
			}
		}
		t.Fatal("no VmHWM")
		return 0
	}
}

// realUser fetches evidence now and returns a function that uploads to it
// later and checks the receipt.
func realUser(t *testing.T, base string, seed int64) func() {
	ev := fetchEvidence(t, base, newNonce(t))
	ct, key := sealCaptureKey(t, ev, testImage(t, seed))
	body := enrollBody(t, ev, ct)
	return func() {
		t.Helper()
		var rc protocol.Receipt
		if code := post(t, base, body, &rc); code != http.StatusOK || rc.Status != protocol.StatusEnrolled {
			t.Fatalf("the real user's upload after the attack: %d %+v", code, rc)
		}
		if err := protocol.VerifyReceipt(key, rc); err != nil {
			t.Fatalf("the real user's receipt: %v", err)
		}
		t.Logf("the real user's upload after the attack: 200 %s, receipt checks", rc.Status)
	}
}

func TestAbuse(t *testing.T) {
	// side 3000: 16-bit RGBA takes 69 MiB decoded, just over MaxDecodedBytes.
	bodies, pngs, side := 4, 2, 3000
	if *abuseFull {
		bodies, pngs, side = 64, 8, 4896
	}
	client := &http.Client{Timeout: 60 * time.Second}

	// Two orders: the hash first, as clients encode it (refused as soon as
	// it is read), and the ciphertext first, where the whole body is read
	// under the memory budget.
	for _, hashFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("large bodies naming an unknown report, hash first %v", hashFirst), func(t *testing.T) {
			_, srv := startGateway(t, Config{})
			user := realUser(t, srv.URL, 1)
			// Just under the 8 MiB limit, naming a report nobody served.
			ct := bytes.Repeat([]byte("QUJD"), (DefaultMaxEnrollBytes-200)/4)
			hash := base64.StdEncoding.EncodeToString(make([]byte, 48))
			body := fmt.Appendf(nil, `{"version":1,"report_sha384":"%s","kem":"%s","ciphertext":"%s"}`, hash, protocol.KEMMLKEM768X25519, ct)
			if !hashFirst {
				body = fmt.Appendf(nil, `{"ciphertext":"%s","version":1,"kem":"%s","report_sha384":"%s"}`, ct, protocol.KEMMLKEM768X25519, hash)
			}
			peak := peakRSS(t)
			codes := map[int]int{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			t0 := time.Now()
			for range bodies {
				wg.Go(func() {
					code := 0
					resp, err := client.Post(srv.URL+"/enroll", "application/json", bytes.NewReader(body))
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						code = resp.StatusCode
					}
					mu.Lock()
					codes[code]++
					mu.Unlock()
				})
			}
			wg.Wait()
			t.Logf("%d concurrent %d-byte bodies: answers %v in %v, peak RSS %d MiB", bodies, len(body), codes, time.Since(t0).Round(time.Millisecond), peak())
			if codes[http.StatusOK] != 0 {
				t.Fatalf("an unknown report was accepted: %v", codes)
			}
			user()
		})
	}

	t.Run("large 16-bit PNGs", func(t *testing.T) {
		// A flat 16-bit RGBA PNG: small compressed, 8 bytes a pixel decoded
		// (183 MiB at 4896×4896, inside MaxImagePixels).
		var b bytes.Buffer
		if err := png.Encode(&b, image.NewRGBA64(image.Rect(0, 0, side, side))); err != nil {
			t.Fatal(err)
		}
		big := b.Bytes()
		_, srv := startGateway(t, Config{})
		user := realUser(t, srv.URL, 2)
		uploads := make([][]byte, pngs)
		for i := range uploads {
			ev := fetchEvidence(t, srv.URL, newNonce(t))
			pt, _ := json.Marshal(protocol.Capture{ContentType: "image/png", Image: big})
			ct, err := seal.Seal(ev.HPKE, ev.Report, pt)
			if err != nil {
				t.Fatal(err)
			}
			uploads[i] = enrollBody(t, ev, ct)
		}
		peak := peakRSS(t)
		var wg sync.WaitGroup
		codes := make([]int, pngs)
		t0 := time.Now()
		for i := range uploads {
			wg.Go(func() {
				var eb protocol.ErrorBody
				codes[i] = post(t, srv.URL, uploads[i], &eb)
			})
		}
		wg.Wait()
		t.Logf("%d concurrent %d-byte PNGs of %d×%d×16-bit RGBA: answers %v in %v, peak RSS %d MiB", pngs, len(big), side, side, codes, time.Since(t0).Round(time.Millisecond), peak())
		for _, c := range codes {
			if c != http.StatusUnprocessableEntity {
				t.Fatalf("answers %v, want 422 for each", codes)
			}
		}
		user()
	})

}
