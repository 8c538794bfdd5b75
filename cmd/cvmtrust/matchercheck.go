package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cvmtrust/cvmtrust/gateway"
	"github.com/cvmtrust/cvmtrust/gateway/sandbox"
	"github.com/cvmtrust/cvmtrust/protocol"
)

func init() {
	register("matcher-check", "check a matcher program against matcher protocol v1, in the gateway's sandbox", runMatcherCheck)
}

const matcherCheckUsage = `usage: cvmtrust matcher-check [flags] PATH

Runs the matcher program PATH the way cvmtrust gateway does (in the same
sandbox, through the same protocol code) and checks that it keeps matcher
protocol v1: it starts inside every sandbox layer, answers each request in
time with a well-formed frame and the right id, refuses what is not an image
(bad_image) without dying, and handles a capture near the size limit. With
--image, it also checks that the same capture sent twice is enrolled, then
already_enrolled. Prints one line per check; exit 0 when all pass.

flags:
`

func runMatcherCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("matcher-check", matcherCheckUsage, stderr)
	var matcherArgs, ro, images []string
	fs.Func("matcher-arg", "an `argument` for the matcher; repeatable", func(s string) error { matcherArgs = append(matcherArgs, s); return nil })
	fs.Func("matcher-ro", "a `path` the matcher may read; repeatable", func(s string) error { ro = append(ro, s); return nil })
	fs.Func("image", "a JPEG or PNG `file` the matcher should enroll (a face, for a face matcher); repeatable", func(s string) error {
		images = append(images, s)
		return nil
	})
	timeout := fs.Duration("timeout", gateway.DefaultMatcherTimeout, "the per-capture timeout, as --matcher-timeout of the gateway")
	memory := fs.Uint64("memory", sandbox.DefaultMemory, "the memory limit in `bytes`, as --matcher-memory of the gateway")
	unsandboxed := fs.Bool("unsandboxed", false, "run the matcher without the sandbox (protocol checks only; for machines where the sandbox cannot run)")
	// PATH is positional, after the flags.
	usage := fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		fs.PrintDefaults()
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "matcher-check: %v\n", err)
		return exitUsage
	case fs.NArg() != 1:
		fmt.Fprintln(stderr, "matcher-check: give the matcher program's path, after the flags")
		return exitUsage
	}
	path := fs.Arg(0)
	var imgs [][]byte
	for _, f := range images {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "cvmtrust matcher-check: %v\n", err)
			return exitUsage
		}
		imgs = append(imgs, b)
	}

	var starts atomic.Int32
	var logs bytes.Buffer // written only while the checks hold the matcher
	cfg := sandbox.Config{Path: path, Args: matcherArgs, ReadOnly: ro, Memory: *memory}
	start := func(stdin, out, errw *os.File) (*exec.Cmd, error) {
		starts.Add(1)
		if *unsandboxed {
			return gateway.StartUnsandboxed(func() *exec.Cmd { return exec.Command(path, matcherArgs...) })(stdin, out, errw)
		}
		return sandbox.Start(cfg, stdin, out, errw)
	}
	failed := 0
	report := func(ok bool, what, detail string) {
		mark := "ok  "
		if !ok {
			mark = "FAIL"
			failed++
		}
		if detail != "" {
			what += ": " + detail
		}
		fmt.Fprintf(stdout, "%s %s\n", mark, what)
	}
	var pm *gateway.ProcessMatcher
	if *unsandboxed {
		fmt.Fprintln(stdout, "note UNSANDBOXED: protocol checks only; the gateway always runs the matcher in its sandbox")
	} else if m := sandbox.Missing(); len(m) > 0 || os.Geteuid() != 0 {
		fmt.Fprintf(stderr, "cvmtrust matcher-check: the sandbox cannot run here (root needed; missing %v); use --unsandboxed for the protocol checks\n", m)
		return exitUsage
	}
	pm, err = gateway.NewProcessMatcher(gateway.ProcessMatcherConfig{
		Start:   start,
		Timeout: *timeout,
		Logger:  slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		// A vendor checking their own matcher sees the details.
		Simulated: true,
	})
	report(err == nil, "starts in the sandbox", errString(err))
	if err != nil {
		return exitRejected
	}
	defer pm.Close()

	// reason is the gateway's own account of the last violation.
	reason := func() string {
		for l := range strings.SplitSeq(logs.String(), "\n") {
			if i := strings.Index(l, "reason="); i >= 0 {
				logs.Reset()
				return l[i+len("reason="):]
			}
		}
		logs.Reset()
		return ""
	}
	enroll := func(what, ct string, img []byte, want ...string) string {
		before := starts.Load()
		t0 := time.Now()
		already, err := pm.Enroll(context.Background(), protocol.Capture{ContentType: ct, Image: img})
		status := gateway.MatcherEnrolled
		switch {
		case errors.Is(err, gateway.ErrBadImage):
			status = gateway.MatcherBadImage
		case errors.Is(err, gateway.ErrMatcherUnavailable):
			report(false, what, "the matcher broke the protocol and was killed: "+reason())
			return ""
		case err != nil:
			report(false, what, err.Error())
			return ""
		case already:
			status = gateway.MatcherAlreadyEnrolled
		}
		detail := fmt.Sprintf("%s in %v", status, time.Since(t0).Round(time.Millisecond))
		ok := len(want) == 0
		for _, w := range want {
			ok = ok || status == w
		}
		if !ok {
			detail += ", want " + strings.Join(want, " or ")
		}
		if starts.Load() != before {
			ok, detail = false, detail+"; the process had exited and was restarted"
		}
		report(ok, what, detail)
		return status
	}
	enroll("answers a JPEG capture", "image/jpeg", checkImage(false))
	enroll("answers a PNG capture", "image/png", checkImage(true))
	enroll("refuses bytes that are not an image", "image/jpeg", []byte("this is not a JPEG"), gateway.MatcherBadImage)
	enroll("refuses an empty image", "image/jpeg", nil, gateway.MatcherBadImage)
	enroll("refuses a truncated JPEG", "image/jpeg", checkImage(false)[:100], gateway.MatcherBadImage)
	// About 11 MiB of image: a 15 MiB frame, under the 16 MiB cap.
	enroll("answers a capture near the frame size limit", "image/jpeg", bytes.Repeat([]byte{0xff}, 11<<20))
	for i, img := range imgs {
		ct := "image/jpeg"
		if bytes.HasPrefix(img, []byte("\x89PNG")) {
			ct = "image/png"
		}
		enroll(fmt.Sprintf("enrolls --image %s", images[i]), ct, img, gateway.MatcherEnrolled)
		enroll(fmt.Sprintf("the same --image %s again is already enrolled", images[i]), ct, img, gateway.MatcherAlreadyEnrolled)
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d check(s) failed\n", failed)
		return exitRejected
	}
	fmt.Fprintln(stdout, "all checks passed")
	return exitOK
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checkImage is a 64×64 pattern, as JPEG or PNG.
func checkImage(asPNG bool) []byte {
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.SetGray(x, y, color.Gray{Y: byte((x/8)*37 + (y/8)*91)})
		}
	}
	var b bytes.Buffer
	if asPNG {
		png.Encode(&b, img)
	} else {
		jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	}
	return b.Bytes()
}
