// Command widgetgateway runs the simulated gateway for the widget's browser
// tests, with two test-only additions the real command must not have:
//
//   - it writes the picture the fake camera shows (a Y4M file for Chromium's
//     --use-file-for-fake-video-capture), so the test knows what was filmed;
//   - GET /test/templates reports the reference matcher's stored templates
//     beside the template of that picture, so the test can check that what
//     the gateway stored came from the camera and nothing else.
//
// Usage: widgetgateway --static web --camera-y4m FILE [--listen 127.0.0.1:0] [--release-manifest FILE]
// [--tls-key-sha256 HEX] [--old-firmware]
// It prints "open URL" on stdout once it listens.
//
// The reference matcher runs in the matcher sandbox, as cvmtrust gateway
// --simulated runs it (this binary re-executed as `widgetgateway matcher`);
// layers the machine cannot set up (not root, an old kernel) are left out
// and named on stderr. /test/templates lists the templates of the captures
// the gateway handed to the matcher and that the matcher enrolled.
package main

import (
	"encoding/hex"
	"github.com/cvmtrust/cvmtrust/measure"
	sigsim "github.com/cvmtrust/cvmtrust/sigstore/simulated"
	"github.com/google/go-sev-guest/kds"

	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"

	"github.com/cvmtrust/cvmtrust/gateway"
	"github.com/cvmtrust/cvmtrust/gateway/sandbox"
	"github.com/cvmtrust/cvmtrust/gateway/simulated"
	"github.com/cvmtrust/cvmtrust/protocol"
)

// The picture is a grid of bright and dark blocks aligned with the matcher's
// 16×16 template grid, so every template cell is far from the mean and the
// template survives video scaling and JPEG encoding.
const (
	width, height = 320, 240
	dark, bright  = 40, 215
)

func picture(seed uint32) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, width, height))
	x := seed
	cell := make([]bool, gateway.TemplateSide*gateway.TemplateSide)
	for i := range cell {
		// xorshift32: a fixed pattern for a fixed seed.
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		cell[i] = x&1 == 1
	}
	for y := 0; y < height; y++ {
		for xx := 0; xx < width; xx++ {
			i := (y*gateway.TemplateSide/height)*gateway.TemplateSide + xx*gateway.TemplateSide/width
			v := uint8(dark)
			if cell[i] {
				v = bright
			}
			img.SetGray(xx, y, color.Gray{Y: v})
		}
	}
	return img
}

// writeY4M writes img as a two-frame 4:2:0 Y4M with neutral chroma.
func writeY4M(path string, img *image.Gray) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg\n", width, height)
	chroma := bytes.Repeat([]byte{128}, (width/2)*(height/2))
	for range 2 {
		b.WriteString("FRAME\n")
		b.Write(img.Pix)
		b.Write(chroma)
		b.Write(chroma)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func templateOf(img *image.Gray) (gateway.Template, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return gateway.Template{}, err
	}
	return gateway.TemplateOf(b.Bytes())
}

func templateHex(t gateway.Template) string {
	var b []byte
	for _, w := range t {
		b = fmt.Appendf(b, "%016x", w)
	}
	return string(b)
}

// recordingMatcher passes captures on and records the template of each one
// the matcher enrolled, so the test can see what the gateway handed over
// even when the matcher's own memory is inside the sandbox.
type recordingMatcher struct {
	next gateway.Matcher
	mu   sync.Mutex
	seen []gateway.Template
}

func (m *recordingMatcher) Enroll(ctx context.Context, c protocol.Capture) (bool, error) {
	already, err := m.next.Enroll(ctx, c)
	if err == nil && !already {
		if t, terr := gateway.TemplateOf(c.Image); terr == nil {
			m.mu.Lock()
			m.seen = append(m.seen, t)
			m.mu.Unlock()
		}
	}
	return already, err
}

func (m *recordingMatcher) Templates() []gateway.Template {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]gateway.Template(nil), m.seen...)
}

