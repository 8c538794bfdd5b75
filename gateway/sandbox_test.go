package gateway

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/gateway/sandbox"
	"github.com/cvmtrust/cvmtrust/internal/lockedbuf"
	"github.com/cvmtrust/cvmtrust/protocol"
)

// hostileGateway runs a gateway whose matcher is the test matcher in mode
// (with arg) for its first process and honest after that, sandboxed or not.
func hostileGateway(t *testing.T, sandboxed bool, cfg sandbox.Config, args ...string) (string, *lockedbuf.Buffer, *atomic.Int32) {
	t.Helper()
	path := testMatcher(t)
	var starts atomic.Int32
	logs := &lockedbuf.Buffer{}
	start := func(stdin, stdout, stderr *os.File) (*exec.Cmd, error) {
		a := []string{"honest"}
		if starts.Add(1) == 1 {
			a = args
		}
		if !sandboxed {
			return StartUnsandboxed(func() *exec.Cmd { return exec.Command(path, a...) })(stdin, stdout, stderr)
		}
		c := cfg
		c.Path, c.Args = path, a
		return sandbox.Start(c, stdin, stdout, stderr)
	}
	pm, err := NewProcessMatcher(ProcessMatcherConfig{
		Start:     start,
		Timeout:   3 * time.Second,
		Logger:    slog.New(slog.NewTextHandler(logs, nil)),
		Simulated: true, // the simulated-mode details, to show they leak nothing either
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pm.Close() })
	_, srv := startGateway(t, Config{Matcher: pm})
	return srv.URL, logs, &starts
}

// upload enrolls img and returns the HTTP status and the receipt's status
// (or the error code).
func upload(t *testing.T, base string, img []byte) (int, string) {
	t.Helper()
	ev := fetchEvidence(t, base, newNonce(t))
	var out struct {
		protocol.Receipt
		Code string `json:"code"`
	}
	code := post(t, base, enrollBody(t, ev, sealCapture(t, ev, img)), &out)
	if code == http.StatusOK {
		return code, out.Status
	}
	return code, out.Code
}

// afterwards checks that the gateway serves an honest upload after the attack.
func afterwards(t *testing.T, base string) {
	t.Helper()
	if code, st := upload(t, base, testImage(t, 99)); code != http.StatusOK || st != protocol.StatusEnrolled {
		t.Fatalf("honest upload after the attack: %d %s", code, st)
	}
}

func requireSandbox(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the sandbox maps uid 65534 and needs root (CI runs as root)")
	}
	if m := sandbox.Missing(); len(m) > 0 {
		t.Fatalf("this kernel lacks sandbox layers %v: the sandbox tests cannot show them holding", m)
	}
}

