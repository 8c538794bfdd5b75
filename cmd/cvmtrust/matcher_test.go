package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/protocol/seal"
)

func TestGatewayMatcherFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--simulated", "--matcher-arg", "x"},
		{"--simulated", "--matcher-timeout", "0s"},
		{"--simulated", "--listen", "127.0.0.1:0", "--matcher-exec", filepath.Join(t.TempDir(), "missing")},
	} {
		var stderr bytes.Buffer
		if code := run(append([]string{"gateway"}, args...), io.Discard, &stderr); code != exitUsage || stderr.Len() == 0 {
			t.Errorf("gateway %v: exit %d, stderr %q; want %d and a reason", args, code, stderr.String(), exitUsage)
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"matcher", "extra"}, io.Discard, &stderr); code != exitUsage {
		t.Errorf("matcher with an argument: exit %d", code)
	}
}

// patternJPEG is a JPEG of 8×8 blocks of pseudo-random brightness: seeds
// give images far apart for the reference matcher.
func patternJPEG(t *testing.T, seed byte) []byte {
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	state := uint32(seed)*2654435761 + 1
	for by := range 8 {
		for bx := range 8 {
			state ^= state << 13
			state ^= state >> 17
			state ^= state << 5
			v := byte(state)
			for y := by * 8; y < by*8+8; y++ {
				for x := bx * 8; x < bx*8+8; x++ {
					img.SetGray(x, y, color.Gray{Y: v})
				}
			}
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// `cvmtrust gateway --simulated` with no matcher flags runs the reference
// matcher as this binary re-executed in the sandbox: enrollments go through
// it, and the receipts check.
func TestGatewayEnrollsThroughSandboxedMatcher(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the matcher sandbox needs root (CI runs as root)")
	}
	gw := startCLIGateway(t, "--simulated", "--listen", "127.0.0.1:0")
	if !strings.Contains(gw.stderr.String(), "matcher process started") {
		t.Fatalf("no sandboxed matcher was started; stderr:\n%s", gw.stderr.String())
	}
	img := patternJPEG(t, 0x5a)
	for _, want := range []string{protocol.StatusEnrolled, protocol.StatusAlreadyEnrolled} {
		nonce := make([]byte, protocol.NonceSize)
		rand.Read(nonce)
		resp, err := http.Get(gw.base + "/attestation?nonce=" + base64.RawURLEncoding.EncodeToString(nonce))
		if err != nil {
			t.Fatal(err)
		}
		var ev protocol.Evidence
		json.NewDecoder(resp.Body).Decode(&ev)
		resp.Body.Close()
		pt, _ := json.Marshal(protocol.Capture{ContentType: "image/jpeg", Image: img})
		ct, key, err := seal.SealWithReceiptKey(ev.HPKE, ev.Report, pt)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha512.Sum384(ev.Report)
		body, _ := json.Marshal(protocol.EnrollRequest{Version: 1, ReportSHA384: sum[:], KEM: ev.HPKE.KEM, Ciphertext: ct})
		resp, err = http.Post(gw.base+"/enroll", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var rc protocol.Receipt
		json.NewDecoder(resp.Body).Decode(&rc)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || rc.Status != want {
			t.Fatalf("enroll: %s %+v, want %s; stderr:\n%s", resp.Status, rc, want, gw.stderr.String())
		}
		if err := protocol.VerifyReceipt(key, rc); err != nil {
			t.Fatal(err)
		}
	}
}

// buildTestMatcher builds the gateway's test matcher (a program written from
// the protocol alone) into a directory uid 65534 can read.
func buildTestMatcher(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	out := filepath.Join(dir, "testmatcher")
	cmd := exec.Command("go", "build", "-o", out, "../../gateway/testdata/testmatcher")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the test matcher: %v\n%s", err, b)
	}
	return out
}

// matcher-check fails a matcher that breaks the protocol or accepts what is
// not an image, and passes the reference matcher and an honest one.
func TestMatcherCheck(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the matcher sandbox needs root (CI runs as root)")
	}
	tm := buildTestMatcher(t)
	check := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(append([]string{"matcher-check", "--timeout", "2s"}, args...), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	for _, mode := range []string{"wrong-id", "crash", "honest"} {
		// The honest test matcher enrolls anything, bytes that are not an
		// image included: that is a failure too.
		code, out := check("--matcher-arg", mode, tm)
		if code != exitRejected || !strings.Contains(out, "FAIL") {
			t.Errorf("matcher-check of a %s matcher: exit %d\n%s", mode, code, out)
		}
	}
	if code, out := check(); code != exitUsage {
		t.Errorf("no PATH: exit %d\n%s", code, out)
	}
	self, _ := os.Executable()
	// The default timeout: a 15 MiB frame takes the reference matcher
	// seconds to parse on a busy machine.
	code, out := check("--timeout", "10s", "--matcher-arg", "matcher", "--image", writeTemp(t, patternJPEG(t, 0x33)), self)
	if code != exitOK || strings.Contains(out, "FAIL") {
		t.Fatalf("matcher-check of the reference matcher: exit %d\n%s", code, out)
	}
	t.Logf("\n%s", out)
	if code, out := check("--unsandboxed", "--matcher-arg", "wrong-id", tm); code != exitRejected || !strings.Contains(out, "UNSANDBOXED") {
		t.Errorf("--unsandboxed: exit %d\n%s", code, out)
	}
}

func writeTemp(t *testing.T, b []byte) string {
	p := filepath.Join(t.TempDir(), "capture.jpg")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