// newMatcher starts the sandboxed reference matcher.
func newMatcher() (gateway.Matcher, error) {
	if missing := sandbox.Missing(); len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "widgetgateway: the matcher runs without these sandbox layers: %v\n", missing)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cfg := sandbox.Config{Path: self, Args: []string{"matcher"}, AllowMissing: true}
	return gateway.NewProcessMatcher(gateway.ProcessMatcherConfig{
		Start: func(stdin, stdout, stderr *os.File) (*exec.Cmd, error) {
			return sandbox.Start(cfg, stdin, stdout, stderr)
		},
		Simulated: true,
	})
}

func main() {
	sandbox.RunLauncherIfRequested()
	if len(os.Args) == 2 && os.Args[1] == "matcher" {
		if err := gateway.ServeMatcher(os.Stdin, os.Stdout, gateway.NewReferenceMatcher()); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	static := flag.String("static", "web", "directory served at /")
	y4m := flag.String("camera-y4m", "", "write the fake camera's picture to this Y4M file")
	releaseManifest := flag.String("release-manifest", "measure/testdata/demo-release.json",
		"run this release (report its measurement), and sign its manifest with a SIMULATED Sigstore instance and serve it as cvmtrust gateway --sim-release-manifest does")
	tlsKey := flag.String("tls-key-sha256", "", "serve evidence protocol v2 binding this TLS key hash (64 hex digits); the test serves plain HTTP, as a page cannot see the TLS key anyway")
	oldFirmware := flag.Bool("old-firmware", false, "simulate a Milan platform on firmware from before AMD-SB-3019's fix (bl=3 snp=8 ucode=115), below the bulletins' floor")
	flag.Parse()
	var tlsKeyHash []byte
	if *tlsKey != "" {
		var err error
		if tlsKeyHash, err = hex.DecodeString(*tlsKey); err != nil {
			fatal(err)
		}
	}

	camera, other := picture(0x9e3779b9), picture(0x85ebca6b)
	if *y4m != "" {
		if err := writeY4M(*y4m, camera); err != nil {
			fatal(err)
		}
	}
	cameraT, err := templateOf(camera)
	if err != nil {
		fatal(err)
	}
	otherT, err := templateOf(other)
	if err != nil {
		fatal(err)
	}

	m, err := readManifest(*releaseManifest)
	if err != nil {
		fatal(err)
	}
	// The gateway runs the release it serves: its reports carry that release's measurement.
	opts := simulated.Options{Measurement: m.Measurement[:]}
	if *oldFirmware {
		opts.TCB = &kds.TCBParts{BlSpl: 3, SnpSpl: 8, UcodeSpl: 115}
	}
	src, err := simulated.New(opts)
	if err != nil {
		fatal(err)
	}
	inner, err := newMatcher()
	if err != nil {
		fatal(err)
	}
	matcher := &recordingMatcher{next: inner}
	g, err := gateway.New(gateway.Config{Source: src, Matcher: matcher, StaticDir: *static, TLSKeySHA256: tlsKeyHash})
	if err != nil {
		fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", g)
	if err := serveSignedRelease(mux, m); err != nil {
		fatal(err)
	}
	mux.HandleFunc("GET /test/templates", func(w http.ResponseWriter, r *http.Request) {
		stored := []string{}
		for _, t := range matcher.Templates() {
			stored = append(stored, templateHex(t))
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"stored":    stored,
			"camera":    templateHex(cameraT),
			"other":     templateHex(otherT),
			"threshold": gateway.DefaultThreshold,
		})
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fatal(err)
	}
	fmt.Printf("open http://%s/\n", ln.Addr())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		os.Exit(0)
	}()
	fatal(http.Serve(ln, mux))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "widgetgateway:", err)
	os.Exit(2)
}

func readManifest(path string) (*measure.Manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return measure.ParseManifest(raw)
}

// serveSignedRelease signs the release manifest m with a simulated Sigstore
// instance and serves the bundle and the instance's trusted root where the
// demo page looks for them (see cmd/cvmtrust/gateway_release.go).
func serveSignedRelease(mux *http.ServeMux, m *measure.Manifest) error {
	bundle, root, err := sigsim.SignRelease(m)
	if err != nil {
		return err
	}
	for p, body := range map[string][]byte{"/release/bundle.sigstore.json": bundle, "/simulated/sigstore-trusted-root.json": root} {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
	}
	return nil
}
