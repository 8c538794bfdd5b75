package gateway

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/lockedbuf"
	"github.com/cvmtrust/cvmtrust/protocol"
)

// The test matcher (testdata/testmatcher) is built once per test binary,
// statically, so that it needs no libraries inside the sandbox.
var (
	testMatcherOnce sync.Once
	testMatcherPath string
	testMatcherErr  error
	testBinDir      string
)

func testMatcher(tb testing.TB) string {
	tb.Helper()
	testMatcherOnce.Do(func() {
		testBinDir, testMatcherErr = os.MkdirTemp("", "cvmtrust-testmatcher-")
		if testMatcherErr != nil {
			return
		}
		// Readable by the sandbox's unprivileged uid.
		os.Chmod(testBinDir, 0o755)
		testMatcherPath = filepath.Join(testBinDir, "testmatcher")
		cmd := exec.Command("go", "build", "-o", testMatcherPath, "./testdata/testmatcher")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			testMatcherErr = &buildError{out: out, err: err}
		}
	})
	if testMatcherErr != nil {
		tb.Fatal(testMatcherErr)
	}
	return testMatcherPath
}

type buildError struct {
	out []byte
	err error
}

func (e *buildError) Error() string {
	return "building testmatcher: " + e.err.Error() + "\n" + string(e.out)
}

// firstThen returns a Command that runs the test matcher in mode first the
// first time and honest after that, and counts the starts.
func firstThen(tb testing.TB, first []string, starts *atomic.Int32) func(stdin, stdout, stderr *os.File) (*exec.Cmd, error) {
	path := testMatcher(tb)
	return StartUnsandboxed(func() *exec.Cmd {
		args := []string{"honest"}
		if starts.Add(1) == 1 {
			args = first
		}
		return exec.Command(path, args...)
	})
}

