// Package gateway is the reference service that runs inside an AMD SEV-SNP
// Confidential VM and proves itself to a browser before it receives a
// camera capture. It speaks evidence protocol v1, or v2 when its TLS key was
// made inside it (package protocol; Config.TLSKeySHA256).
//
// # Endpoints
//
//	GET  /attestation?nonce=<base64url, 32 bytes>   Evidence JSON: a fresh report binding nonce and HPKE key
//	POST /enroll                                      EnrollRequest JSON -> Receipt JSON
//	GET  /simulated/ark.pem                           simulated mode only: the fake AMD root to trust
//	GET  /simulated/kds/vcek/v1/Milan/crl             simulated mode only: the fake root's CRL, as AMD's KDS serves one
//	GET  /...                                         static files (the widget), when Config.StaticDir is set
//
// Every error is an ErrorBody JSON with a stable code (the Code* constants).
//
// # Keys and data
//
// The HPKE key pair is generated in memory by New and never leaves the
// process. Uploads are decrypted in memory, handed to the Matcher and wiped;
// nothing is logged or written to disk but error codes. Each receipt carries
// a MAC under a key exported from the upload's HPKE context
// (protocol.ReceiptMAC), so the page can tell it came from the attested
// gateway and answers this upload.
//
// # The matcher
//
// A Matcher decides whether a capture is a new person. ProcessMatcher runs
// one as a separate process speaking matcher protocol v1 (MatcherRequest,
// MatcherResponse), normally inside package gateway/sandbox; cvmtrust
// gateway always does. ReferenceMatcher is the in-process stand-in.
//
// # Bounds
//
// Uploads wait for a share of a memory budget before their body is read
// (Config.EnrollMemory); images are refused before decoding when their
// decoded size would pass MaxDecodedBytes; served reports are never evicted
// before their TTL (Config.MaxReports), and each client may hold only a few
// of them (Config.MaxReportsPerClient), so one client's flood of
// attestations neither fails served users nor locks new ones out.
//
// # Report sources
//
// A ReportSource produces the signed reports: SNPSource asks the guest's AMD
// Secure Processor (configfs-tsm or /dev/sev-guest); package
// gateway/simulated signs with a locally generated fake AMD chain for
// development and says so.
package gateway

import (
	"context"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/protocol/seal"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxEnrollBytes      = 8 << 20
	DefaultReportTTL           = 10 * time.Minute
	DefaultMaxReports          = 100000
	DefaultMaxReportsPerClient = 64
	DefaultMaxUploadsPerReport = 8
	// DefaultEnrollMemory bounds the memory held by uploads in flight. An
	// upload of n bytes is charged enrollMemoryFactor×n: the body, the
	// decoded ciphertext, the plaintext, the capture's image and the
	// matcher's frame each take at most about n.
	DefaultEnrollMemory = 256 << 20
	// DefaultEnrollWait is how long an upload waits for memory before it
	// is answered 503 busy.
	DefaultEnrollWait  = 10 * time.Second
	enrollMemoryFactor = 4
)

