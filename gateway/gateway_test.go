package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/gateway/simulated"
	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/protocol/seal"
	"github.com/cvmtrust/cvmtrust/verifier"
)

// One simulated platform for the whole package: generating its RSA keys is
// the slowest thing here.
var (
	simOnce sync.Once
	sim     *simulated.Source
	simErr  error
)

func simSource(tb testing.TB) *simulated.Source {
	tb.Helper()
	simOnce.Do(func() { sim, simErr = simulated.New(simulated.Options{}) })
	if simErr != nil {
		tb.Fatal(simErr)
	}
	return sim
}

// startGateway runs a gateway on 127.0.0.1, port 0.
func startGateway(tb testing.TB, cfg Config) (*Gateway, *httptest.Server) {
	tb.Helper()
	if cfg.Source == nil {
		cfg.Source = simSource(tb)
	}
	g, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(g)
	tb.Cleanup(srv.Close)
	return g, srv
}

func newNonce(tb testing.TB) []byte {
	tb.Helper()
	n := make([]byte, protocol.NonceSize)
	rand.Read(n)
	return n
}

func fetchEvidence(tb testing.TB, base string, nonce []byte) protocol.Evidence {
	tb.Helper()
	resp, err := http.Get(base + "/attestation?nonce=" + base64.RawURLEncoding.EncodeToString(nonce))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("GET /attestation: %s %s", resp.Status, b)
	}
	var ev protocol.Evidence
	if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
		tb.Fatal(err)
	}
	return ev
}