// Each attack is first run unsandboxed, where it works (the control: the
// attack is real), then in the sandbox, where it is blocked, and the gateway
// then serves an honest upload.
func TestSandboxHoldsAgainstHostileMatcher(t *testing.T) {
	requireSandbox(t)
	img := testImage(t, 7)

	type attack struct {
		args    func(t *testing.T) []string
		control bool                   // run unsandboxed too, expecting success
		effect  func(t *testing.T) int // what reached the outside: 0 when blocked
	}
	// A TCP listener on loopback that counts the bytes it receives.
	tcpListener := func(t *testing.T) (string, *atomic.Int64) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		var got atomic.Int64
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				got.Add(1)
				go func() {
					b := make([]byte, 64<<10)
					for {
						n, err := c.Read(b)
						got.Add(int64(n))
						if err != nil {
							c.Close()
							return
						}
					}
				}()
			}
		}()
		return ln.Addr().String(), &got
	}
	udpListener := func(t *testing.T) (string, *atomic.Int64) {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		var got atomic.Int64
		go func() {
			b := make([]byte, 2048)
			for {
				n, _, err := pc.ReadFrom(b)
				if err != nil {
					return
				}
				got.Add(int64(n) + 1)
			}
		}()
		return pc.LocalAddr().String(), &got
	}
	// Directories anyone may write, so that only the sandbox stops a write.
	openDir := func(t *testing.T) string {
		d := t.TempDir()
		os.Chmod(d, 0o777)
		os.Chmod(filepath.Dir(d), 0o777)
		return d
	}

	for _, name := range []string{"tcp", "udp", "unix", "write", "dns", "environ", "mem", "ptrace", "fork", "exec", "execve", "env"} {
		t.Run(name, func(t *testing.T) {
			for _, sandboxed := range []bool{false, true} {
				var args []string
				var effect func() int64
				control := true
				switch name {
				case "tcp":
					addr, got := tcpListener(t)
					args, effect = []string{"tcp", addr}, got.Load
				case "udp":
					addr, got := udpListener(t)
					args, effect = []string{"udp", addr}, got.Load
				case "unix":
					// A short path: sun_path holds 108 bytes.
					d, err := os.MkdirTemp("", "us")
					if err != nil {
						t.Fatal(err)
					}
					os.Chmod(d, 0o777)
					t.Cleanup(func() { os.RemoveAll(d) })
					sock := filepath.Join(d, "s")
					ln, err := net.Listen("unix", sock)
					if err != nil {
						t.Fatal(err)
					}
					os.Chmod(sock, 0o777)
					t.Cleanup(func() { ln.Close() })
					var got atomic.Int64
					go func() {
						for {
							c, err := ln.Accept()
							if err != nil {
								return
							}
							got.Add(1)
							go func() { io.Copy(io.Discard, c); c.Close() }()
						}
					}()
					args, effect = []string{"unix", sock}, got.Load
				case "write":
					target := filepath.Join(openDir(t), "stolen.jpg")
					args = []string{"write", target}
					effect = func() int64 {
						if _, err := os.Stat(target); err == nil {
							return 1
						}
						return 0
					}
				case "environ", "mem", "ptrace":
					args = []string{name, strconv.Itoa(os.Getpid())}
					// Reading or tracing the test process as root always
					// works; ptrace would stop it. No control.
					control = false
				case "dns":
					args, control = []string{"dns"}, false // no resolver here either way
				default:
					args = []string{name}
				}
				if !sandboxed && !control {
					continue
				}
				base, logs, starts := hostileGateway(t, sandboxed, sandbox.Config{}, args...)
				code, st := upload(t, base, img)
				if n := starts.Load(); n != 1 && name != "execve" {
					t.Fatalf("sandboxed=%v: the attacking matcher was replaced before it answered (%d starts, %d %s)\n%s", sandboxed, n, code, st, logs.Bytes())
				}
				time.Sleep(100 * time.Millisecond) // let a datagram or connection land
				if !sandboxed && name == "execve" {
					// Replaced by a shell, the matcher stops answering.
					if code != http.StatusServiceUnavailable {
						t.Fatalf("control: execve unsandboxed gave %d %s, want the process replaced (503)", code, st)
					}
					continue
				}
				if !sandboxed {
					if code != http.StatusOK || st != protocol.StatusEnrolled || effect != nil && effect() == 0 {
						t.Fatalf("control: the attack does not work even unsandboxed (%d %s); the test proves nothing", code, st)
					}
					continue
				}
				// Blocked: the matcher says so with the one bit it has, and
				// nothing reached the outside.
				if code != http.StatusUnprocessableEntity || st != CodeBadImage {
					t.Errorf("sandboxed: %d %s, want the attack to fail (422 bad_image)", code, st)
				}
				if effect != nil {
					if n := effect(); n != 0 {
						t.Errorf("sandboxed: %d bytes or connections reached the outside", n)
					}
				}
				if bytes.Contains(logs.Bytes(), []byte("ENVIRON")) {
					t.Errorf("the gateway's environment reached the logs")
				}
				afterwards(t, base)
			}
		})
	}
}

// Attacks on resources are contained: the matcher is killed, that upload is
// 503 matcher_unavailable, and the next one is served by a new process.
func TestSandboxContainsResourceAbuse(t *testing.T) {
	requireSandbox(t)
	img := testImage(t, 8)
	for _, mode := range []string{"alloc", "loop", "stdout-flood"} {
		t.Run(mode, func(t *testing.T) {
			// The alloc mode touches 2 GiB; the default limit is 1 GiB.
			base, _, starts := hostileGateway(t, true, sandbox.Config{}, mode)
			t0 := time.Now()
			code, st := upload(t, base, img)
			if code != http.StatusServiceUnavailable || st != CodeMatcherDown {
				t.Fatalf("%s: %d %s, want 503 %s", mode, code, st, CodeMatcherDown)
			}
			t.Logf("%s: contained in %v", mode, time.Since(t0).Round(time.Millisecond))
			afterwards(t, base)
			if n := starts.Load(); n != 2 {
				t.Errorf("%d matcher starts, want 2", n)
			}
		})
	}
}

// The image copied to stderr never reaches the logs, not even through the
// simulated-mode excerpt.
func TestSandboxStderrKeepsImageOutOfLogs(t *testing.T) {
	requireSandbox(t)
	img := testImage(t, 9)
	base, logs, _ := hostileGateway(t, true, sandbox.Config{}, "stderr-image")
	if code, st := upload(t, base, img); code != http.StatusOK {
		t.Fatalf("%d %s", code, st)
	}
	afterwards(t, base)
	// Closing the gateway's matcher makes it log the stderr summary.
	time.Sleep(100 * time.Millisecond)
	l := logs.Bytes()
	for i := 0; i+16 <= len(img); i += 16 {
		if bytes.Contains(l, img[i:i+16]) {
			t.Fatalf("image bytes at offset %d are in the logs", i)
		}
	}
}

// sandboxedReference is the reference matcher as cvmtrust runs it by
// default: this binary re-executed as `matcher` in the sandbox.
func sandboxedReference(tb testing.TB) *ProcessMatcher {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cfg := sandbox.Config{Path: self, Args: []string{"matcher"}}
	pm, err := NewProcessMatcher(ProcessMatcherConfig{Start: func(stdin, stdout, stderr *os.File) (*exec.Cmd, error) {
		return sandbox.Start(cfg, stdin, stdout, stderr)
	}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pm.Close() })
	return pm
}

