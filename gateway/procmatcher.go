package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/cvmtrust/cvmtrust/protocol"
)

// ErrMatcherUnavailable is returned by ProcessMatcher when the matcher
// process broke the protocol, crashed or timed out (it was killed and is
// being restarted), or cannot be started. The gateway answers 503
// matcher_unavailable and stores nothing.
var ErrMatcherUnavailable = errors.New("the matcher is unavailable")

// Defaults of ProcessMatcherConfig.
const (
	DefaultMatcherTimeout = 10 * time.Second
	maxRestartBackoff     = 5 * time.Second
	// stderrExcerptBytes caps the simulated-mode excerpt of a matcher's stderr.
	stderrExcerptBytes = 160
)

// ProcessMatcherConfig configures a ProcessMatcher.
type ProcessMatcherConfig struct {
	// Start starts a fresh matcher process with the given standard streams
	// and returns it running: usually sandbox.Start, which returns only
	// once the matcher runs inside every layer. Required.
	Start func(stdin, stdout, stderr *os.File) (*exec.Cmd, error)
	// Timeout bounds one request, from sending the image to the answer.
	// Zero: DefaultMatcherTimeout.
	Timeout time.Duration
	// Logger receives the matcher's exits and violations, never its output.
	Logger *slog.Logger
	// Simulated lets the log show the matcher's exit status, how many bytes
	// it wrote to stderr, and the first line of its stderr (at most 160
	// bytes, printable ASCII only, marked as such). For simulated mode only:
	// in real mode the log says only that the matcher exited and whether it
	// wrote to stderr, since a matcher could encode data in any detail that
	// reaches the operator's logs.
	Simulated bool
}

// StartUnsandboxed returns a ProcessMatcherConfig.Start that runs the
// command newCmd makes, as it is: for tests and for a matcher that is
// sandboxed by other means.
func StartUnsandboxed(newCmd func() *exec.Cmd) func(stdin, stdout, stderr *os.File) (*exec.Cmd, error) {
	return func(stdin, stdout, stderr *os.File) (*exec.Cmd, error) {
		cmd := newCmd()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return cmd, nil
	}
}

// ProcessMatcher is a Matcher that speaks matcher protocol v1 to a child
// process. It sends one request at a time. Any violation (a bad frame, a
// wrong id, an unknown field or status, an oversized answer, a timeout) or
// exit kills the process; that upload gets ErrMatcherUnavailable, and a new
// process is started for the next one (at once, then with a backoff up to
// 5 s while restarts keep failing).
type ProcessMatcher struct {
	cfg ProcessMatcherConfig
	log *slog.Logger

	mu        sync.Mutex // one request at a time; guards the fields below
	proc      *matcherProc
	nextID    uint64
	failures  int       // consecutive failed starts or requests
	notBefore time.Time // no restart before this
	closed    bool
}

// matcherProc is one running matcher process.
type matcherProc struct {
	cmd    *exec.Cmd
	stdin  *os.File
	stdout *os.File
	exited chan struct{} // closed once the process is reaped
}

// NewProcessMatcher starts the matcher process, so that a matcher that
// cannot start is an error at start-up rather than at the first upload.
func NewProcessMatcher(cfg ProcessMatcherConfig) (*ProcessMatcher, error) {
	if cfg.Start == nil {
		return nil, errors.New("gateway: ProcessMatcherConfig.Start is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultMatcherTimeout
	}
	p := &ProcessMatcher{cfg: cfg, log: cfg.Logger}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	proc, err := p.start()
	if err != nil {
		return nil, err
	}
	p.proc = proc
	return p, nil
}

func (p *ProcessMatcher) start() (*matcherProc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd, err := p.cfg.Start(inR, outW, errW)
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("gateway: starting the matcher: %w", err)
	}
	proc := &matcherProc{cmd: cmd, stdin: inW, stdout: outR, exited: make(chan struct{})}
	stderrDone := make(chan stderrSummary, 1)
	go func() { stderrDone <- drainStderr(errR) }()
	go func() {
		err := cmd.Wait()
		se := <-stderrDone
		attrs := []any{"pid", cmd.Process.Pid, "wrote_stderr", se.total > 0}
		if p.cfg.Simulated {
			attrs = append(attrs, "exit", exitDescription(err), "stderr_bytes", se.total)
			if se.excerpt != "" {
				attrs = append(attrs, "stderr_excerpt_simulated_mode_only", se.excerpt)
			}
		}
		p.log.Warn("matcher process exited", attrs...)
		// Closed after the log line, so whoever waits for the exit (discard,
		// Close) finds it written.
		close(proc.exited)
	}()
	p.log.Info("matcher process started", "pid", cmd.Process.Pid)
	return proc, nil
}

// stderrSummary is all the gateway keeps of a matcher's stderr.
type stderrSummary struct {
	total   int64
	excerpt string
}

