package cert

import (
	"encoding/base64"
	"errors"
	"os"
	"regexp"
	"testing"
)

// fulcioRoots returns the certificates of the embedded Sigstore trusted
// root (ECDSA P-384, signed with ecdsa-with-SHA384).
func fulcioRoots(t *testing.T) [][]byte {
	data, err := os.ReadFile("../../sigstore/trustedroot/public-good.json")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range regexp.MustCompile(`"rawBytes": "(MII[^"]+)"`).FindAllStringSubmatch(string(data), -1) {
		der, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, der)
	}
	if len(out) < 3 {
		t.Fatalf("only %d certificates", len(out))
	}
	return out
}

// TestParseAnyAndAMDProfile: ParseAny reads Sigstore's certificates; Parse,
// which the SNP verifier uses, still refuses anything but AMD's RSA-PSS.
func TestParseAnyAndAMDProfile(t *testing.T) {
	for _, der := range fulcioRoots(t) {
		c, err := ParseAny(der)
		if err != nil {
			t.Fatal(err)
		}
		if c.SigAlg == SigRSAPSSSHA384 || c.SPKI == nil || len(c.RawTBS) == 0 {
			t.Errorf("parsed %+v", c)
		}
		if _, err := Parse(der); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse accepted a non-AMD certificate: %v", err)
		}
	}
}

func TestParseSPKI(t *testing.T) {
	for _, tc := range []struct {
		b64  string
		want KeyType
	}{
		{"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg==", KeyECDSAP256},
		{"MCowBQYDK2VwAyEAt8rlp1knGwjfbcXAYPYAkn0XiLz1x8O4t0YkEhie244=", KeyEd25519},
	} {
		der, _ := base64.StdEncoding.DecodeString(tc.b64)
		kt, spki, err := ParseSPKI(der)
		if err != nil || kt != tc.want || string(spki) != string(der) {
			t.Errorf("%v %v", kt, err)
		}
		if _, _, err := ParseSPKI(append(der, 0)); err == nil {
			t.Error("trailing byte accepted")
		}
	}
}
