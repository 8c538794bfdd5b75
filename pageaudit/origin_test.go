package pageaudit

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/gateway"
	"github.com/cvmtrust/cvmtrust/gateway/simulated"
	"github.com/cvmtrust/cvmtrust/internal/pagefixture"
	"github.com/cvmtrust/cvmtrust/verifier"
)

// tlsIdentity is a certificate for 127.0.0.1 with a key of its own.
type tlsIdentity struct {
	cert tls.Certificate
	leaf *x509.Certificate
	spki []byte // SHA-256 of its SubjectPublicKeyInfo
}

func newTLSIdentity(t *testing.T) *tlsIdentity {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return &tlsIdentity{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, leaf: leaf, spki: sum[:]}
}

// originWorld is a set of HTTPS servers on 127.0.0.1, a client that trusts
// them all, and a simulated guest with a verifier that trusts its root.
type originWorld struct {
	t      *testing.T
	src    *simulated.Source
	roots  *x509.CertPool
	client *http.Client
	policy *Policy // the fixture's build, expecting the simulated guest's measurement
}

func newOriginWorld(t *testing.T) *originWorld {
	src, err := simulated.New(simulated.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := &originWorld{t: t, src: src, roots: x509.NewCertPool()}
	w.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: w.roots}}}
	t.Cleanup(w.client.CloseIdleConnections)
	w.policy = w.attested(fixturePolicy(t), verifier.Expectation{Measurements: [][]byte{src.Measurement()}})
	return w
}

// attested returns p with the simulated guest's root trusted and exp expected.
func (w *originWorld) attested(p *Policy, exp verifier.Expectation) *Policy {
	roots, err := verifier.AMDRoots().WithSimulated(w.src.SimulatedARK())
	if err != nil {
		w.t.Fatal(err)
	}
	v, err := verifier.New(verifier.Options{Roots: roots})
	if err != nil {
		w.t.Fatal(err)
	}
	q, err := p.WithAttestation(v, exp)
	if err != nil {
		w.t.Fatal(err)
	}
	return q
}

// serve starts h over HTTPS with id's certificate and returns its base URL.
func (w *originWorld) serve(id *tlsIdentity, h http.Handler) string {
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{id.cert}}
	srv.StartTLS()
	w.t.Cleanup(srv.Close)
	w.roots.AddCert(id.leaf)
	return srv.URL
}