// testImage is a JPEG of a seeded pattern: different seeds give images far
// apart for the reference matcher.
func testImage(tb testing.TB, seed int64) []byte {
	tb.Helper()
	const side, cell = 64, 8
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	state := uint64(seed)*0x9E3779B97F4A7C15 + 1
	for cy := 0; cy < side/cell; cy++ {
		for cx := 0; cx < side/cell; cx++ {
			state ^= state << 13
			state ^= state >> 7
			state ^= state << 17
			v := uint8(state)
			for y := cy * cell; y < (cy+1)*cell; y++ {
				for x := cx * cell; x < (cx+1)*cell; x++ {
					img.Set(x, y, color.RGBA{v, v / 2, 255 - v, 255})
				}
			}
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func sealCapture(tb testing.TB, ev protocol.Evidence, img []byte) []byte {
	tb.Helper()
	ct, _ := sealCaptureKey(tb, ev, img)
	return ct
}

// sealCaptureKey seals like a native client and also returns the upload's
// receipt key.
func sealCaptureKey(tb testing.TB, ev protocol.Evidence, img []byte) (ciphertext, receiptKey []byte) {
	tb.Helper()
	pt, err := json.Marshal(protocol.Capture{ContentType: "image/jpeg", Image: img})
	if err != nil {
		tb.Fatal(err)
	}
	ct, key, err := seal.SealWithReceiptKey(ev.HPKE, ev.Report, pt)
	if err != nil {
		tb.Fatal(err)
	}
	return ct, key
}

func enrollBody(tb testing.TB, ev protocol.Evidence, ct []byte) []byte {
	tb.Helper()
	sum := sha512.Sum384(ev.Report)
	b, err := json.Marshal(protocol.EnrollRequest{Version: protocol.Version, ReportSHA384: sum[:], KEM: ev.HPKE.KEM, Ciphertext: ct})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// post sends body to /enroll and decodes the answer into out (a Receipt on
// 200, else an ErrorBody). It returns the status.
func post(tb testing.TB, base string, body []byte, out any) int {
	tb.Helper()
	resp, err := http.Post(base+"/enroll", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		tb.Fatalf("POST /enroll answered %s with Content-Type %q", resp.Status, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		tb.Fatalf("POST /enroll answered %s with undecodable JSON: %v", resp.Status, err)
	}
	return resp.StatusCode
}

func simulatedRoots(t *testing.T, ark []byte) *verifier.Roots {
	t.Helper()
	roots, err := verifier.AMDRoots().WithSimulated(ark)
	if err != nil {
		t.Fatal(err)
	}
	return roots
}

func evidenceFor(ev protocol.Evidence) verifier.Evidence {
	return verifier.Evidence{Report: ev.Report, VCEK: ev.Certs.VCEK, VLEK: ev.Certs.VLEK, Chain: []byte(ev.Certs.Chain)}
}

// TestEndToEnd is the whole v1 flow against a simulated gateway: fresh nonce,
// evidence, verification trusting the simulated root and the expected
// measurement, sealing, enrollment, receipt.
func TestEndToEnd(t *testing.T) {
	for _, kem := range []string{protocol.KEMMLKEM768X25519, protocol.KEMX25519} {
		t.Run(kem, func(t *testing.T) {
			matcher := NewReferenceMatcher()
			g, srv := startGateway(t, Config{KEM: kem, Matcher: matcher})
			ctx := context.Background()

			nonce := newNonce(t)
			ev := fetchEvidence(t, srv.URL, nonce)
			if ev.Version != protocol.Version || ev.HPKE.KEM != kem || !bytes.Equal(ev.HPKE.PublicKey, g.PublicKey().PublicKey) {
				t.Fatalf("evidence version %d KEM %q: not this gateway's", ev.Version, ev.HPKE.KEM)
			}
			want := simSource(t).Measurement()
			exp := verifier.Expectation{
				Measurements: [][]byte{want},
				Binding:      &verifier.Binding{Nonce: nonce, HPKEPublicKey: ev.HPKE.PublicKey},
			}

			// Not trusting the simulated root: rejected, whatever else holds.
			pinnedOnly, err := verifier.New(verifier.Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = pinnedOnly.Verify(ctx, evidenceFor(ev), exp)
			var rej *verifier.RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("evidence under an untrusted root: err = %v, want a rejection", err)
			}
			if !errors.Is(err, verifier.ErrUntrustedRoot) && !errors.Is(err, verifier.ErrUnknownProduct) && !errors.Is(err, verifier.ErrBadChain) {
				t.Errorf("evidence under an untrusted root rejected for another reason: %v", err)
			}

			v, err := verifier.New(verifier.Options{Roots: simulatedRoots(t, simSource(t).SimulatedARK())})
			if err != nil {
				t.Fatal(err)
			}
			// A different nonce does not verify: the report is bound to ours.
			other := verifier.Expectation{Measurements: exp.Measurements,
				Binding: &verifier.Binding{Nonce: newNonce(t), HPKEPublicKey: ev.HPKE.PublicKey}}
			if _, err := v.Verify(ctx, evidenceFor(ev), other); !errors.Is(err, verifier.ErrReportData) {
				t.Errorf("verification with another nonce: err = %v, want ErrReportData", err)
			}
			// Another measurement is not accepted either.
			otherM := exp
			otherM.Measurements = [][]byte{make([]byte, 48)}
			if _, err := v.Verify(ctx, evidenceFor(ev), otherM); !errors.Is(err, verifier.ErrMeasurement) {
				t.Errorf("verification against another measurement: err = %v, want ErrMeasurement", err)
			}

			res, err := v.Verify(ctx, evidenceFor(ev), exp)
			if err != nil {
				t.Fatalf("simulated evidence does not verify: %v", err)
			}
			if !res.Verified || !res.Simulated {
				t.Fatalf("result verified=%v simulated=%v, want both true", res.Verified, res.Simulated)
			}

			img := testImage(t, 1)
			ct, key := sealCaptureKey(t, ev, img)
			var rc protocol.Receipt
			if code := post(t, srv.URL, enrollBody(t, ev, ct), &rc); code != http.StatusOK {
				t.Fatalf("enroll: status %d", code)
			}
			sum := sha512.Sum384(ev.Report)
			if rc.Status != protocol.StatusEnrolled || !bytes.Equal(rc.ReportSHA384, sum[:]) || len(rc.ReceiptID) != 32 {
				t.Fatalf("receipt %+v", rc)
			}
			if _, err := time.Parse(time.RFC3339, rc.ReceivedAt); err != nil {
				t.Errorf("received_at: %v", err)
			}
			// The receipt is authenticated for this upload: a changed field
			// or a key from elsewhere does not check, the upload's key does.
			forged := rc
			forged.Status = protocol.StatusAlreadyEnrolled
			if err := protocol.VerifyReceipt(key, forged); !errors.Is(err, protocol.ErrReceiptMAC) {
				t.Errorf("a receipt with a changed status: %v, want ErrReceiptMAC", err)
			}
			forged = rc
			forged.MAC = protocol.ReceiptMAC(make([]byte, protocol.ReceiptKeySize), rc)
			if err := protocol.VerifyReceipt(key, forged); !errors.Is(err, protocol.ErrReceiptMAC) {
				t.Errorf("a receipt MACed under another key: %v, want ErrReceiptMAC", err)
			}
			if err := protocol.VerifyReceipt(key, rc); err != nil {
				t.Fatalf("the gateway's receipt does not check with the upload's key: %v", err)
			}
			// What was stored is the template of the image that was sent.
			tmpl, err := TemplateOf(img)
			if err != nil {
				t.Fatal(err)
			}
			if got := matcher.Templates(); len(got) != 1 || got[0] != tmpl {
				t.Fatalf("stored templates %v, want the sent image's %v", got, tmpl)
			}

			// Same person again, freshly attested and sealed: already enrolled.
			ev2 := fetchEvidence(t, srv.URL, newNonce(t))
			ct2, key2 := sealCaptureKey(t, ev2, img)
			var rc2 protocol.Receipt
			if code := post(t, srv.URL, enrollBody(t, ev2, ct2), &rc2); code != http.StatusOK || rc2.Status != protocol.StatusAlreadyEnrolled {
				t.Fatalf("second enrollment: status %d receipt %+v", code, rc2)
			}
			// The first upload's receipt, replayed as the answer to the
			// second, does not check; nor does the second's for the first.
			if err := protocol.VerifyReceipt(key2, rc); !errors.Is(err, protocol.ErrReceiptMAC) {
				t.Errorf("a replayed receipt of another upload: %v, want ErrReceiptMAC", err)
			}
			if err := protocol.VerifyReceipt(key, rc2); !errors.Is(err, protocol.ErrReceiptMAC) {
				t.Errorf("the second upload's receipt under the first key: %v, want ErrReceiptMAC", err)
			}
			if err := protocol.VerifyReceipt(key2, rc2); err != nil {
				t.Errorf("second receipt: %v", err)
			}
			if n := len(matcher.Templates()); n != 1 {
				t.Errorf("%d templates after enrolling the same person twice", n)
			}
		})
	}
}

func TestAttestationBadInput(t *testing.T) {
	_, srv := startGateway(t, Config{})
	good := base64.RawURLEncoding.EncodeToString(newNonce(t))
	for _, tc := range []struct {
		name, query string
		status      int
		code        string
	}{
		{"missing", "", 400, CodeMissingNonce},
		{"empty", "nonce=", 400, CodeBadNonce},
		{"not base64", "nonce=" + strings.Repeat("!", 43), 400, CodeBadNonce},
		{"standard alphabet", "nonce=" + url.QueryEscape(strings.Repeat("+/", 21)+"A"), 400, CodeBadNonce},
		{"31 bytes", "nonce=" + base64.RawURLEncoding.EncodeToString(make([]byte, 31)), 400, CodeBadNonce},
		{"33 bytes", "nonce=" + base64.RawURLEncoding.EncodeToString(make([]byte, 33)), 400, CodeBadNonce},
		{"twice", "nonce=" + good + "&nonce=" + good, 400, CodeBadNonce},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/attestation?" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var eb protocol.ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || eb.Code != tc.code || eb.Error == "" {
				t.Errorf("got %d %+v, want %d %s", resp.StatusCode, eb, tc.status, tc.code)
			}
		})
	}
	// A padded nonce is accepted too.
	resp, err := http.Get(srv.URL + "/attestation?nonce=" + base64.URLEncoding.EncodeToString(newNonce(t)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("padded nonce: %s", resp.Status)
	}
	// Wrong method.
	resp, err = http.Post(srv.URL+"/attestation?nonce="+good, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST /attestation: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
}

// failingSource stands for a platform whose firmware refuses or misbehaves.
type failingSource struct{ wrongData bool }

func (f failingSource) GetReport(ctx context.Context, rd [64]byte) ([]byte, protocol.Certs, error) {
	if f.wrongData {
		return make([]byte, protocol.ReportSize), protocol.Certs{}, nil
	}
	return nil, protocol.Certs{}, errors.New("firmware busy")
}

func TestAttestationSourceFailure(t *testing.T) {
	for _, src := range []failingSource{{}, {wrongData: true}} {
		_, srv := startGateway(t, Config{Source: src})
		resp, err := http.Get(srv.URL + "/attestation?nonce=" + base64.RawURLEncoding.EncodeToString(newNonce(t)))
		if err != nil {
			t.Fatal(err)
		}
		var eb protocol.ErrorBody
		json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || eb.Code != CodeReportFailed {
			t.Errorf("%+v: got %d %+v", src, resp.StatusCode, eb)
		}
	}
}

func TestEnrollBadInput(t *testing.T) {
	matcher := NewReferenceMatcher()
	_, srv := startGateway(t, Config{Matcher: matcher, MaxEnrollBytes: 64 << 10, MaxUploadsPerReport: 3})
	ev := fetchEvidence(t, srv.URL, newNonce(t))
	img := testImage(t, 2)
	goodCT := sealCapture(t, ev, img)
	sum := sha512.Sum384(ev.Report)
	req := func(edit func(*protocol.EnrollRequest)) []byte {
		r := protocol.EnrollRequest{Version: 1, ReportSHA384: sum[:], KEM: ev.HPKE.KEM, Ciphertext: goodCT}
		edit(&r)
		b, _ := json.Marshal(r)
		return b
	}
	sealed := func(pt []byte) []byte {
		ct, err := seal.Seal(ev.HPKE, ev.Report, pt)
		if err != nil {
			t.Fatal(err)
		}
		return req(func(r *protocol.EnrollRequest) { r.Ciphertext = ct })
	}
	capture := func(c protocol.Capture) []byte {
		b, _ := json.Marshal(c)
		return sealed(b)
	}
	corrupt := bytes.Clone(goodCT)
	corrupt[len(corrupt)-1] ^= 1
	otherReport := bytes.Clone(ev.Report)
	otherReport[0] ^= 1
	sealedElsewhere, err := seal.Seal(ev.HPKE, otherReport, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	otherKEM := protocol.KEMX25519

	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"not JSON", []byte("hello"), 400, CodeBadRequest},
		{"empty", nil, 400, CodeBadRequest},
		{"unknown field", []byte(`{"version":1,"extra":true}`), 400, CodeBadRequest},
		{"trailing data", append(req(func(*protocol.EnrollRequest) {}), []byte(`{}`)...), 400, CodeBadRequest},
		{"too large", append(req(func(*protocol.EnrollRequest) {}), bytes.Repeat([]byte(" "), 64<<10)...), 413, CodeBodyTooLarge},
		{"version 2", req(func(r *protocol.EnrollRequest) { r.Version = 2 }), 400, CodeBadVersion},
		{"wrong KEM", req(func(r *protocol.EnrollRequest) { r.KEM = otherKEM }), 400, CodeWrongKEM},
		{"no KEM", req(func(r *protocol.EnrollRequest) { r.KEM = "" }), 400, CodeWrongKEM},
		{"short report hash", req(func(r *protocol.EnrollRequest) { r.ReportSHA384 = sum[:47] }), 400, CodeBadRequest},
		{"unknown report", req(func(r *protocol.EnrollRequest) { h := sha512.Sum384(otherReport); r.ReportSHA384 = h[:] }), 400, CodeUnknownReport},
		{"empty ciphertext", req(func(r *protocol.EnrollRequest) { r.Ciphertext = nil }), 400, CodeDecryptFailed},
		{"short ciphertext", req(func(r *protocol.EnrollRequest) { r.Ciphertext = goodCT[:20] }), 400, CodeDecryptFailed},
		{"corrupt ciphertext", req(func(r *protocol.EnrollRequest) { r.Ciphertext = corrupt }), 400, CodeDecryptFailed},
		{"sealed to another report", req(func(r *protocol.EnrollRequest) { r.Ciphertext = sealedElsewhere }), 400, CodeDecryptFailed},
		{"plaintext not a capture", sealed([]byte("not json")), 400, CodeBadCapture},
		{"not an image", capture(protocol.Capture{ContentType: "image/jpeg", Image: []byte("JFIF?")}), 422, CodeBadImage},
		{"wrong content type", capture(protocol.Capture{ContentType: "text/plain", Image: img}), 422, CodeBadImage},
		{"blank frame", capture(protocol.Capture{ContentType: "image/jpeg", Image: blankJPEG(t)}), 422, CodeBadImage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var eb protocol.ErrorBody
			if code := post(t, srv.URL, tc.body, &eb); code != tc.status || eb.Code != tc.code || eb.Error == "" {
				t.Errorf("got %d %+v, want %d %s", code, eb, tc.status, tc.code)
			}
		})
	}
	if n := len(matcher.Templates()); n != 0 {
		t.Fatalf("%d templates stored after refused uploads", n)
	}

	// Wrong media type and method.
	resp, err := http.Post(srv.URL+"/enroll", "text/plain", bytes.NewReader(req(func(*protocol.EnrollRequest) {})))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %s", resp.Status)
	}
	resp, err = http.Get(srv.URL + "/enroll")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /enroll: %s", resp.Status)
	}

	// The good upload goes through once; its replay is refused and stores
	// nothing more.
	var rc protocol.Receipt
	if code := post(t, srv.URL, req(func(*protocol.EnrollRequest) {}), &rc); code != 200 || rc.Status != protocol.StatusEnrolled {
		t.Fatalf("good upload: %d %+v", code, rc)
	}
	var eb protocol.ErrorBody
	if code := post(t, srv.URL, req(func(*protocol.EnrollRequest) {}), &eb); code != http.StatusConflict || eb.Code != CodeReplay {
		t.Fatalf("replay: %d %+v", code, eb)
	}
	if n := len(matcher.Templates()); n != 1 {
		t.Fatalf("%d templates after a replay, want 1", n)
	}
	// Past MaxUploadsPerReport (3: one enrolled above, two more), the report
	// takes no more uploads.
	for i := range 2 {
		if code := post(t, srv.URL, capture(protocol.Capture{ContentType: "image/jpeg", Image: testImage(t, int64(100+i))}), &rc); code != 200 {
			t.Fatalf("upload %d: %d", i, code)
		}
	}
	if code := post(t, srv.URL, capture(protocol.Capture{ContentType: "image/jpeg", Image: testImage(t, 200)}), &eb); code != http.StatusTooManyRequests || eb.Code != CodeTooManyUploads {
		t.Fatalf("upload past the limit: %d %+v", code, eb)
	}
}