// drainStderr reads the matcher's stderr to its end, keeping only the count
// and, when the first line is short printable ASCII, that line. Anything
// else (image bytes, binary) is never kept.
func drainStderr(f *os.File) stderrSummary {
	defer f.Close()
	var s stderrSummary
	head := make([]byte, 0, stderrExcerptBytes)
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if len(head) < cap(head) {
			head = append(head, buf[:min(n, cap(head)-len(head))]...)
		}
		s.total += int64(n)
		clear(buf[:n])
		if err != nil {
			break
		}
	}
	line := head
	for i, c := range head {
		if c == '\n' {
			line = head[:i]
			break
		}
	}
	printable := len(line) > 0 && (len(line) < len(head) || s.total < stderrExcerptBytes)
	for _, c := range line {
		if c < 0x20 || c > 0x7e {
			printable = false
			break
		}
	}
	if printable {
		s.excerpt = string(line)
	}
	clear(head)
	return s
}

func exitDescription(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// Enroll implements Matcher.
func (p *ProcessMatcher) Enroll(ctx context.Context, c protocol.Capture) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if p.closed {
		return false, ErrMatcherUnavailable
	}
	if p.proc != nil {
		select {
		case <-p.proc.exited:
			p.discardLocked("the process exited between requests")
		default:
		}
	}
	if p.proc == nil {
		if time.Now().Before(p.notBefore) {
			return false, ErrMatcherUnavailable
		}
		proc, err := p.start()
		if err != nil {
			p.log.Error("matcher restart failed", "err", err)
			p.failedLocked()
			return false, ErrMatcherUnavailable
		}
		p.proc = proc
	}
	p.nextID++
	id := p.nextID
	req, err := json.Marshal(MatcherRequest{Version: MatcherProtocolVersion, ID: id, ContentType: c.ContentType, Image: c.Image})
	if err != nil {
		return false, err
	}
	defer clear(req)
	if len(req) > MaxMatcherRequest {
		return false, fmt.Errorf("%w: the capture is too large for the matcher", ErrBadImage)
	}
	status, err := p.exchangeLocked(req, id)
	if err != nil {
		if p.cfg.Simulated {
			p.log.Warn("matcher killed", "reason", err.Error())
		} else {
			p.log.Warn("matcher killed", "reason", violationKind(err))
		}
		p.discardLocked("")
		p.failedLocked()
		// Restart now, so the next upload finds a process ready, unless
		// restarts keep failing.
		if !time.Now().Before(p.notBefore) {
			if proc, err := p.start(); err == nil {
				p.proc = proc
			} else {
				p.log.Error("matcher restart failed", "err", err)
			}
		}
		return false, ErrMatcherUnavailable
	}
	p.failures = 0
	switch status {
	case MatcherAlreadyEnrolled:
		return true, nil
	case MatcherBadImage:
		return false, fmt.Errorf("%w: the matcher could not use it", ErrBadImage)
	}
	return false, nil
}

// violationKind names a failed exchange with fixed words only.
func violationKind(err error) string {
	var v violation
	switch {
	case errors.As(err, &v):
		return string(v)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the process closed its output"
	}
	return "the pipe to the process failed"
}

// exchangeLocked sends one request and reads its answer within the timeout.
func (p *ProcessMatcher) exchangeLocked(req []byte, id uint64) (string, error) {
	deadline := time.Now().Add(p.cfg.Timeout)
	p.proc.stdin.SetWriteDeadline(deadline)
	p.proc.stdout.SetReadDeadline(deadline)
	if err := writeFrame(p.proc.stdin, req); err != nil {
		return "", fmt.Errorf("sending the request: %w", err)
	}
	b, err := readFrame(p.proc.stdout, MaxMatcherResponse)
	if err != nil {
		return "", fmt.Errorf("reading the answer: %w", err)
	}
	resp, err := parseMatcherResponse(b, id)
	if err != nil {
		return "", err
	}
	return resp.Status, nil
}

// discardLocked kills the current process and forgets it.
func (p *ProcessMatcher) discardLocked(why string) {
	if p.proc == nil {
		return
	}
	if why != "" {
		p.log.Warn("matcher process lost", "reason", why)
	}
	p.proc.cmd.Process.Kill()
	p.proc.stdin.Close()
	p.proc.stdout.Close()
	<-p.proc.exited
	p.proc = nil
}

// failedLocked counts a failure and sets the backoff for the next start:
// none after the first failure, then 100 ms doubling up to 5 s.
func (p *ProcessMatcher) failedLocked() {
	p.failures++
	if p.failures > 1 {
		d := min(100*time.Millisecond<<min(p.failures-2, 10), maxRestartBackoff)
		p.notBefore = time.Now().Add(d)
	}
}

// Close kills the matcher process.
func (p *ProcessMatcher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.discardLocked("")
	return nil
}
