package kdsclient_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/kdsclient"
	"github.com/cvmtrust/cvmtrust/kdsproxy"
	"github.com/cvmtrust/cvmtrust/verifier"
)

// realReport is one report of testdata/snp-reports with what a verifier
// needs to expect of it.
type realReport struct {
	id          string
	report      []byte
	vcek, chain []byte
	measurement []byte
	reportData  []byte
	at          time.Time // inside the VCEK's validity
	vcekPath    string    // its KDS path, as the verifier builds it
}

func loadReport(t *testing.T, id string) realReport {
	t.Helper()
	dir := filepath.Join("..", "testdata", "snp-reports", id)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var c struct {
		Measurement string `json:"measurement"`
		ReportData  string `json:"report_data"`
		NotBefore   string `json:"cert_not_before"`
	}
	if err := json.Unmarshal(read("case.json"), &c); err != nil {
		t.Fatal(err)
	}
	r := realReport{id: id, report: read("report.bin"), vcek: read("vcek.der"), chain: read("chain.pem")}
	r.measurement, _ = hex.DecodeString(c.Measurement)
	r.reportData, _ = hex.DecodeString(c.ReportData)
	nb, err := time.Parse("Jan _2 15:04:05 2006 MST", c.NotBefore)
	if err != nil {
		t.Fatal(err)
	}
	r.at = nb.Add(24 * time.Hour)
	// The fake KDS index knows the path of this case's VCEK.
	for p, d := range kdsIndex(t) {
		if strings.HasSuffix(d.File, "/"+id+".der") {
			r.vcekPath = p
		}
	}
	if r.vcekPath == "" {
		t.Fatalf("%s: no VCEK in testdata/kds", id)
	}
	return r
}

type indexEntry struct{ File string }

func kdsIndex(t *testing.T) map[string]indexEntry {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "kds", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index map[string]indexEntry
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	return index
}

// proxyChain starts a fake KDS serving testdata/kds (with its synthetic
// CRLs only if crls; with swap[path] = other, the document at other is
// served for path) and the proxy handler in front of it; it returns the
// proxy's URL.
func proxyChain(t *testing.T, crls bool, swap map[string]string) string {
	t.Helper()
	index := kdsIndex(t)
	kds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.RequestURI()
		if other, ok := swap[p]; ok {
			p = other
		}
		d, ok := index[p]
		if !ok || (!crls && strings.HasSuffix(p, "/crl")) {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join("..", "testdata", "kds", d.File))
	}))
	t.Cleanup(kds.Close)
	h, err := kdsproxy.New(kdsproxy.Config{Upstream: kds.URL, Client: kds.Client()})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(h)
	t.Cleanup(proxy.Close)
	return proxy.URL
}

func verify(t *testing.T, r realReport, kdsURL string, ev verifier.Evidence, exp verifier.Expectation) (*verifier.Result, error) {
	t.Helper()
	client := newClient(t, kdsURL, 2*time.Second)
	v, err := verifier.New(verifier.Options{Fetcher: client, Now: func() time.Time { return r.at }})
	if err != nil {
		t.Fatal(err)
	}
	exp.Measurements = [][]byte{r.measurement}
	exp.ReportData = r.reportData
	return v.Verify(context.Background(), ev, exp)
}

func rejectedWith(t *testing.T, err error, kinds ...error) {
	t.Helper()
	var rej *verifier.RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("got %v, want a *verifier.RejectedError", err)
	}
	for _, k := range kinds {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("rejected with %v, want one of %v", err, kinds)
}

// The proxy is untrusted: these show the verifier catching what a bad
// proxy could serve, and a dead proxy costing a "not checked", not a hang.
func TestVerifierThroughProxy(t *testing.T) {
	for _, id := range []string{"teekit-gcp-milan-1", "oak-turin"} {
		r := loadReport(t, id)
		t.Run(id+"/VCEK of another chip is rejected", func(t *testing.T) {
			other := "oak-milan-oc-release"
			if strings.Contains(r.vcekPath, "/Turin/") {
				other = "" // the only Turin VCEK: serve a Milan one
			}
			var otherPath string
			for p, d := range kdsIndex(t) {
				if strings.HasPrefix(p, "/vcek/") && strings.Contains(p, "?") && p != r.vcekPath &&
					(other == "" || strings.HasSuffix(d.File, "/"+other+".der")) {
					otherPath = p
				}
			}
			url := proxyChain(t, false, map[string]string{r.vcekPath: otherPath})
			_, err := verify(t, r, url, verifier.Evidence{Report: r.report}, verifier.Expectation{})
			rejectedWith(t, err, verifier.ErrTCBMismatch, verifier.ErrBadSignature, verifier.ErrKeyMismatch,
				verifier.ErrUnknownProduct)
		})
		t.Run(id+"/CRL not signed by AMD is rejected", func(t *testing.T) {
			url := proxyChain(t, true, nil)
			_, err := verify(t, r, url, verifier.Evidence{Report: r.report}, verifier.Expectation{})
			rejectedWith(t, err, verifier.ErrBadCRL)
		})
		t.Run(id+"/certificates fetched through the proxy", func(t *testing.T) {
			url := proxyChain(t, false, nil)
			res, err := verify(t, r, url, verifier.Evidence{Report: r.report}, verifier.Expectation{})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Verified || !strings.HasPrefix(res.Revocation, "not checked") {
				t.Fatalf("verified=%v revocation=%q, want verified with revocation not checked (KDS has no CRL)",
					res.Verified, res.Revocation)
			}
		})
	}

	r := loadReport(t, "teekit-gcp-milan-1")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()
	t.Run("proxy down, no certificates in the evidence: rejected fast", func(t *testing.T) {
		start := time.Now()
		_, err := verify(t, r, down, verifier.Evidence{Report: r.report}, verifier.Expectation{})
		rejectedWith(t, err, verifier.ErrMissingCerts)
		var rej *verifier.RejectedError
		errors.As(err, &rej)
		if f := rej.Result.Failed(); len(f) == 0 || !strings.Contains(f[0].Detail, kdsclient.ErrUnavailable.Error()) {
			t.Fatalf("the rejection does not say the proxy was unavailable: %+v", f)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v with the proxy down", d)
		}
	})
	withCerts := verifier.Evidence{Report: r.report, VCEK: r.vcek, Chain: r.chain}
	t.Run("proxy down, revocation required: rejected", func(t *testing.T) {
		_, err := verify(t, r, down, withCerts, verifier.Expectation{RequireRevocationCheck: true})
		rejectedWith(t, err, verifier.ErrRevocationUnchecked)
	})
	t.Run("proxy down, certificates in the evidence: verified, revocation not checked", func(t *testing.T) {
		res, err := verify(t, r, down, withCerts, verifier.Expectation{})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Verified || !strings.Contains(res.Revocation, "KDS unavailable") {
			t.Fatalf("verified=%v revocation=%q, want verified, revocation not checked because KDS is unavailable",
				res.Verified, res.Revocation)
		}
	})
}