// Config sets up a Gateway.
type Config struct {
	// Source produces attestation reports. Required.
	Source ReportSource
	// Matcher receives decrypted captures. Nil: a new ReferenceMatcher.
	Matcher Matcher
	// KEM is protocol.KEMMLKEM768X25519 (the default when empty) or
	// protocol.KEMX25519.
	KEM string
	// AllowedOrigins lists the origins (scheme://host[:port]) whose pages
	// may call the API from a browser; "*" allows any. Same-origin pages
	// (the widget served from StaticDir) need no entry.
	AllowedOrigins []string
	// StaticDir, when set, is served at / (the widget and its demo page).
	StaticDir string
	// Release is the release the gateway claims to run, passed on in the
	// evidence. Optional.
	Release *protocol.Release
	// TLSKeySHA256, when set, is the SHA-256 of the SubjectPublicKeyInfo of
	// the TLS key the gateway serves with, made inside it and never let out
	// (package gateway/acmetls). The evidence is then protocol v2, which
	// binds it. Never set it for a key that came from outside: binding a
	// key an operator holds would vouch for whoever holds it.
	TLSKeySHA256 []byte
	// MaxEnrollBytes bounds the POST /enroll body. Zero: DefaultMaxEnrollBytes.
	MaxEnrollBytes int64
	// ReportTTL is how long a served report can be enrolled against.
	// Zero: DefaultReportTTL.
	ReportTTL time.Duration
	// MaxReports bounds how many served reports are remembered (a report
	// hash and its uploads' hashes, about 200 bytes each). When it is
	// reached, GET /attestation answers 503 busy until reports expire: a
	// flood of attestations can delay new users but never evicts the report
	// a served user is about to enroll against. Zero: DefaultMaxReports.
	MaxReports int
	// MaxReportsPerClient bounds the served reports one client (an IPv4
	// address or an IPv6 /64, from the connection) holds at once; past it
	// that client gets 429 too_many_attestations, before a report is made,
	// until one of its reports expires. So one client cannot fill
	// MaxReports and lock everyone else out. Zero:
	// DefaultMaxReportsPerClient; negative: no per-client bound, for a
	// gateway behind a proxy that hides the clients' addresses (the proxy
	// must then limit them).
	MaxReportsPerClient int
	// MaxUploadsPerReport bounds the uploads sealed to one report. Zero:
	// DefaultMaxUploadsPerReport.
	MaxUploadsPerReport int
	// EnrollMemory bounds the memory of uploads in flight, in bytes; an
	// upload waits up to EnrollWait for its share (4× its declared length,
	// or 4× MaxEnrollBytes when it declares none), then gets 503 busy.
	// Zero: DefaultEnrollMemory and DefaultEnrollWait. EnrollMemory must be
	// at least 4× MaxEnrollBytes.
	EnrollMemory int64
	EnrollWait   time.Duration
	// Logger receives one line per failed request (code only). Nil: discard.
	Logger *slog.Logger
	// Now is the clock. Nil: time.Now.
	Now func() time.Time
}

// Gateway serves evidence and enrollments. Create it with New; it is an
// http.Handler and safe for concurrent use.
type Gateway struct {
	source  ReportSource
	matcher Matcher
	suite   seal.Suite
	key     hpke.PrivateKey
	pub     protocol.HPKEKey
	origins []string
	release *protocol.Release
	tlsKey  *protocol.TLSKey
	maxBody int64
	served  *servedReports
	// floodLog lets one line in ten seconds through for the refusals of a
	// client over its budget: a flood must not become a flood of logs.
	floodLog *everyInterval
	budget   *byteBudget
	wait     time.Duration
	log      *slog.Logger
	now      func() time.Time
	mux      *http.ServeMux
}