func blankJPEG(tb testing.TB) []byte {
	img := image.NewGray(image.Rect(0, 0, 32, 32))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestReportExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	_, srv := startGateway(t, Config{Now: clock, ReportTTL: time.Minute, MaxReports: 2})

	first := fetchEvidence(t, srv.URL, newNonce(t))
	body := enrollBody(t, first, sealCapture(t, first, testImage(t, 3)))
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	var eb protocol.ErrorBody
	if code := post(t, srv.URL, body, &eb); code != 400 || eb.Code != CodeUnknownReport {
		t.Errorf("upload for an expired report: %d %+v", code, eb)
	}

	// A flood of attestations cannot push out a served report: when the
	// memory of served reports is full, new evidence is refused (503 busy)
	// and the served user's upload still succeeds.
	a := fetchEvidence(t, srv.URL, newNonce(t))
	fetchEvidence(t, srv.URL, newNonce(t))
	for range 5 {
		resp, err := http.Get(srv.URL + "/attestation?nonce=" + base64.RawURLEncoding.EncodeToString(newNonce(t)))
		if err != nil {
			t.Fatal(err)
		}
		var fb protocol.ErrorBody
		json.NewDecoder(resp.Body).Decode(&fb)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || fb.Code != CodeBusy || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("attestation beyond MaxReports: %d %+v, want 503 %s with Retry-After", resp.StatusCode, fb, CodeBusy)
		}
	}
	var rc protocol.Receipt
	if code := post(t, srv.URL, enrollBody(t, a, sealCapture(t, a, testImage(t, 4))), &rc); code != http.StatusOK {
		t.Errorf("the served user's upload after a flood: %d", code)
	}
	// Once reports expire there is room again.
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	fetchEvidence(t, srv.URL, newNonce(t))
}

