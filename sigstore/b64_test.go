package sigstore

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// TestDropLineBreaks compares dropLineBreaks with strings.NewReplacer, the
// code it replaces, including on bytes that are not UTF-8.
func TestDropLineBreaks(t *testing.T) {
	oracle := strings.NewReplacer("\r", "", "\n", "")
	for _, s := range []string{"", "\r\n", "ab\r\ncd\n", "\n\n\nx", "\xff\r\xfe\n\x80", "no breaks", "é\rè\n"} {
		if got, want := dropLineBreaks(s), oracle.Replace(s); got != want {
			t.Errorf("dropLineBreaks(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestDecodeBase64LineBreaks: line breaks are ignored, other bytes are not.
func TestDecodeBase64LineBreaks(t *testing.T) {
	want := bytes.Repeat([]byte{0xfb, 0xff, 0x01}, 40)
	enc := base64.StdEncoding.EncodeToString(want)
	wrapped := enc[:64] + "\r\n" + enc[64:100] + "\n" + enc[100:]
	got, err := decodeBase64(wrapped)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("decodeBase64(wrapped) = %x, %v", got, err)
	}
	if _, err := decodeBase64(enc[:64] + " " + enc[64:]); err == nil {
		t.Fatal("decodeBase64 accepted a space inside the text")
	}
}

// Host names are lowered in ASCII only (RFC 4343); anything else is kept
// as it is, so a non-ASCII host never equals an ASCII one.
func TestURLHostLowersASCIIOnly(t *testing.T) {
	for in, want := range map[string]string{
		"https://Rekor.Sigstore.DEV/api/v1": "rekor.sigstore.dev",
		"https://user@LOG.example:443/x":    "log.example",
		"HTTPS://log.example./":             "log.example",
		"https://\u212aey.example":          "\u212aey.example",
		"https://[::1]":                     "[::1]",
	} {
		if got := urlHost(in); got != want {
			t.Errorf("urlHost(%q) = %q, want %q", in, got, want)
		}
	}
	if urlHost("https://\u212aey.example") == urlHost("https://key.example") {
		t.Error("a Kelvin sign stood for k")
	}
}
