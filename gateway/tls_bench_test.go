package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/gateway/acmetls"
	"github.com/cvmtrust/cvmtrust/internal/pebbletest"
)

// BenchmarkTLS serves one gateway (evidence v2) over HTTPS with a
// certificate from Pebble (TLS-ALPN-01 validated on loopback) and over plain
// HTTP, in the same run, and measures full TLS handshakes (ECDSA P-256,
// no resumption), and GET /attestation on kept-alive connections and on
// a new connection each:
//
//	go test ./gateway -run '^$' -bench BenchmarkTLS -benchtime 2s
func BenchmarkTLS(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	pebble := pebbletest.Start(b, pebbletest.Options{TLSPort: port})
	m, err := acmetls.New(acmetls.Config{Domains: []string{"localhost"}, DirectoryURL: pebble.Directory, Roots: pebbleTestCA(b, pebble)})
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(Config{Source: simSource(b), TLSKeySHA256: m.SPKISHA256(), MaxReportsPerClient: -1})
	if err != nil {
		b.Fatal(err)
	}
	https := &http.Server{Handler: g, TLSConfig: m.TLSConfig(), ErrorLog: log.New(io.Discard, "", 0)}
	go https.ServeTLS(ln, "", "")
	defer https.Close()
	plain := httptest.NewServer(g)
	defer plain.Close()

	go m.Run(b.Context())
	select {
	case <-m.Ready():
	case <-time.After(time.Minute):
		b.Fatal("no certificate within a minute")
	}
	issuer := x509.NewCertPool()
	issuer.AppendCertsFromPEM(pebble.IssuingRoot(b))
	// No session cache: every new connection is a full handshake.
	clientTLS := &tls.Config{ServerName: "localhost", RootCAs: issuer}
	httpsBase := "https://127.0.0.1:" + strconv.Itoa(port)

	b.Run("handshake", func(b *testing.B) {
		for b.Loop() {
			c, err := tls.Dial("tcp", ln.Addr().String(), clientTLS)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	attest := func(b *testing.B, client *http.Client, base string) {
		nonce := base64.RawURLEncoding.EncodeToString(newNonce(b))
		for b.Loop() {
			resp, err := client.Get(base + "/attestation?nonce=" + nonce)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatal(resp.Status)
			}
		}
	}
	for _, c := range []struct {
		name      string
		base      string
		keepAlive bool
	}{
		{"attestation/http", plain.URL, true},
		{"attestation/https", httpsBase, true},
		{"attestation/http-new-connection", plain.URL, false},
		{"attestation/https-new-connection", httpsBase, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			tr := &http.Transport{TLSClientConfig: clientTLS, DisableKeepAlives: !c.keepAlive}
			defer tr.CloseIdleConnections()
			attest(b, &http.Client{Transport: tr}, c.base)
		})
	}
}

// BenchmarkACMEFirstCertificate is the time from a new TLS key to its
// first certificate: account, order, TLS-ALPN-01 validated by Pebble on
// loopback, finalization.
//
//	go test ./gateway -run '^$' -bench BenchmarkACMEFirstCertificate -benchtime 5x
func BenchmarkACMEFirstCertificate(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	pebble := pebbletest.Start(b, pebbletest.Options{TLSPort: ln.Addr().(*net.TCPAddr).Port})
	var current atomic.Pointer[acmetls.Manager]
	srv := &http.Server{Handler: http.NotFoundHandler(), ErrorLog: log.New(io.Discard, "", 0), TLSConfig: &tls.Config{
		NextProtos: []string{"h2", "http/1.1", "acme-tls/1"},
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return current.Load().TLSConfig().GetCertificate(h)
		},
	}}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	roots := pebbleTestCA(b, pebble)
	for b.Loop() {
		m, err := acmetls.New(acmetls.Config{Domains: []string{"localhost"}, DirectoryURL: pebble.Directory, Roots: roots})
		if err != nil {
			b.Fatal(err)
		}
		current.Store(m)
		ctx, cancel := context.WithCancel(b.Context())
		go m.Run(ctx)
		select {
		case <-m.Ready():
		case <-time.After(time.Minute):
			b.Fatal("no certificate within a minute")
		}
		cancel()
	}
}

func pebbleTestCA(tb testing.TB, pebble *pebbletest.Server) *x509.CertPool {
	roots := x509.NewCertPool()
	ca, err := os.ReadFile(pebble.TestCA)
	if err != nil || !roots.AppendCertsFromPEM(ca) {
		tb.Fatalf("Pebble's test CA: %v", err)
	}
	return roots
}