// Bodies wait for the memory budget before they are read: with a budget for
// one upload, a second concurrent one is refused 503 busy after the wait,
// and a declared length over the limit is refused before any byte is read.
func TestEnrollMemoryBudget(t *testing.T) {
	g, srv := startGateway(t, Config{MaxEnrollBytes: 1 << 20, EnrollMemory: 4 << 20, EnrollWait: 200 * time.Millisecond})
	// Hold the whole budget with a body that never ends.
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/enroll", pr)
	req.ContentLength = 1 << 20
	req.Header.Set("Content-Type", "application/json")
	go http.DefaultClient.Do(req)
	pw.Write([]byte(`{"version":1,`))
	deadline := time.Now().Add(5 * time.Second)
	for g.budget.inUse() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g.budget.inUse() != 4<<20 {
		t.Fatalf("budget in use %d, want the whole 4 MiB for a 1 MiB body", g.budget.inUse())
	}
	ev := fetchEvidence(t, srv.URL, newNonce(t))
	var eb protocol.ErrorBody
	if code := post(t, srv.URL, enrollBody(t, ev, sealCapture(t, ev, testImage(t, 5))), &eb); code != http.StatusServiceUnavailable || eb.Code != CodeBusy {
		t.Fatalf("upload while the budget is held: %d %+v", code, eb)
	}
	pw.CloseWithError(errors.New("gone"))
	for g.budget.inUse() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var rc protocol.Receipt
	if code := post(t, srv.URL, enrollBody(t, ev, sealCapture(t, ev, testImage(t, 5))), &rc); code != http.StatusOK {
		t.Fatalf("upload after the budget was released: %d", code)
	}
	// Declared too large: refused at once.
	req, _ = http.NewRequest("POST", srv.URL+"/enroll", strings.NewReader(strings.Repeat(" ", 2<<20)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("declared 2 MiB over a 1 MiB limit: %d", resp.StatusCode)
	}
}

func TestCORS(t *testing.T) {
	_, srv := startGateway(t, Config{AllowedOrigins: []string{"https://app.example"}})
	do := func(method, path, origin string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	nonce := "/attestation?nonce=" + base64.RawURLEncoding.EncodeToString(newNonce(t))

	if r := do("GET", nonce, "https://evil.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS granted to an origin not allowed")
	}
	if r := do("OPTIONS", "/enroll", "https://evil.example"); r.StatusCode != http.StatusForbidden {
		t.Errorf("preflight from an origin not allowed: %s", r.Status)
	}
	if r := do("GET", nonce, "https://app.example"); r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Error("CORS not granted to an allowed origin")
	}
	r := do("OPTIONS", "/enroll", "https://app.example")
	if r.StatusCode != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("preflight from an allowed origin: %s %v", r.Status, r.Header)
	}

	_, any := startGateway(t, Config{AllowedOrigins: []string{"*"}})
	req, _ := http.NewRequest("GET", any.URL+nonce, nil)
	req.Header.Set("Origin", "http://localhost:5173")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Error(`"*" does not allow any origin`)
	}

	if _, err := New(Config{Source: simSource(t), AllowedOrigins: []string{"app.example"}}); err == nil {
		t.Error("an origin without a scheme is accepted")
	}
	for _, o := range []string{"app.example", "https://app.example/", "https://app.example/path", "https://", "https://u@app.example", "https://app.example?q", ""} {
		if CheckOrigin(o) == nil {
			t.Errorf("origin %q accepted", o)
		}
	}
	for _, o := range []string{"*", "https://app.example", "http://localhost:5173", "http://127.0.0.1:8443"} {
		if err := CheckOrigin(o); err != nil {
			t.Errorf("origin %q: %v", o, err)
		}
	}
}

func TestConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("a gateway without a report source is accepted")
	}
	if _, err := New(Config{Source: simSource(t), KEM: "DHKEM-P256-HKDF-SHA256"}); !errors.Is(err, seal.ErrUnknownKEM) {
		t.Errorf("unknown KEM: err = %v", err)
	}
	g, err := New(Config{Source: simSource(t)})
	if err != nil {
		t.Fatal(err)
	}
	if k := g.PublicKey(); k.KEM != protocol.KEMMLKEM768X25519 || k.KDF != protocol.KDFHKDFSHA256 || k.AEAD != protocol.AEADAES256GCM || len(k.PublicKey) != 1216 {
		t.Errorf("default suite %s/%s/%s with a %d-byte key", k.KEM, k.KDF, k.AEAD, len(k.PublicKey))
	}
}

func TestStaticAndSimulatedRoot(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>widget</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, srv := startGateway(t, Config{StaticDir: dir})
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/"); code != 200 || body != "<h1>widget</h1>" {
		t.Errorf("GET /: %d %q", code, body)
	}
	if code, body := get("/simulated/ark.pem"); code != 200 || body != string(simSource(t).SimulatedARK()) {
		t.Errorf("GET /simulated/ark.pem: %d %q", code, body)
	}
	if code, _ := get("/../../etc/passwd"); code == 200 {
		t.Error("static files escape their directory")
	}
	// The simulated KDS: the fake root's CRL, nothing else.
	if code, body := get("/simulated/kds/vcek/v1/Milan/crl"); code != 200 {
		t.Errorf("GET /simulated/kds/vcek/v1/Milan/crl: %d", code)
	} else if crl, err := x509.ParseRevocationList([]byte(body)); err != nil || crl.Issuer.CommonName != "ARK-Milan" {
		t.Errorf("GET /simulated/kds/vcek/v1/Milan/crl: %v, %v", crl, err)
	}
	for _, p := range []string{"/simulated/kds/vcek/v1/Milan/cert_chain", "/simulated/kds/vcek/v1/Genoa/crl", "/simulated/kds/"} {
		if code, _ := get(p); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, code)
		}
	}

	// A real source serves no simulated root and no simulated KDS.
	_, real := startGateway(t, Config{Source: failingSource{}})
	for _, p := range []string{"/simulated/ark.pem", "/simulated/kds/vcek/v1/Milan/crl"} {
		resp, err := http.Get(real.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("a non-simulated gateway serves %s: %s", p, resp.Status)
		}
	}
}