// Every protocol violation kills the matcher: that upload is answered 503
// matcher_unavailable and stores nothing, and the next upload is served by a
// new process.
func TestProcessMatcherViolations(t *testing.T) {
	for _, mode := range []string{"wrong-id", "unknown-field", "unknown-status", "bad-version", "trailing",
		"bad-frame", "oversized", "timeout", "crash", "stdout-flood"} {
		t.Run(mode, func(t *testing.T) {
			var starts atomic.Int32
			var logs lockedbuf.Buffer
			pm, err := NewProcessMatcher(ProcessMatcherConfig{
				Start:   firstThen(t, []string{mode}, &starts),
				Timeout: 2 * time.Second,
				Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer pm.Close()
			_, srv := startGateway(t, Config{Matcher: pm})
			ev := fetchEvidence(t, srv.URL, newNonce(t))
			body := enrollBody(t, ev, sealCapture(t, ev, testImage(t, 1)))
			var eb protocol.ErrorBody
			t0 := time.Now()
			if code := post(t, srv.URL, body, &eb); code != http.StatusServiceUnavailable || eb.Code != CodeMatcherDown {
				t.Fatalf("%s: %d %+v, want 503 %s", mode, code, eb, CodeMatcherDown)
			}
			if d := time.Since(t0); d > 5*time.Second {
				t.Errorf("the violation took %v to be answered", d)
			}
			if n := starts.Load(); n != 2 {
				t.Fatalf("%d starts after the violation, want 2 (restarted at once)", n)
			}
			// Nothing was kept: the same ciphertext is not a replay, and the
			// new process enrolls it.
			var rc protocol.Receipt
			if code := post(t, srv.URL, body, &rc); code != http.StatusOK || rc.Status != protocol.StatusEnrolled {
				t.Fatalf("after the restart: %d %+v", code, rc)
			}
			// The matcher's own words, and numbers it chose, never reach
			// the logs in real mode: only the kind of violation does.
			for _, s := range []string{"Alice", "AAAAAAAA", "note", "id 2", "1073741824", "not json", "\"version\":2"} {
				if bytes.Contains(logs.Bytes(), []byte(s)) {
					t.Errorf("%q from the matcher reached the logs:\n%s", s, logs.Bytes())
				}
			}
			if !bytes.Contains(logs.Bytes(), []byte("matcher killed")) {
				t.Errorf("the kill was not logged:\n%s", logs.Bytes())
			}
		})
	}
}

// An honest process matcher maps the statuses: enrolled, already_enrolled,
// bad_image (422, generic message).
func TestProcessMatcherStatuses(t *testing.T) {
	pm, err := NewProcessMatcher(ProcessMatcherConfig{Start: StartUnsandboxed(func() *exec.Cmd {
		return exec.Command(testMatcher(t), "honest")
	})})
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	_, srv := startGateway(t, Config{Matcher: pm})
	img := testImage(t, 2)
	for _, want := range []string{protocol.StatusEnrolled, protocol.StatusAlreadyEnrolled} {
		ev := fetchEvidence(t, srv.URL, newNonce(t))
		var rc protocol.Receipt
		if code := post(t, srv.URL, enrollBody(t, ev, sealCapture(t, ev, img)), &rc); code != http.StatusOK || rc.Status != want {
			t.Fatalf("%d %+v, want %s", code, rc, want)
		}
	}
}

// A matcher that cannot start is an error at start-up, and one that keeps
// dying is restarted with a backoff rather than in a tight loop.
func TestProcessMatcherStart(t *testing.T) {
	if _, err := NewProcessMatcher(ProcessMatcherConfig{Start: StartUnsandboxed(func() *exec.Cmd {
		return exec.Command(filepath.Join(t.TempDir(), "missing"))
	})}); err == nil {
		t.Fatal("a missing matcher binary started")
	}
	var starts atomic.Int32
	pm, err := NewProcessMatcher(ProcessMatcherConfig{Start: StartUnsandboxed(func() *exec.Cmd {
		starts.Add(1)
		return exec.Command(testMatcher(t), "crash")
	})})
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()
	_, srv := startGateway(t, Config{Matcher: pm})
	for range 6 {
		ev := fetchEvidence(t, srv.URL, newNonce(t))
		var eb protocol.ErrorBody
		if code := post(t, srv.URL, enrollBody(t, ev, sealCapture(t, ev, testImage(t, 3))), &eb); code != http.StatusServiceUnavailable {
			t.Fatalf("crashing matcher: %d %+v", code, eb)
		}
	}
	if n := starts.Load(); n > 4 {
		t.Errorf("%d starts for 6 quick uploads to a crashing matcher: no backoff", n)
	}
}

// ServeMatcher, the reference matcher's side of the protocol, refuses what a
// gateway must never send.
func TestServeMatcherRefuses(t *testing.T) {
	frame := func(s string) []byte {
		var b bytes.Buffer
		writeFrame(&b, []byte(s))
		return b.Bytes()
	}
	for name, in := range map[string][]byte{
		"unknown field": frame(`{"version":1,"id":1,"content_type":"image/jpeg","image":"","x":1}`),
		"version":       frame(`{"version":2,"id":1,"content_type":"image/jpeg","image":""}`),
		"oversized":     {0x01, 0, 0, 1},
		"truncated":     {0, 0, 0, 10, '{'},
	} {
		var out bytes.Buffer
		if err := ServeMatcher(bytes.NewReader(in), &out, NewReferenceMatcher()); err == nil || out.Len() != 0 {
			t.Errorf("%s: err %v, wrote %d bytes", name, err, out.Len())
		}
	}
	var out bytes.Buffer
	in := frame(`{"version":1,"id":7,"content_type":"image/png","image":"AAAA"}`)
	if err := ServeMatcher(bytes.NewReader(in), &out, NewReferenceMatcher()); err != nil {
		t.Fatal(err)
	}
	b, err := readFrame(&out, MaxMatcherResponse)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := parseMatcherResponse(b, 7); err != nil || resp.Status != MatcherBadImage {
		t.Fatalf("%s: %+v %v", b, resp, err)
	}
}

// In real mode nothing the matcher writes to stderr, nor its exit status,
// reaches the logs; in simulated mode a one-line excerpt does, marked.
func TestProcessMatcherStderr(t *testing.T) {
	for _, simulated := range []bool{false, true} {
		var starts atomic.Int32
		var logs lockedbuf.Buffer
		pm, err := NewProcessMatcher(ProcessMatcherConfig{
			Start:     firstThen(t, []string{"stderr-text"}, &starts),
			Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
			Simulated: simulated,
		})
		if err != nil {
			t.Fatal(err)
		}
		_, srv := startGateway(t, Config{Matcher: pm})
		ev := fetchEvidence(t, srv.URL, newNonce(t))
		var eb protocol.ErrorBody
		if code := post(t, srv.URL, enrollBody(t, ev, sealCapture(t, ev, testImage(t, 4))), &eb); code != http.StatusServiceUnavailable {
			t.Fatalf("simulated=%v: %d %+v", simulated, code, eb)
		}
		pm.Close()
		l := logs.Bytes()
		leaked := bytes.Contains(l, []byte("Alice")) || bytes.Contains(l, []byte("exit status 7"))
		if !simulated && leaked {
			t.Errorf("real mode: the matcher's stderr or exit status reached the logs:\n%s", l)
		}
		if !simulated && !bytes.Contains(l, []byte("wrote_stderr=true")) {
			t.Errorf("real mode: the log does not say the matcher wrote to stderr:\n%s", l)
		}
		if simulated && !bytes.Contains(l, []byte(`stderr_excerpt_simulated_mode_only="name=Alice Example, template=0badc0de"`)) {
			t.Errorf("simulated mode: no marked excerpt:\n%s", l)
		}
	}
}
