// Command receiptgateway is a test-only stand-in for the gateway's side of
// the authenticated receipt (evidence protocol v1), until the reference
// gateway MACs its receipts: it serves simulated evidence binding its own
// HPKE key, opens POST /enroll with Go's crypto/hpke, and answers with a
// receipt whose mac is HMAC-SHA256(k, msg), k = Export("cvmtrust-receipt-v1",
// 32) of the recipient context, msg as in testdata/protocol/receipt-vectors.json.
// It checks the vectors itself before it listens, so its MAC is the agreed one.
//
// Test modes, by query parameter on POST /enroll:
//
//	?answer=replay   the receipt of the previous upload (a replay)
//	?answer=status   the receipt with another status than the MAC covers
//
// Usage: receiptgateway --static web --kem KEM [--listen 127.0.0.1:0]
// It prints "open URL" on stdout once it listens.
package main

import (
	"context"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/cvmtrust/cvmtrust/gateway/simulated"
	"github.com/cvmtrust/cvmtrust/protocol"
)

const receiptLabel = "cvmtrust-receipt-v1"

// receiptMAC is the agreed MAC of a receipt under k.
func receiptMAC(k []byte, r protocol.Receipt) []byte {
	msg := []byte(receiptLabel)
	for _, f := range [][]byte{[]byte(strconv.Itoa(r.Version)), []byte(r.ReceiptID), []byte(r.Status), r.ReportSHA384, []byte(r.ReceivedAt)} {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	m := hmac.New(sha256.New, k)
	m.Write(msg)
	return m.Sum(nil)
}

// checkVectors refuses to start when receiptMAC does not reproduce the
// committed vectors.
func checkVectors(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var f struct {
		Vectors []struct {
			Key     string           `json:"key"`
			Receipt protocol.Receipt `json:"receipt"`
			MAC     string           `json:"mac"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if len(f.Vectors) == 0 {
		return errors.New("no receipt vectors")
	}
	for i, v := range f.Vectors {
		k, _ := hex.DecodeString(v.Key)
		if got := hex.EncodeToString(receiptMAC(k, v.Receipt)); got != v.MAC {
			return fmt.Errorf("receipt vector %d: mac %s, want %s", i, got, v.MAC)
		}
	}
	return nil
}

type server struct {
	src      *simulated.Source
	pub      protocol.HPKEKey
	priv     hpke.PrivateKey
	kem      hpke.KEM
	encSize  int
	mu       sync.Mutex
	reports  map[string][]byte // hex SHA-384 → report
	previous *protocol.Receipt
}

func (s *server) attestation(w http.ResponseWriter, r *http.Request) {
	nonce, err := base64.RawURLEncoding.DecodeString(r.URL.Query().Get("nonce"))
	if err != nil {
		http.Error(w, "bad nonce", http.StatusBadRequest)
		return
	}
	rd, err := protocol.ReportData(nonce, s.pub.PublicKey)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	report, certs, err := s.src.GetReport(r.Context(), rd)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sum := sha512.Sum384(report)
	s.mu.Lock()
	s.reports[hex.EncodeToString(sum[:])] = report
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, protocol.Evidence{Version: protocol.Version, Report: report, Certs: certs, HPKE: s.pub})
}

func (s *server) enroll(w http.ResponseWriter, r *http.Request) {
	var req protocol.EnrollRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	report, ok := s.reports[hex.EncodeToString(req.ReportSHA384)]
	s.mu.Unlock()
	if !ok || req.KEM != s.pub.KEM || len(req.Ciphertext) < s.encSize {
		http.Error(w, "unknown report or wrong KEM", http.StatusBadRequest)
		return
	}
	rc, err := hpke.NewRecipient(req.Ciphertext[:s.encSize], s.priv, hpke.HKDFSHA256(), hpke.AES256GCM(), protocol.EnrollInfo(report))
	if err != nil {
		http.Error(w, "cannot open", http.StatusBadRequest)
		return
	}
	if _, err := rc.Open(nil, req.Ciphertext[s.encSize:]); err != nil {
		http.Error(w, "cannot open", http.StatusBadRequest)
		return
	}
	k, err := rc.Export(receiptLabel, 32)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	id := make([]byte, 16)
	rand.Read(id)
	receipt := protocol.Receipt{
		Version: protocol.Version, ReceiptID: hex.EncodeToString(id), Status: protocol.StatusEnrolled,
		ReportSHA384: req.ReportSHA384, ReceivedAt: time.Now().UTC().Format(time.RFC3339),
	}
	mac := receiptMAC(k, receipt)
	answer := receipt
	s.mu.Lock()
	previous := s.previous
	s.previous = &receipt
	s.mu.Unlock()
	switch r.URL.Query().Get("answer") {
	case "replay":
		if previous == nil {
			http.Error(w, "nothing to replay", http.StatusConflict)
			return
		}
		answer = *previous
		mac = receiptMAC(s.lastKey(previous), *previous)
	case "status":
		answer.Status = protocol.StatusAlreadyEnrolled
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"version": answer.Version, "receipt_id": answer.ReceiptID, "status": answer.Status,
		"report_sha384": answer.ReportSHA384, "received_at": answer.ReceivedAt, "mac": mac,
	})
	s.remember(&receipt, k)
}

var keys sync.Map // *protocol.Receipt → k, for replays

func (s *server) remember(r *protocol.Receipt, k []byte) { keys.Store(r, k) }

func (s *server) lastKey(r *protocol.Receipt) []byte {
	k, _ := keys.Load(r)
	b, _ := k.([]byte)
	return b
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	static := flag.String("static", "web", "directory served at /")
	kemName := flag.String("kem", protocol.KEMMLKEM768X25519, "HPKE KEM")
	vectors := flag.String("vectors", filepath.Join("testdata", "protocol", "receipt-vectors.json"), "receipt MAC vectors to check first")
	flag.Parse()
	if err := checkVectors(*vectors); err != nil {
		fatal(err)
	}
	s := &server{reports: map[string][]byte{}}
	switch *kemName {
	case protocol.KEMMLKEM768X25519:
		s.kem = hpke.MLKEM768X25519()
	case protocol.KEMX25519:
		s.kem = hpke.DHKEM(ecdh.X25519())
	default:
		fatal(fmt.Errorf("unknown KEM %q", *kemName))
	}
	var err error
	if s.priv, err = s.kem.GenerateKey(); err != nil {
		fatal(err)
	}
	s.pub = protocol.HPKEKey{KEM: *kemName, KDF: protocol.KDFHKDFSHA256, AEAD: protocol.AEADAES256GCM, PublicKey: s.priv.PublicKey().Bytes()}
	// The encapsulation's size: seal once to ourselves.
	enc, _, err := hpke.NewSender(s.priv.PublicKey(), hpke.HKDFSHA256(), hpke.AES256GCM(), nil)
	if err != nil {
		fatal(err)
	}
	s.encSize = len(enc)
	if s.src, err = simulated.New(simulated.Options{}); err != nil {
		fatal(err)
	}
	if _, _, err := s.src.GetReport(context.Background(), [64]byte{}); err != nil {
		fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /attestation", s.attestation)
	mux.HandleFunc("POST /enroll", s.enroll)
	mux.HandleFunc("GET /simulated/ark.pem", func(w http.ResponseWriter, r *http.Request) { w.Write(s.src.SimulatedARK()) })
	mux.HandleFunc("GET /blank.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!doctype html><title>receipt test</title>"))
	})
	mux.Handle("/", http.FileServer(http.Dir(*static)))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fatal(err)
	}
	fmt.Printf("open http://%s/\n", ln.Addr())
	fatal(http.Serve(ln, mux))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "receiptgateway:", err)
	os.Exit(2)
}