func ExampleParseNonce() {
	n, err := ParseNonce("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
	fmt.Println(len(n), err)
	_, err = ParseNonce("AAEC")
	fmt.Println(err)
	// Output:
	// 32 <nil>
	// protocol: nonce must be 32 bytes: got 3
}

// The same ciphertext sent many times at once is enrolled exactly once.
func TestEnrollConcurrentReplay(t *testing.T) {
	matcher := NewReferenceMatcher()
	_, srv := startGateway(t, Config{Matcher: matcher})
	ev := fetchEvidence(t, srv.URL, newNonce(t))
	body := enrollBody(t, ev, sealCapture(t, ev, testImage(t, 40)))
	codes := make([]int, 8)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			var out map[string]any
			codes[i] = post(t, srv.URL, body, &out)
		})
	}
	wg.Wait()
	ok, replays := 0, 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			replays++
		}
	}
	if ok != 1 || replays != len(codes)-1 || len(matcher.Templates()) != 1 {
		t.Errorf("statuses %v, %d templates; want one 200, the rest 409, one template", codes, len(matcher.Templates()))
	}
}

// A failed upload leaves no trace: once the matcher can use the capture,
// the same ciphertext is not a replay.
type flakyMatcher struct {
	fail bool
	ReferenceMatcher
}

