package gateway

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"sync"
	"testing"

	"github.com/cvmtrust/cvmtrust/protocol"
)

// reencode decodes a JPEG and encodes it again at another quality and, when
// scale > 1, larger by nearest neighbour: the same picture, other bytes.
func reencode(t *testing.T, img []byte, quality, scale int) []byte {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	b := m.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*scale, b.Dy()*scale))
	for y := range out.Rect.Dy() {
		for x := range out.Rect.Dx() {
			out.Set(x, y, m.At(b.Min.X+x/scale, b.Min.Y+y/scale))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTemplateOf(t *testing.T) {
	a, b := testImage(t, 10), testImage(t, 11)
	ta, err := TemplateOf(a)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := TemplateOf(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := ta.Distance(tb); d <= DefaultThreshold {
		t.Errorf("two different images are %d bits apart, within the threshold %d", d, DefaultThreshold)
	}
	tr, err := TemplateOf(reencode(t, a, 60, 3))
	if err != nil {
		t.Fatal(err)
	}
	if d := ta.Distance(tr); d > DefaultThreshold {
		t.Errorf("the same image re-encoded and scaled is %d bits away, beyond the threshold %d", d, DefaultThreshold)
	}
	// PNG of the same picture.
	m, _ := jpeg.Decode(bytes.NewReader(a))
	var p bytes.Buffer
	png.Encode(&p, m)
	tp, err := TemplateOf(p.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if d := ta.Distance(tp); d > DefaultThreshold {
		t.Errorf("the PNG of the same picture is %d bits away", d)
	}
}

// pngHeader is a PNG whose header claims the given size and whose pixel
// data is missing: a decoder that trusted the header would allocate for it.
func pngHeader(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	// IHDR width and height, big-endian, at offsets 16 and 20.
	out[16], out[17], out[18], out[19] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	out[20], out[21], out[22], out[23] = byte(h>>24), byte(h>>16), byte(h>>8), byte(h)
	// The chunk's CRC covers its type and data (offsets 12 to 29).
	binary.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29]))
	if cfg, err := png.DecodeConfig(bytes.NewReader(out)); err != nil || cfg.Width != w || cfg.Height != h {
		t.Fatalf("forged PNG header: %v %v", cfg, err)
	}
	return out
}

// pngHeaderRGBA64 is pngHeader with 16-bit RGBA pixels (8 bytes each).
func pngHeaderRGBA64(t *testing.T, w, h int) []byte {
	out := pngHeader(t, w, h)
	out[24], out[25] = 16, 6 // bit depth, colour type RGBA
	binary.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29]))
	if cfg, err := png.DecodeConfig(bytes.NewReader(out)); err != nil || cfg.ColorModel != color.RGBA64Model && cfg.ColorModel != color.NRGBA64Model {
		t.Fatalf("forged 16-bit PNG header: %v %v", cfg.ColorModel, err)
	}
	return out
}

func TestTemplateOfRefuses(t *testing.T) {
	tiny := image.NewGray(image.Rect(0, 0, 8, 8))
	var tinyJPEG bytes.Buffer
	jpeg.Encode(&tinyJPEG, tiny, nil)
	for name, img := range map[string][]byte{
		"empty":        nil,
		"not an image": []byte("GIF89a but not really"),
		"truncated":    testImage(t, 5)[:200],
		"too small":    tinyJPEG.Bytes(),
		"huge header":  pngHeader(t, 100000, 100000),
		"too wide":     pngHeader(t, MaxImageSide+1, 16),
		"blank":        blankJPEG(t),
		// Inside MaxImagePixels, but 16-bit RGBA: 183 MiB decoded.
		"16-bit 4896x4896": pngHeaderRGBA64(t, 4896, 4896),
	} {
		if _, err := TemplateOf(img); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: err = %v, want ErrBadImage", name, err)
		}
	}
}

func TestReferenceMatcher(t *testing.T) {
	m := NewReferenceMatcher()
	ctx := context.Background()
	enroll := func(img []byte) (bool, error) {
		return m.Enroll(ctx, protocol.Capture{ContentType: "image/jpeg", Image: img})
	}
	if _, err := m.Enroll(ctx, protocol.Capture{ContentType: "image/gif", Image: testImage(t, 1)}); !errors.Is(err, ErrBadImage) {
		t.Errorf("image/gif: err = %v", err)
	}
	if _, err := enroll([]byte("x")); !errors.Is(err, ErrBadImage) {
		t.Errorf("garbage: err = %v", err)
	}
	if n := len(m.Templates()); n != 0 {
		t.Fatalf("%d templates stored after refusals", n)
	}
	img := testImage(t, 20)
	if already, err := enroll(img); err != nil || already {
		t.Fatalf("first enrollment: already=%v err=%v", already, err)
	}
	if already, err := enroll(reencode(t, img, 70, 2)); err != nil || !already {
		t.Fatalf("same picture again: already=%v err=%v", already, err)
	}
	if already, err := enroll(testImage(t, 21)); err != nil || already {
		t.Fatalf("another picture: already=%v err=%v", already, err)
	}
	if n := len(m.Templates()); n != 2 {
		t.Fatalf("%d templates, want 2", n)
	}
	// Templates returns a copy.
	m.Templates()[0] = Template{}
	if want, _ := TemplateOf(img); m.Templates()[0] != want {
		t.Error("Templates exposes the matcher's own storage")
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Enroll(ctx2, protocol.Capture{ContentType: "image/jpeg", Image: testImage(t, 22)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

// Concurrent enrollments of one new person: exactly one is "new".
func TestReferenceMatcherConcurrent(t *testing.T) {
	m := NewReferenceMatcher()
	img := testImage(t, 30)
	var wg sync.WaitGroup
	var mu sync.Mutex
	news := 0
	for range 8 {
		wg.Go(func() {
			already, err := m.Enroll(context.Background(), protocol.Capture{ContentType: "image/jpeg", Image: img})
			if err != nil {
				t.Error(err)
				return
			}
			if !already {
				mu.Lock()
				news++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if news != 1 || len(m.Templates()) != 1 {
		t.Errorf("%d enrollments said new, %d templates stored; want 1 and 1", news, len(m.Templates()))
	}
}