// site serves the fixture's pages and extra, and a simulated gateway at
// /attestation whose evidence binds boundKey (nil: evidence v1).
func (w *originWorld) site(id *tlsIdentity, boundKey []byte, extra map[string][]byte) string {
	gw, err := gateway.New(gateway.Config{Source: w.src, TLSKeySHA256: boundKey})
	if err != nil {
		w.t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/attestation", gw)
	mux.Handle("/", pagefixture.Handler(w.t, extra))
	return w.serve(id, mux)
}

func (w *originWorld) audit(u string, p *Policy) *Report {
	w.t.Helper()
	r, err := Audit(context.Background(), w.client, u, p)
	if err != nil {
		w.t.Fatalf("Audit(%s): %v", u, err)
	}
	return r
}

// originFinding returns r's one origin finding.
func originFinding(t *testing.T, r *Report) Finding {
	t.Helper()
	f := findingsOf(r, CheckOrigin)
	if len(f) != 1 {
		t.Fatalf("%d origin findings, want 1\n%s", len(f), dump(r))
	}
	return f[0]
}

// A page counts as the attested machine's only when it came over TLS whose
// key the verified report of its element's gateway binds. The ways it does
// not, first.
func TestOrigin(t *testing.T) {
	w := newOriginWorld(t)
	machine := newTLSIdentity(t)
	attested := w.site(machine, machine.spki, nil)

	t.Run("through a TLS-terminating proxy", func(t *testing.T) {
		target, _ := url.Parse(attested)
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.Transport = w.client.Transport
		proxyID := newTLSIdentity(t)
		proxy := w.serve(proxyID, rp)
		r := w.audit(proxy+"/clean.html", w.policy)
		f := originFinding(t, r)
		host := strings.TrimPrefix(proxy, "https://")
		if r.Passed || r.FromAttestedMachine || f.Outcome != Fail || f.What != "the page did not come from the attested machine" ||
			!strings.Contains(f.Why, "the TLS key of "+host+" is not the attested one (a proxy terminates TLS in front of the CVM)") ||
			!strings.Contains(f.Where, hex.EncodeToString(machine.spki)) || r.TLSKeySHA256 != hex.EncodeToString(proxyID.spki) {
			t.Errorf("passed %v, from the attested machine %v, page key %s\n%s", r.Passed, r.FromAttestedMachine, r.TLSKeySHA256, dump(r))
		}
		// Everything but the origin passes: the proxy passed the page on unchanged.
		if got := failed(r); len(got) != 1 || got[0] != CheckOrigin {
			t.Errorf("failing %v, want the origin alone\n%s", got, dump(r))
		}
	})
	t.Run("another server, its gateway elsewhere", func(t *testing.T) {
		other := newTLSIdentity(t)
		clean := pagefixture.Render(t, "clean.html")
		elsewhere := w.serve(other, pagefixture.Handler(t, map[string][]byte{
			"/enroll.html": []byte(strings.Replace(string(clean), `gateway="/"`, `gateway="`+attested+`/"`, 1)),
		}))
		r := w.audit(elsewhere+"/enroll.html", w.policy)
		f := originFinding(t, r)
		if r.Passed || f.Outcome != Fail || f.What != "the page did not come from the attested machine" || !strings.Contains(f.Why, "another server than the attested machine") {
			t.Errorf("passed %v\n%s", r.Passed, dump(r))
		}
	})
	t.Run("evidence v1 binds no TLS key", func(t *testing.T) {
		v1 := newTLSIdentity(t)
		r := w.audit(w.site(v1, nil, nil)+"/clean.html", w.policy)
		if f := originFinding(t, r); r.Passed || f.Outcome != Fail || !strings.Contains(f.Why, "protocol v1, which binds no TLS key") {
			t.Errorf("passed %v\n%s", r.Passed, dump(r))
		}
	})
	t.Run("another measurement expected", func(t *testing.T) {
		p := w.attested(fixturePolicy(t), verifier.Expectation{Measurements: [][]byte{make([]byte, 48)}})
		r := w.audit(attested+"/clean.html", p)
		if f := originFinding(t, r); r.Passed || f.Outcome != Fail || !strings.Contains(f.Why, "does not verify (failed: measurement)") {
			t.Errorf("passed %v\n%s", r.Passed, dump(r))
		}
	})
	t.Run("no expectation given", func(t *testing.T) {
		r := w.audit(attested+"/clean.html", fixturePolicy(t))
		if f := originFinding(t, r); r.Passed || f.Outcome != Fail || !strings.Contains(f.Why, "not told what the machine must run") {
			t.Errorf("passed %v\n%s", r.Passed, dump(r))
		}
	})
	t.Run("the gateway cannot be reached", func(t *testing.T) {
		page := w.site(newTLSIdentity(t), nil, map[string][]byte{
			"/down.html": []byte(strings.Replace(string(pagefixture.Render(t, "clean.html")), `gateway="/"`, `gateway="https://127.0.0.1:1/"`, 1)),
		})
		r := w.audit(page+"/down.html", w.policy)
		if f := originFinding(t, r); r.Passed || f.Outcome != Fail || !strings.Contains(f.Why, "could not get the gateway's attestation") {
			t.Errorf("passed %v\n%s", r.Passed, dump(r))
		}
	})
	t.Run("no gateway named", func(t *testing.T) {
		page := w.site(newTLSIdentity(t), nil, map[string][]byte{
			"/nogw.html": []byte(strings.Replace(string(pagefixture.Render(t, "clean.html")), `gateway="/" `, ``, 1)),
		})
		r := w.audit(page+"/nogw.html", w.policy)
		if f := originFinding(t, r); r.Passed || f.Outcome != Fail || !strings.Contains(f.Why, "names a gateway") {
			t.Errorf("passed %v\n%s", r.Passed, dump(r))
		}
	})
	t.Run("no TLS state for an https page", func(t *testing.T) {
		// A client that loses the connection's state must not turn the
		// comparison into a skipped one.
		c := &http.Client{Transport: stripTLS{w.client.Transport}}
		r, err := Audit(context.Background(), c, attested+"/clean.html", w.policy)
		if err != nil {
			t.Fatal(err)
		}
		if f := originFinding(t, r); r.Passed || f.Outcome != Fail || !strings.Contains(f.Why, "saw no TLS certificate") {
			t.Errorf("passed %v\n%s", r.Passed, dump(r))
		}
	})
	t.Run("plain HTTP from another address", func(t *testing.T) {
		addr := strings.TrimPrefix(pagefixture.Serve(t, nil), "http://")
		// enroll.example is answered by the fixture's server on loopback.
		c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
		r, err := Audit(context.Background(), c, "http://enroll.example/clean.html", w.policy)
		if err != nil {
			t.Fatal(err)
		}
		if f := originFinding(t, r); r.Passed || f.Outcome != Fail || !strings.Contains(f.What, "plain HTTP") || r.TLSKeySHA256 != "" {
			t.Errorf("passed %v\n%s", r.Passed, dump(r))
		}
	})
	t.Run("plain HTTP on this machine", func(t *testing.T) {
		r := w.audit(pagefixture.Serve(t, nil)+"/clean.html", fixturePolicy(t))
		if f := originFinding(t, r); !r.Passed || r.FromAttestedMachine || f.Outcome != Note || !strings.Contains(f.Why, "development setup") {
			t.Errorf("passed %v\n%s", r.Passed, dump(r))
		}
	})

	t.Run("served by the attested machine", func(t *testing.T) {
		r := w.audit(attested+"/clean.html", w.policy)
		f := originFinding(t, r)
		if !r.Passed || !r.FromAttestedMachine || f.Outcome != Pass || r.TLSKeySHA256 != hex.EncodeToString(machine.spki) ||
			!strings.Contains(f.Why, "served by the attested machine, over TLS whose key is bound in its attestation") ||
			!strings.Contains(f.What, "SIMULATED") {
			t.Errorf("passed %v, from the attested machine %v, page key %s\n%s", r.Passed, r.FromAttestedMachine, r.TLSKeySHA256, dump(r))
		}
	})
	t.Run("at another origin of the attested machine", func(t *testing.T) {
		// Same key, another port: the key is what says who served it.
		clean := pagefixture.Render(t, "clean.html")
		second := w.serve(machine, pagefixture.Handler(t, map[string][]byte{
			"/enroll.html": []byte(strings.Replace(string(clean), `gateway="/"`, `gateway="`+attested+`/"`, 1)),
		}))
		r := w.audit(second+"/enroll.html", w.policy)
		if f := originFinding(t, r); !r.Passed || f.Outcome != Pass || !strings.Contains(f.Why, "another origin") {
			t.Errorf("passed %v\n%s", r.Passed, dump(r))
		}
	})
}

type stripTLS struct{ rt http.RoundTripper }

func (s stripTLS) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.rt.RoundTrip(r)
	if resp != nil {
		resp.TLS = nil
	}
	return resp, err
}

func TestWithAttestationRefuses(t *testing.T) {
	p := fixturePolicy(t)
	v, err := verifier.New(verifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := [][]byte{make([]byte, 48)}
	if _, err := p.WithAttestation(nil, verifier.Expectation{Measurements: m}); err == nil {
		t.Error("no verifier: accepted")
	}
	if _, err := p.WithAttestation(v, verifier.Expectation{}); !errors.Is(err, verifier.ErrBadExpectation) {
		t.Errorf("no measurement: %v, want ErrBadExpectation", err)
	}
	if _, err := p.WithAttestation(v, verifier.Expectation{Measurements: m, AnyMeasurementUnsafe: true}); !errors.Is(err, verifier.ErrBadExpectation) {
		t.Errorf("measurements and any: %v, want ErrBadExpectation", err)
	}
}
