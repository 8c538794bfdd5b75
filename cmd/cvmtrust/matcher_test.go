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

// patternJPEG is a JPEG of 8×8 blocks of seeded brightness.
func patternJPEG(t *testing.T, seed byte) []byte {
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			v := byte((x/8)*37+(y/8)*91) ^ seed
			img.SetGray(x, y, color.Gray{Y: v})
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