// The end-to-end flow through the sandboxed reference matcher: a new person
// is enrolled, the same person again is already enrolled, another is new,
// and every receipt checks with its upload's key.
func TestEndToEndSandboxed(t *testing.T) {
	requireSandbox(t)
	_, srv := startGateway(t, Config{Matcher: sandboxedReference(t)})
	for i, c := range []struct {
		seed int64
		want string
	}{{1, protocol.StatusEnrolled}, {1, protocol.StatusAlreadyEnrolled}, {2, protocol.StatusEnrolled}} {
		ev := fetchEvidence(t, srv.URL, newNonce(t))
		ct, key := sealCaptureKey(t, ev, testImage(t, c.seed))
		var rc protocol.Receipt
		if code := post(t, srv.URL, enrollBody(t, ev, ct), &rc); code != http.StatusOK || rc.Status != c.want {
			t.Fatalf("upload %d: %d %+v, want %s", i, code, rc, c.want)
		}
		if err := protocol.VerifyReceipt(key, rc); err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	// A blank frame is refused by the matcher in the sandbox: 422.
	ev := fetchEvidence(t, srv.URL, newNonce(t))
	var eb protocol.ErrorBody
	if code := post(t, srv.URL, enrollBody(t, ev, sealCapture(t, ev, blankJPEG(t))), &eb); code != http.StatusUnprocessableEntity || eb.Code != CodeBadImage {
		t.Fatalf("blank frame: %d %+v", code, eb)
	}
}

// Each layer holds on its own: the attack is run with every other layer
// that could stop it left out (SkipLayersUnsafe), and is still blocked;
// with all of them left out, it works, so the test shows what each layer
// adds.
func TestSandboxEachLayerHoldsAlone(t *testing.T) {
	requireSandbox(t)
	img := testImage(t, 11)
	type setup struct {
		args   []string
		effect func() int64 // what reached the outside
	}
	tcp := func(t *testing.T) setup {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		var got atomic.Int64
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				got.Add(1)
				go func() { io.Copy(io.Discard, c); c.Close() }()
			}
		}()
		return setup{[]string{"tcp", ln.Addr().String()}, got.Load}
	}
	write := func(t *testing.T) setup {
		d, err := os.MkdirTemp("", "wr")
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o777)
		t.Cleanup(func() { os.RemoveAll(d) })
		target := filepath.Join(d, "stolen.jpg")
		return setup{[]string{"write", target}, func() int64 {
			st, err := os.Stat(target)
			if err != nil {
				return 0
			}
			return st.Size() // FSIZE 0 lets the file be created, empty
		}}
	}
	plain := func(mode string) func(*testing.T) setup {
		return func(*testing.T) setup { return setup{args: []string{mode}} }
	}
	for _, c := range []struct {
		attack string
		setup  func(*testing.T) setup
		layers []string // every layer that stops this attack
	}{
		{"tcp", tcp, []string{"network", "seccomp", "landlock"}},
		{"write", write, []string{"landlock", "rlimits"}},
		{"fork", plain("fork"), []string{"seccomp"}},
		{"execve", plain("execve"), []string{"landlock"}},
		{"env", plain("env"), []string{"environment"}},
	} {
		// All of them left out: the attack works (the control).
		t.Run(c.attack+"/none", func(t *testing.T) {
			s := c.setup(t)
			base, _, _ := hostileGateway(t, true, sandbox.Config{SkipLayersUnsafe: c.layers}, s.args...)
			code, st := upload(t, base, img)
			time.Sleep(50 * time.Millisecond)
			worked := code == http.StatusOK && st == protocol.StatusEnrolled && (s.effect == nil || s.effect() > 0)
			if c.attack == "execve" {
				worked = code == http.StatusServiceUnavailable // replaced by a shell
			}
			if !worked {
				t.Fatalf("without %v the attack should work: %d %s", c.layers, code, st)
			}
		})
		for _, keep := range c.layers {
			t.Run(c.attack+"/"+keep, func(t *testing.T) {
				s := c.setup(t)
				var skip []string
				for _, l := range c.layers {
					if l != keep {
						skip = append(skip, l)
					}
				}
				base, _, _ := hostileGateway(t, true, sandbox.Config{SkipLayersUnsafe: skip}, s.args...)
				code, st := upload(t, base, img)
				time.Sleep(50 * time.Millisecond)
				if code != http.StatusUnprocessableEntity || st != CodeBadImage {
					t.Errorf("%s alone: %d %s, want the attack blocked (422)", keep, code, st)
				}
				if s.effect != nil && s.effect() != 0 {
					t.Errorf("%s alone: %d bytes or connections got out", keep, s.effect())
				}
				afterwards(t, base)
			})
		}
	}
	if _, err := sandbox.Start(sandbox.Config{Path: testMatcher(t), SkipLayersUnsafe: []string{"no-such-layer"}}, nil, nil, nil); err == nil {
		t.Error("an unknown layer name was accepted")
	}
}