func (f *flakyMatcher) Enroll(ctx context.Context, c protocol.Capture) (bool, error) {
	if f.fail {
		return false, errors.New("matcher backend down")
	}
	return f.ReferenceMatcher.Enroll(ctx, c)
}

func TestEnrollFailureReleasesUpload(t *testing.T) {
	m := &flakyMatcher{fail: true, ReferenceMatcher: ReferenceMatcher{Threshold: DefaultThreshold}}
	_, srv := startGateway(t, Config{Matcher: m})
	ev := fetchEvidence(t, srv.URL, newNonce(t))
	body := enrollBody(t, ev, sealCapture(t, ev, testImage(t, 41)))
	var eb protocol.ErrorBody
	if code := post(t, srv.URL, body, &eb); code != http.StatusInternalServerError || eb.Code != CodeMatcherFailed {
		t.Fatalf("matcher down: %d %+v", code, eb)
	}
	m.fail = false
	var rc protocol.Receipt
	if code := post(t, srv.URL, body, &rc); code != http.StatusOK || rc.Status != protocol.StatusEnrolled {
		t.Fatalf("after the matcher recovered: %d %+v", code, rc)
	}
}

// An upload that names an unknown report before its ciphertext (as Go and
// the page encode it) is refused as soon as the hash is read: the gateway
// does not wait for, or hold memory for, the rest of the body.
func TestEnrollUnknownReportRefusedEarly(t *testing.T) {
	_, srv := startGateway(t, Config{})
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/enroll", pr)
	req.ContentLength = 4 << 20
	req.Header.Set("Content-Type", "application/json")
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- nil
			return
		}
		done <- resp
	}()
	fmt.Fprintf(pw, `{"version":1,"report_sha384":"%s","kem":"x","ciphertext":"`, base64.StdEncoding.EncodeToString(make([]byte, 48)))
	// The rest of the 4 MiB never comes.
	select {
	case resp := <-done:
		if resp == nil {
			t.Fatal("no answer")
		}
		var eb protocol.ErrorBody
		json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || eb.Code != CodeUnknownReport {
			t.Fatalf("%d %+v, want 400 %s", resp.StatusCode, eb, CodeUnknownReport)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the gateway waited for the whole body of an upload to an unknown report")
	}
}