// New generates the gateway's HPKE key pair and returns a Gateway.
func New(cfg Config) (*Gateway, error) {
	if cfg.Source == nil {
		return nil, errors.New("gateway: Config.Source is required")
	}
	g := &Gateway{
		source:  cfg.Source,
		matcher: cfg.Matcher,
		origins: slices.Clone(cfg.AllowedOrigins),
		release: cfg.Release,
		maxBody: cfg.MaxEnrollBytes,
		log:     cfg.Logger,
		now:     cfg.Now,
	}
	if g.matcher == nil {
		g.matcher = NewReferenceMatcher()
	}
	if cfg.TLSKeySHA256 != nil {
		if len(cfg.TLSKeySHA256) != protocol.TLSKeySize {
			return nil, fmt.Errorf("gateway: TLSKeySHA256 is %d bytes, want %d", len(cfg.TLSKeySHA256), protocol.TLSKeySize)
		}
		g.tlsKey = &protocol.TLSKey{SPKISHA256: slices.Clone(cfg.TLSKeySHA256)}
	}
	if g.maxBody <= 0 {
		g.maxBody = DefaultMaxEnrollBytes
	}
	mem, wait := cfg.EnrollMemory, cfg.EnrollWait
	if mem <= 0 {
		mem = DefaultEnrollMemory
	}
	if wait <= 0 {
		wait = DefaultEnrollWait
	}
	if mem < enrollMemoryFactor*g.maxBody {
		return nil, fmt.Errorf("gateway: EnrollMemory %d is less than 4× MaxEnrollBytes %d", mem, g.maxBody)
	}
	g.budget, g.wait = newByteBudget(mem), wait
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	for _, o := range g.origins {
		if err := CheckOrigin(o); err != nil {
			return nil, err
		}
	}
	kem := cfg.KEM
	if kem == "" {
		kem = protocol.KEMMLKEM768X25519
	}
	g.pub = protocol.HPKEKey{KEM: kem, KDF: protocol.KDFHKDFSHA256, AEAD: protocol.AEADAES256GCM}
	suite, err := seal.ResolveSuite(g.pub)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.suite = suite
	g.key, err = suite.KEM.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("gateway: generating the HPKE key: %w", err)
	}
	g.pub.PublicKey = g.key.PublicKey().Bytes()

	ttl, maxReports, perClient, maxUploads := cfg.ReportTTL, cfg.MaxReports, cfg.MaxReportsPerClient, cfg.MaxUploadsPerReport
	if ttl <= 0 {
		ttl = DefaultReportTTL
	}
	if maxReports <= 0 {
		maxReports = DefaultMaxReports
	}
	switch {
	case perClient == 0:
		perClient = DefaultMaxReportsPerClient
	case perClient < 0:
		perClient = 0
	}
	if maxUploads <= 0 {
		maxUploads = DefaultMaxUploadsPerReport
	}
	g.served = newServedReports(ttl, maxReports, perClient, maxUploads, g.now)
	g.floodLog = &everyInterval{interval: 10 * time.Second, now: g.now}

	g.mux = http.NewServeMux()
	g.mux.HandleFunc("/attestation", g.api("GET", g.attestation))
	g.mux.HandleFunc("/enroll", g.api("POST", g.enroll))
	if sim, ok := cfg.Source.(SimulatedSource); ok {
		ark := sim.SimulatedARK()
		g.mux.HandleFunc("GET /simulated/ark.pem", func(w http.ResponseWriter, r *http.Request) {
			g.cors(w, r)
			w.Header().Set("Content-Type", "application/x-pem-file")
			w.Write(ark)
		})
		// A KDS of the fake chain, for a page's kds-proxy: revocation is
		// then checked against the simulated root as against AMD's.
		g.mux.HandleFunc("GET /simulated/kds/{path...}", func(w http.ResponseWriter, r *http.Request) {
			g.cors(w, r)
			doc, ok, err := sim.SimulatedKDS("/" + r.PathValue("path"))
			switch {
			case err != nil:
				g.log.Error("simulated KDS", "path", r.URL.Path, "err", err)
				http.Error(w, "the simulated KDS cannot sign its document", http.StatusInternalServerError)
			case !ok:
				http.NotFound(w, r)
			default:
				w.Header().Set("Content-Type", "application/pkix-crl")
				w.Write(doc)
			}
		})
	}
	if cfg.StaticDir != "" {
		files := staticFiles(cfg.StaticDir)
		g.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				g.writeError(w, r, &apiError{http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use GET"})
				return
			}
			files.ServeHTTP(w, r)
		})
	}
	return g, nil
}

// CheckOrigin returns an error unless o can be an entry of
// Config.AllowedOrigins: "*" or scheme://host[:port], as browsers send it in
// the Origin header (no path, no trailing slash).
func CheckOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
		u.String() != o {
		return fmt.Errorf("gateway: allowed origin %q is not of the form scheme://host[:port]", o)
	}
	return nil
}

// PublicKey returns the HPKE suite and public key the gateway binds into
// its reports.
func (g *Gateway) PublicKey() protocol.HPKEKey {
	k := g.pub
	k.PublicKey = slices.Clone(k.PublicKey)
	return k
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	g.mux.ServeHTTP(w, r)
}

