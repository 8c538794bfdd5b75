package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // captures are JPEG
	_ "image/png"  // and PNG is accepted for tests and tools
	"math/bits"
	"runtime"
	"sync"

	"github.com/cvmtrust/cvmtrust/protocol"
)

// Matcher is the biometric service behind the gateway. It receives the
// decrypted capture, inside the CVM, and says whether this person is new.
// It must be safe for concurrent use and must not keep the image itself.
type Matcher interface {
	// Enroll derives a template from the capture and stores it unless an
	// equivalent template is already enrolled. It returns ErrBadImage (or an
	// error wrapping it) when the capture cannot be used; then nothing is
	// stored.
	Enroll(ctx context.Context, c protocol.Capture) (alreadyEnrolled bool, err error)
}

// ErrBadImage is returned by a Matcher for a capture it cannot use.
var ErrBadImage = errors.New("capture image not usable")

// Limits of the reference matcher: a capture larger than this is refused
// before it is decoded, so a small file cannot claim a huge bitmap.
// MaxDecodedBytes bounds the decoded bitmap, from the header's size and
// pixel format: a 16-bit RGBA PNG takes 8 bytes a pixel, a grayscale JPEG 1.
const (
	MaxImageSide    = 8192
	MaxImagePixels  = 24 << 20
	MaxDecodedBytes = 64 << 20
)

// decoders bounds how many images are decoded at once, so concurrency does
// not multiply MaxDecodedBytes past the number of CPUs.
var decoders = make(chan struct{}, runtime.GOMAXPROCS(0))

// bytesPerPixel is what the standard decoders allocate per pixel for a
// colour model (YCbCr counted as 4:4:4, the largest).
func bytesPerPixel(m color.Model) int {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8 // RGBA64, NRGBA64 and anything unknown: the largest
}

// TemplateSide is the side of the grayscale grid a Template is derived from.
const TemplateSide = 16

// Template is the reference matcher's template: a perceptual hash. The image
// is reduced to a TemplateSide×TemplateSide grayscale grid by area
// averaging, and bit i is set when cell i is brighter than the grid's mean.
// Near-identical images (re-encoded, slightly rescaled) give templates a few
// bits apart.
type Template [TemplateSide * TemplateSide / 64]uint64

// Distance is the number of differing bits.
func (t Template) Distance(u Template) int {
	n := 0
	for i := range t {
		n += bits.OnesCount64(t[i] ^ u[i])
	}
	return n
}

// TemplateOf decodes a JPEG or PNG image and derives its Template. A
// featureless image (every cell the same) has no template.
func TemplateOf(img []byte) (Template, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		return Template{}, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	if cfg.Width < TemplateSide || cfg.Height < TemplateSide ||
		cfg.Width > MaxImageSide || cfg.Height > MaxImageSide || cfg.Width*cfg.Height > MaxImagePixels {
		return Template{}, fmt.Errorf("%w: %d×%d pixels is out of range", ErrBadImage, cfg.Width, cfg.Height)
	}
	if n := int64(cfg.Width) * int64(cfg.Height) * int64(bytesPerPixel(cfg.ColorModel)); n > MaxDecodedBytes {
		return Template{}, fmt.Errorf("%w: %d×%d pixels would take %d MiB decoded, over %d MiB", ErrBadImage, cfg.Width, cfg.Height, n>>20, MaxDecodedBytes>>20)
	}
	decoders <- struct{}{}
	defer func() { <-decoders }()
	m, _, err := image.Decode(bytes.NewReader(img))
	if err != nil {
		return Template{}, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	var sum [TemplateSide * TemplateSide]uint64
	var count [TemplateSide * TemplateSide]uint64
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := (y - b.Min.Y) * TemplateSide / h * TemplateSide
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := m.At(x, y).RGBA()
			// ITU-R BT.601 luma, on 16-bit channels.
			luma := (299*uint64(r) + 587*uint64(g) + 114*uint64(bl)) / 1000
			cell := row + (x-b.Min.X)*TemplateSide/w
			sum[cell] += luma
			count[cell]++
		}
	}
	var grid [TemplateSide * TemplateSide]uint64
	var total uint64
	for i := range grid {
		grid[i] = sum[i] / count[i]
		total += grid[i]
	}
	mean := total / uint64(len(grid))
	var t Template
	lo, hi := grid[0], grid[0]
	for i, v := range grid {
		lo, hi = min(lo, v), max(hi, v)
		if v > mean {
			t[i/64] |= 1 << (i % 64)
		}
	}
	// Less than 1/64 of the range between darkest and brightest cell: a blank
	// frame (lens covered, camera not ready), not a face.
	if hi-lo < 0xffff/64 {
		return Template{}, fmt.Errorf("%w: the image is featureless", ErrBadImage)
	}
	return t, nil
}

// ReferenceMatcher is a stand-in for a real biometric matcher: it stores
// templates in memory only and treats two captures as the same person when
// their templates are at most Threshold bits apart. It shows the gateway's
// contract (decide new versus already enrolled, keep no image); it is not a
// face recogniser.
type ReferenceMatcher struct {
	// Threshold is the largest Distance still counted as the same person.
	Threshold int

	mu        sync.Mutex
	templates []Template
}

// DefaultThreshold is ReferenceMatcher's threshold: 10% of the bits.
const DefaultThreshold = TemplateSide * TemplateSide / 10

// NewReferenceMatcher returns an empty ReferenceMatcher with DefaultThreshold.
func NewReferenceMatcher() *ReferenceMatcher {
	return &ReferenceMatcher{Threshold: DefaultThreshold}
}

// Enroll implements Matcher. Only JPEG and PNG captures are accepted.
func (m *ReferenceMatcher) Enroll(ctx context.Context, c protocol.Capture) (bool, error) {
	if c.ContentType != "image/jpeg" && c.ContentType != "image/png" {
		return false, fmt.Errorf("%w: content type %q (want image/jpeg)", ErrBadImage, c.ContentType)
	}
	t, err := TemplateOf(c.Image)
	if err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range m.templates {
		if t.Distance(u) <= m.Threshold {
			return true, nil
		}
	}
	m.templates = append(m.templates, t)
	return false, nil
}

// Templates returns a copy of the enrolled templates, oldest first, so tests
// and audits can check what was stored (and that it came from the image that
// was sent). Templates are biometric data: keep them inside the CVM.
func (m *ReferenceMatcher) Templates() []Template {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Template(nil), m.templates...)
}