// With its TLS key's hash set, the gateway serves evidence v2: the report
// binds the nonce, that hash and the HPKE key, so a v1 binding of the same
// report is refused, and an upload to it enrolls as before.
func TestEvidenceV2(t *testing.T) {
	tlsKey := bytes.Repeat([]byte{0x5a}, protocol.TLSKeySize)
	_, srv := startGateway(t, Config{TLSKeySHA256: tlsKey})
	nonce := newNonce(t)
	ev := fetchEvidence(t, srv.URL, nonce)
	if ev.Version != protocol.VersionTLS || ev.TLS == nil || !bytes.Equal(ev.TLS.SPKISHA256, tlsKey) {
		t.Fatalf("evidence version %d, tls %+v; want 2 and the TLS key", ev.Version, ev.TLS)
	}
	v, err := verifier.New(verifier.Options{Roots: simulatedRoots(t, simSource(t).SimulatedARK())})
	if err != nil {
		t.Fatal(err)
	}
	m := [][]byte{simSource(t).Measurement()}
	v1 := verifier.Expectation{Measurements: m, Binding: &verifier.Binding{Nonce: nonce, HPKEPublicKey: ev.HPKE.PublicKey}}
	if _, err := v.Verify(context.Background(), evidenceFor(ev), v1); !errors.Is(err, verifier.ErrReportData) {
		t.Fatalf("v2 evidence checked as v1: %v, want ErrReportData", err)
	}
	v2 := v1
	v2.Binding = &verifier.Binding{Nonce: nonce, HPKEPublicKey: ev.HPKE.PublicKey, TLSKeySHA256: ev.TLS.SPKISHA256}
	v2.TLSKeySHA256 = tlsKey
	res, err := v.Verify(context.Background(), evidenceFor(ev), v2)
	if err != nil || res.Binding != verifier.BindingV2 {
		t.Fatalf("v2 evidence: %v, binding %q", err, res.Binding)
	}
	var rc protocol.Receipt
	if code := post(t, srv.URL, enrollBody(t, ev, sealCapture(t, ev, testImage(t, 9))), &rc); code != http.StatusOK {
		t.Fatalf("upload to v2 evidence: %d", code)
	}
	if _, err := New(Config{Source: simSource(t), TLSKeySHA256: tlsKey[:20]}); err == nil {
		t.Fatal("a 20-byte TLS key hash was accepted")
	}
}