// Error codes of ErrorBody.Code.
const (
	CodeMethodNotAllowed = "method_not_allowed"
	CodeOriginNotAllowed = "origin_not_allowed"
	CodeMissingNonce     = "missing_nonce"
	CodeBadNonce         = "bad_nonce"
	CodeReportFailed     = "report_failed"
	CodeBodyTooLarge     = "body_too_large"
	CodeBadContentType   = "bad_content_type"
	CodeBadRequest       = "bad_request"
	CodeBadVersion       = "unsupported_version"
	CodeWrongKEM         = "wrong_kem"
	CodeUnknownReport    = "unknown_report"
	CodeReplay           = "replay"
	CodeTooManyUploads   = "too_many_uploads"
	CodeDecryptFailed    = "decrypt_failed"
	CodeBadCapture       = "bad_capture"
	CodeBadImage         = "bad_image"
	CodeMatcherFailed    = "matcher_failed"
	CodeMatcherDown      = "matcher_unavailable"
	CodeBusy             = "busy"
	CodeTooManyAttests   = "too_many_attestations"
)

// apiError is an error answer: status, code and a message for people.
type apiError struct {
	status int
	code   string
	msg    string
}

func (g *Gateway) api(method string, h func(*http.Request) (any, *apiError)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		allowed := g.cors(w, r)
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" {
			if !allowed {
				g.writeError(w, r, &apiError{http.StatusForbidden, CodeOriginNotAllowed, "origin not allowed"})
				return
			}
			w.Header().Set("Access-Control-Allow-Methods", method+", OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != method {
			w.Header().Set("Allow", method+", OPTIONS")
			g.writeError(w, r, &apiError{http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use " + method})
			return
		}
		v, aerr := h(r)
		if aerr != nil {
			switch aerr.code {
			case CodeBusy:
				w.Header().Set("Retry-After", "5")
			case CodeTooManyAttests:
				w.Header().Set("Retry-After", "60")
			}
			g.writeError(w, r, aerr)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
}

// cors adds the CORS headers when the request's Origin is allowed and
// reports whether it is.
func (g *Gateway) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	w.Header().Add("Vary", "Origin")
	if !slices.Contains(g.origins, "*") && !slices.Contains(g.origins, origin) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return true
}

func (g *Gateway) writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	if e.code != CodeTooManyAttests || g.floodLog.Allow() {
		g.log.Info("request refused", "method", r.Method, "path", r.URL.Path, "status", e.status, "code", e.code)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(protocol.ErrorBody{Error: e.msg, Code: e.code})
}

// ParseNonce decodes the nonce query parameter: base64url, padded or not,
// exactly protocol.NonceSize bytes.
func ParseNonce(s string) ([]byte, error) {
	enc := base64.RawURLEncoding
	if strings.HasSuffix(s, "=") {
		enc = base64.URLEncoding
	}
	b, err := enc.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("nonce is not base64url: %w", err)
	}
	if len(b) != protocol.NonceSize {
		return nil, fmt.Errorf("%w: got %d", protocol.ErrNonceSize, len(b))
	}
	return b, nil
}

func (g *Gateway) attestation(r *http.Request) (any, *apiError) {
	q := r.URL.Query()
	if !q.Has("nonce") {
		return nil, &apiError{http.StatusBadRequest, CodeMissingNonce, "query parameter nonce (base64url, 32 bytes) is required"}
	}
	if len(q["nonce"]) != 1 {
		return nil, &apiError{http.StatusBadRequest, CodeBadNonce, "give nonce once"}
	}
	nonce, err := ParseNonce(q.Get("nonce"))
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, CodeBadNonce, err.Error()}
	}
	version, rd := protocol.Version, [64]byte{}
	if g.tlsKey != nil {
		version = protocol.VersionTLS
		rd, err = protocol.ReportDataV2(nonce, g.tlsKey.SPKISHA256, g.pub.PublicKey)
	} else {
		rd, err = protocol.ReportData(nonce, g.pub.PublicKey)
	}
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, CodeBadNonce, err.Error()}
	}
	// The place is claimed before the platform signs: a refused client
	// costs a map lookup, not a report.
	client := clientOf(r.RemoteAddr)
	switch g.served.admit(client) {
	case clientOverBudget:
		return nil, &apiError{http.StatusTooManyRequests, CodeTooManyAttests, "this address asked for too many attestations in the last minutes; try again later"}
	case memoryFull:
		return nil, &apiError{http.StatusServiceUnavailable, CodeBusy, "the gateway is serving too many people right now; try again in a minute"}
	}
	report, certs, err := g.source.GetReport(r.Context(), rd)
	if err != nil {
		g.served.cancel(client)
		g.log.Error("attestation report failed", "err", err)
		return nil, &apiError{http.StatusServiceUnavailable, CodeReportFailed, "the platform did not produce a report"}
	}
	// The firmware places REPORT_DATA at 0x50; a report that does not carry
	// the binding would only be rejected by every verifier.
	if len(report) != protocol.ReportSize || subtle.ConstantTimeCompare(report[0x50:0x90], rd[:]) != 1 {
		g.served.cancel(client)
		g.log.Error("attestation report does not carry the requested REPORT_DATA")
		return nil, &apiError{http.StatusServiceUnavailable, CodeReportFailed, "the platform produced an unusable report"}
	}
	g.served.add(client, report)
	return protocol.Evidence{
		Version: version,
		Report:  report,
		Certs:   certs,
		HPKE:    g.pub,
		TLS:     g.tlsKey,
		Release: g.release,
	}, nil
}

