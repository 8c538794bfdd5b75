package kdsproxy

import (
	"errors"
	"strings"
	"testing"
)

const (
	milanHWID = "d49554ec717f4e5b0fe6b143bcf0405bd7ae304727edf46603f2a76aef6a3abc15d7af38db757039029f0efacfd08e244324884738c72b082e2f87a44d541eb6"
	turinHWID = "3b42092f69c656d3"
	milanTCB  = "blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115"
	turinTCB  = "fmcSPL=0&blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71"
)

func TestParseDocumentRejects(t *testing.T) {
	for _, tc := range []struct{ name, path, query string }{
		{"empty", "", ""},
		{"root", "/", ""},
		{"unknown signer", "/vcxk/v1/Milan/cert_chain", ""},
		{"unknown version", "/vcek/v2/Milan/cert_chain", ""},
		{"unknown product", "/vcek/v1/Rome/cert_chain", ""},
		{"product case", "/vcek/v1/milan/cert_chain", ""},
		{"escaped product", "/vcek/v1/Mil%61n/cert_chain", ""},
		{"trailing slash", "/vcek/v1/Milan/cert_chain/", ""},
		{"double slash", "/vcek/v1//Milan/cert_chain", ""},
		{"dot segment", "/vcek/v1/Milan/../cert_chain", ""},
		{"extra segment", "/vcek/v1/Milan/cert_chain/x", ""},
		{"chain with query", "/vcek/v1/Milan/cert_chain", "x=1"},
		{"crl with query", "/vcek/v1/Milan/crl", "blSPL=1"},
		{"unknown document", "/vcek/v1/Milan/ark", ""},
		{"vlek by hwid", "/vlek/v1/Milan/" + milanHWID, milanTCB},
		{"hwid short", "/vcek/v1/Milan/" + milanHWID[:126], milanTCB},
		{"hwid long", "/vcek/v1/Milan/" + milanHWID + "00", milanTCB},
		{"hwid non-hex", "/vcek/v1/Milan/" + milanHWID[:127] + "g", milanTCB},
		{"Turin hwid of 64 bytes", "/vcek/v1/Turin/" + milanHWID, turinTCB},
		{"Milan hwid of 8 bytes", "/vcek/v1/Milan/" + turinHWID, milanTCB},
		{"no query", "/vcek/v1/Milan/" + milanHWID, ""},
		{"missing ucodeSPL", "/vcek/v1/Milan/" + milanHWID, "blSPL=3&teeSPL=0&snpSPL=8"},
		{"Turin missing fmcSPL", "/vcek/v1/Turin/" + turinHWID, milanTCB},
		{"fmcSPL on Milan", "/vcek/v1/Milan/" + milanHWID, milanTCB + "&fmcSPL=0"},
		{"unknown parameter", "/vcek/v1/Milan/" + milanHWID, milanTCB + "&x=1"},
		{"repeated parameter", "/vcek/v1/Milan/" + milanHWID, milanTCB + "&blSPL=3"},
		{"SPL 256", "/vcek/v1/Milan/" + milanHWID, "blSPL=256&teeSPL=0&snpSPL=8&ucodeSPL=115"},
		{"SPL negative", "/vcek/v1/Milan/" + milanHWID, "blSPL=-1&teeSPL=0&snpSPL=8&ucodeSPL=115"},
		{"SPL plus", "/vcek/v1/Milan/" + milanHWID, "blSPL=+3&teeSPL=0&snpSPL=8&ucodeSPL=115"},
		{"SPL hex", "/vcek/v1/Milan/" + milanHWID, "blSPL=0x3&teeSPL=0&snpSPL=8&ucodeSPL=115"},
		{"SPL empty", "/vcek/v1/Milan/" + milanHWID, "blSPL=&teeSPL=0&snpSPL=8&ucodeSPL=115"},
		{"SPL four digits", "/vcek/v1/Milan/" + milanHWID, "blSPL=0003&teeSPL=0&snpSPL=8&ucodeSPL=115"},
		{"SPL escaped", "/vcek/v1/Milan/" + milanHWID, "blSPL=%33&teeSPL=0&snpSPL=8&ucodeSPL=115"},
		{"parameter without value", "/vcek/v1/Milan/" + milanHWID, milanTCB + "&blSPL"},
		{"trailing ampersand", "/vcek/v1/Milan/" + milanHWID, milanTCB + "&"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := ParseDocument(tc.path, tc.query)
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("ParseDocument(%q, %q) = %+v, %v; want ErrInvalidRequest", tc.path, tc.query, doc, err)
			}
		})
	}
}

func TestParseDocumentCanonical(t *testing.T) {
	for _, tc := range []struct {
		name, path, query string
		kind              Kind
		want              string
	}{
		{"Milan chain", "/vcek/v1/Milan/cert_chain", "", KindChain, "/vcek/v1/Milan/cert_chain"},
		{"Genoa crl", "/vcek/v1/Genoa/crl", "", KindCRL, "/vcek/v1/Genoa/crl"},
		{"VLEK chain", "/vlek/v1/Turin/cert_chain", "", KindChain, "/vlek/v1/Turin/cert_chain"},
		{"VLEK crl", "/vlek/v1/Milan/crl", "", KindCRL, "/vlek/v1/Milan/crl"},
		{"Milan VCEK", "/vcek/v1/Milan/" + milanHWID, milanTCB, KindVCEK,
			"/vcek/v1/Milan/" + milanHWID + "?" + milanTCB},
		{"upper-case hwid, shuffled query, leading zero", "/vcek/v1/Milan/" + strings.ToUpper(milanHWID),
			"ucodeSPL=115&snpSPL=008&teeSPL=0&blSPL=3", KindVCEK, "/vcek/v1/Milan/" + milanHWID + "?" + milanTCB},
		{"Turin VCEK", "/vcek/v1/Turin/" + turinHWID, "ucodeSPL=71&snpSPL=2&teeSPL=0&blSPL=1&fmcSPL=0", KindVCEK,
			"/vcek/v1/Turin/" + turinHWID + "?" + turinTCB},
		{"SPL 255", "/vcek/v1/Genoa/" + milanHWID, "blSPL=255&teeSPL=255&snpSPL=255&ucodeSPL=255", KindVCEK,
			"/vcek/v1/Genoa/" + milanHWID + "?blSPL=255&teeSPL=255&snpSPL=255&ucodeSPL=255"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := ParseDocument(tc.path, tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Kind != tc.kind || doc.Path != tc.want {
				t.Fatalf("got %v %q, want %v %q", doc.Kind, doc.Path, tc.kind, tc.want)
			}
		})
	}
}

func FuzzParseDocument(f *testing.F) {
	f.Add("/vcek/v1/Milan/"+milanHWID, milanTCB)
	f.Add("/vcek/v1/Turin/"+turinHWID, turinTCB)
	f.Add("/vlek/v1/Genoa/crl", "")
	f.Fuzz(func(t *testing.T, path, query string) {
		doc, err := ParseDocument(path, query)
		if err != nil {
			return
		}
		// A canonical path parses to itself: what goes upstream is exactly
		// what was validated.
		p, q, _ := strings.Cut(doc.Path, "?")
		again, err := ParseDocument(p, q)
		if err != nil || again != doc {
			t.Fatalf("canonical %q does not parse to itself: %+v, %v", doc.Path, again, err)
		}
	})
}
