//go:build ignore

// gen lays out the documents of a fake AMD KDS from the real reports in
// testdata/snp-reports: every VCEK under its KDS path (chip id and TCB read
// from the certificate itself), each product's cert_chain, and a synthetic
// CRL per product and signer. Run from the repository root:
//
//	go run testdata/kds/gen.go testdata/snp-reports testdata/kds
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// AMD's VCEK extensions (SEV-SNP firmware ABI, "VCEK certificate").
var (
	oidBL    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 3, 1}
	oidTEE   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 3, 2}
	oidSNP   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 3, 3}
	oidUcode = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 3, 8}
	oidFMC   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 3, 9}
	oidHWID  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 4}
)

type caseFacts struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Product string `json:"product"`
	Signer  string `json:"signer"`
	ChipID  string `json:"chip_id"`
}

// Document is one entry of index.json.
type Document struct {
	File   string `json:"file"`
	Type   string `json:"content_type"`
	Source string `json:"source"`
}

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: go run testdata/kds/gen.go <snp-reports dir> <out dir>")
	}
	src, out := os.Args[1], os.Args[2]
	cases, err := filepath.Glob(filepath.Join(src, "*", "case.json"))
	if err != nil || len(cases) == 0 {
		log.Fatalf("no cases in %s", src)
	}
	sort.Strings(cases)
	index := map[string]Document{}
	for _, c := range cases {
		dir := filepath.Dir(c)
		var f caseFacts
		mustJSON(c, &f)
		signer := strings.ToLower(f.Signer)
		chainPath := "/" + signer + "/v1/" + f.Product + "/cert_chain"
		chainFile := filepath.Join(signer, f.Product, "cert_chain.pem")
		chain := mustRead(filepath.Join(dir, "chain.pem"))
		if prev, ok := index[chainPath]; ok {
			if string(mustRead(filepath.Join(out, prev.File))) != string(chain) {
				log.Fatalf("%s: cert_chain differs from %s's", f.ID, prev.Source)
			}
		} else {
			write(out, chainFile, chain)
			index[chainPath] = Document{chainFile, "application/x-pem-file", f.ID + ": " + f.Source}
		}
		crlPath := "/" + signer + "/v1/" + f.Product + "/crl"
		if _, ok := index[crlPath]; !ok {
			crlFile := filepath.Join(signer, f.Product, "crl.der")
			write(out, crlFile, syntheticCRL(f.Product, signer))
			index[crlPath] = Document{crlFile, "application/pkix-crl", "synthetic, made by gen.go: not signed by AMD"}
		}
		if signer != "vcek" {
			continue // KDS serves no VLEK by chip id
		}
		der := mustRead(filepath.Join(dir, "vcek.der"))
		path := vcekPath(f, der)
		file := filepath.Join("vcek", f.Product, f.ID+".der")
		write(out, file, der)
		index[path] = Document{file, "application/pkix-cert", f.ID + ": " + f.Source}
	}
	var js strings.Builder
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false) // keep the & of KDS queries readable
	enc.SetIndent("", " ")
	if err := enc.Encode(index); err != nil {
		log.Fatal(err)
	}
	write(out, "index.json", []byte(js.String()))
}

// vcekPath is the KDS path of a VCEK, from the certificate's own
// extensions; the chip id is checked against the report's.
func vcekPath(f caseFacts, der []byte) string {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		log.Fatalf("%s: %v", f.ID, err)
	}
	spl := map[string]int{}
	var hwid []byte
	for _, e := range cert.Extensions {
		var n int
		switch {
		case e.Id.Equal(oidHWID):
			hwid = e.Value
			continue
		case e.Id.Equal(oidBL), e.Id.Equal(oidTEE), e.Id.Equal(oidSNP), e.Id.Equal(oidUcode), e.Id.Equal(oidFMC):
			if _, err := asn1.Unmarshal(e.Value, &n); err != nil {
				log.Fatalf("%s: extension %v: %v", f.ID, e.Id, err)
			}
		default:
			continue
		}
		spl[e.Id.String()] = n
	}
	if len(hwid) == 0 {
		log.Fatalf("%s: VCEK has no hwID extension", f.ID)
	}
	// The hwID extension is the chip id as bytes (Turin: the 8 bytes KDS
	// uses); some KDS versions wrapped it in an OCTET STRING.
	var inner []byte
	if rest, err := asn1.Unmarshal(hwid, &inner); err == nil && len(rest) == 0 {
		hwid = inner
	}
	want := f.ChipID
	if f.Product == "Turin" {
		want = want[:16]
	}
	if hex.EncodeToString(hwid) != want {
		log.Fatalf("%s: VCEK hwID %x is not the report's chip id %s", f.ID, hwid, want)
	}
	q := fmt.Sprintf("blSPL=%d&teeSPL=%d&snpSPL=%d&ucodeSPL=%d",
		spl[oidBL.String()], spl[oidTEE.String()], spl[oidSNP.String()], spl[oidUcode.String()])
	if f.Product == "Turin" {
		q = fmt.Sprintf("fmcSPL=%d&", spl[oidFMC.String()]) + q
	}
	return "/vcek/v1/" + f.Product + "/" + hex.EncodeToString(hwid) + "?" + q
}

// syntheticCRL is a well-formed empty CRL whose only purpose is to give the
// proxy a nextUpdate to cache by. It is signed by a throwaway key, so a
// verifier must reject it: AMD's real CRLs are not part of the test data.
func syntheticCRL(product, signer string) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	name := pkix.Name{CommonName: "cvmtrust test CRL issuer (not AMD) " + signer + " " + product}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               name,
		NotBefore:             time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2046, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageCRLSign | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	issuer, err := x509.ParseCertificate(certDER)
	if err != nil {
		log.Fatal(err)
	}
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(1),
		ThisUpdate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NextUpdate: time.Date(2046, 1, 1, 0, 0, 0, 0, time.UTC),
	}, issuer, key)
	if err != nil {
		log.Fatal(err)
	}
	return crl
}

func mustRead(p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		log.Fatal(err)
	}
	return b
}

func mustJSON(p string, v any) {
	if err := json.Unmarshal(mustRead(p), v); err != nil {
		log.Fatalf("%s: %v", p, err)
	}
}

func write(out, rel string, b []byte) {
	p := filepath.Join(out, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