func (g *Gateway) enroll(r *http.Request) (any, *apiError) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, &apiError{http.StatusUnsupportedMediaType, CodeBadContentType, "send application/json"}
		}
	}
	// Memory is charged before a byte of the body is read, by the length
	// the client declares (or the limit, for a body of unknown length).
	if r.ContentLength > g.maxBody {
		return nil, &apiError{http.StatusRequestEntityTooLarge, CodeBodyTooLarge, fmt.Sprintf("body larger than %d bytes", g.maxBody)}
	}
	charge := g.maxBody
	if r.ContentLength >= 0 {
		charge = r.ContentLength
	}
	charge = enrollMemoryFactor * max(charge, 1)
	wctx, cancel := context.WithTimeout(r.Context(), g.wait)
	err := g.budget.acquire(wctx, charge)
	cancel()
	if err != nil {
		return nil, &apiError{http.StatusServiceUnavailable, CodeBusy, "the gateway is receiving too many uploads right now; try again in a minute"}
	}
	defer g.budget.release(charge)
	limit := g.maxBody
	if r.ContentLength >= 0 {
		limit = r.ContentLength
	}
	req, aerr := decodeEnrollRequest(http.MaxBytesReader(nil, r.Body, limit), g.served.known)
	if aerr != nil {
		if aerr.code == CodeBodyTooLarge {
			aerr.msg = fmt.Sprintf("body larger than %d bytes", g.maxBody)
		}
		return nil, aerr
	}
	if req.Version != protocol.Version {
		return nil, &apiError{http.StatusBadRequest, CodeBadVersion, fmt.Sprintf("protocol version %d, this gateway speaks %d", req.Version, protocol.Version)}
	}
	if req.KEM != g.pub.KEM {
		return nil, &apiError{http.StatusBadRequest, CodeWrongKEM, fmt.Sprintf("KEM %q, this gateway's key is %s", req.KEM, g.pub.KEM)}
	}
	if len(req.ReportSHA384) != sha512.Size384 {
		return nil, &apiError{http.StatusBadRequest, CodeBadRequest, "report_sha384 must be 48 bytes"}
	}
	if len(req.Ciphertext) == 0 {
		return nil, &apiError{http.StatusBadRequest, CodeDecryptFailed, "ciphertext is empty"}
	}
	reportHash := [48]byte(req.ReportSHA384)
	ctHash := sha256.Sum256(req.Ciphertext)
	res := g.served.reserve(reportHash, ctHash)
	switch res {
	case unknownReport:
		return nil, &apiError{http.StatusBadRequest, CodeUnknownReport, "report " + hex.EncodeToString(req.ReportSHA384[:8]) + "… was not served by this gateway or has expired; fetch fresh evidence"}
	case replayedUpload:
		return nil, &apiError{http.StatusConflict, CodeReplay, "this ciphertext was already received"}
	case tooManyUploads:
		return nil, &apiError{http.StatusTooManyRequests, CodeTooManyUploads, "too many uploads for this report; fetch fresh evidence"}
	}
	receipt, aerr := g.openAndMatch(r.Context(), reportHash, req)
	if aerr != nil {
		g.served.release(reportHash, ctHash)
		return nil, aerr
	}
	return receipt, nil
}

