package pid1

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

const measurement = "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198"

func testCA(t *testing.T) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ACME root"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestParseConfigRefuses(t *testing.T) {
	for _, tc := range []struct{ name, json string }{
		{"not JSON", `{`},
		{"unknown field", `{"domain":"a.example"}`},
		{"trailing data", `{} {}`},
		{"domain with a scheme", `{"domains":["https://a.example"]}`},
		{"domain upper case", `{"domains":["A.example"]}`},
		{"domain one label", `{"domains":["intranet"]}`},
		{"domain label hyphen", `{"domains":["-a.example"]}`},
		{"ACME settings without a domain", `{"acme_directory":"https://acme.example/dir"}`},
		{"ACME directory over http", `{"domains":["a.example"],"acme_directory":"http://acme.example/dir"}`},
		{"ACME directory with a user", `{"domains":["a.example"],"acme_directory":"https://u:p@acme.example/dir"}`},
		{"ACME root not PEM", `{"domains":["a.example"],"acme_root":"hello"}`},
		{"ACME root a key", `{"domains":["a.example"],"acme_root":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}`},
		{"e-mail with a name", `{"domains":["a.example"],"acme_email":"Ops <ops@a.example>"}`},
		{"short measurement", `{"simulated":{"measurement":"329c"}}`},
		{"measurement not hex", `{"simulated":{"measurement":"` + strings.Repeat("zz", 48) + `"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseConfig([]byte(tc.json)); !errors.Is(err, ErrConfig) {
				t.Fatalf("ParseConfig = %v, want ErrConfig", err)
			}
		})
	}
	if _, err := ParseConfig([]byte(`{"release_bundle":"` + strings.Repeat("a", MaxConfigSize) + `"}`)); !errors.Is(err, ErrConfig) {
		t.Errorf("an oversized config: %v, want ErrConfig", err)
	}
}

func TestGatewayArgs(t *testing.T) {
	root := testCA(t)
	raw, _ := json.Marshal(map[string]any{
		"domains":        []string{"attest.example.com", "www.attest.example.com"},
		"acme_directory": "https://127.0.0.1:14000/dir",
		"acme_root":      root,
		"acme_email":     "ops@example.com",
		"release_bundle": map[string]any{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"},
		"simulated":      map[string]any{"measurement": measurement, "sigstore_trusted_root": map[string]any{"mediaType": "x"}},
	})
	c, err := ParseConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("real", func(t *testing.T) {
		args, files := c.GatewayArgs(Guest{RunDir: "/run/x"})
		got := strings.Join(args, " ")
		want := "gateway --static " + WebRoot + " --listen :443 --tls-acme attest.example.com,www.attest.example.com" +
			" --acme-directory https://127.0.0.1:14000/dir --acme-root /run/x/acme-root.pem --acme-email ops@example.com" +
			" --release-bundle /run/x/release.sigstore.json"
		if got != want {
			t.Errorf("args\n%s\nwant\n%s", got, want)
		}
		if slices.Contains(args, "--simulated") || files["sigstore-trusted-root.json"] != nil {
			t.Error("a guest with SEV-SNP is told to simulate")
		}
		if string(files["acme-root.pem"]) != root {
			t.Error("the ACME root is not written")
		}
	})
	t.Run("simulated", func(t *testing.T) {
		args, files := c.GatewayArgs(Guest{Simulated: true, RunDir: "/run/x"})
		got := strings.Join(args, " ")
		if !strings.Contains(got, " --release-bundle /run/x/release.sigstore.json --simulated --measurement "+measurement+" --sim-sigstore-root /run/x/sigstore-trusted-root.json") {
			t.Errorf("args %s", got)
		}
		if string(files["sigstore-trusted-root.json"]) != `{"mediaType":"x"}` {
			t.Errorf("sigstore-trusted-root.json = %s", files["sigstore-trusted-root.json"])
		}
	})
	t.Run("nothing set", func(t *testing.T) {
		args, files := (&Config{}).GatewayArgs(Guest{RunDir: "/run/x"})
		if got := strings.Join(args, " "); got != "gateway --static "+WebRoot+" --listen :80" || len(files) != 0 {
			t.Errorf("args %s, files %v", got, files)
		}
	})
	t.Run("vendor matcher", func(t *testing.T) {
		args, _ := (&Config{}).GatewayArgs(Guest{VendorMatcher: true, RunDir: "/run/x"})
		if got := strings.Join(args, " "); !strings.Contains(got, " --matcher-exec "+VendorMatcherPath) {
			t.Errorf("args %s", got)
		}
	})
}