// decodeEnrollRequest decodes an EnrollRequest strictly (known fields only,
// nothing after the object) as it streams in. As soon as report_sha384 is
// read, known says whether that report was served: an upload naming an
// unknown report is refused before its ciphertext is read.
func decodeEnrollRequest(body io.Reader, known func([48]byte) bool) (protocol.EnrollRequest, *apiError) {
	var req protocol.EnrollRequest
	bad := func(err error) *apiError {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &apiError{http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "body too large"}
		}
		return &apiError{http.StatusBadRequest, CodeBadRequest, "body is not an EnrollRequest: " + err.Error()}
	}
	dec := json.NewDecoder(body)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		if err == nil || err == io.EOF {
			err = errors.New("not a JSON object")
		}
		return req, bad(err)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return req, bad(err)
		}
		switch key, _ := t.(string); key {
		case "version":
			err = dec.Decode(&req.Version)
		case "kem":
			err = dec.Decode(&req.KEM)
		case "ciphertext":
			err = dec.Decode(&req.Ciphertext)
		case "report_sha384":
			err = dec.Decode(&req.ReportSHA384)
			if err == nil && len(req.ReportSHA384) == sha512.Size384 && !known([48]byte(req.ReportSHA384)) {
				return req, &apiError{http.StatusBadRequest, CodeUnknownReport, "report " + hex.EncodeToString(req.ReportSHA384[:8]) + "… was not served by this gateway or has expired; fetch fresh evidence"}
			}
		default:
			err = fmt.Errorf("unknown field %q", key)
		}
		if err != nil {
			return req, bad(err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return req, bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("trailing data after the JSON object")
		}
		return req, bad(err)
	}
	return req, nil
}

// openAndMatch decrypts the upload, hands the capture to the matcher and
// wipes the plaintext.
func (g *Gateway) openAndMatch(ctx context.Context, reportHash [48]byte, req protocol.EnrollRequest) (*protocol.Receipt, *apiError) {
	plaintext, receiptKey, err := seal.Open(g.suite, g.key, protocol.EnrollInfoForHash(reportHash), req.Ciphertext)
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, CodeDecryptFailed, "ciphertext does not open with this gateway's key for that report"}
	}
	defer clear(plaintext)
	defer clear(receiptKey)
	var c protocol.Capture
	err = json.Unmarshal(plaintext, &c)
	defer clear(c.Image)
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, CodeBadCapture, "plaintext is not a Capture"}
	}
	already, err := g.matcher.Enroll(ctx, c)
	if errors.Is(err, ErrBadImage) {
		return nil, &apiError{http.StatusUnprocessableEntity, CodeBadImage, err.Error()}
	}
	if errors.Is(err, ErrMatcherUnavailable) {
		return nil, &apiError{http.StatusServiceUnavailable, CodeMatcherDown, "the matcher is restarting; nothing was stored, try again"}
	}
	if err != nil {
		g.log.Error("matcher failed", "err", err)
		return nil, &apiError{http.StatusInternalServerError, CodeMatcherFailed, "the matcher failed"}
	}
	id := make([]byte, 16)
	rand.Read(id)
	status := protocol.StatusEnrolled
	if already {
		status = protocol.StatusAlreadyEnrolled
	}
	rc := &protocol.Receipt{
		Version:      protocol.Version,
		ReceiptID:    hex.EncodeToString(id),
		Status:       status,
		ReportSHA384: slices.Clone(req.ReportSHA384),
		ReceivedAt:   g.now().UTC().Format(time.RFC3339),
	}
	rc.MAC = protocol.ReceiptMAC(receiptKey, *rc)
	return rc, nil
}
