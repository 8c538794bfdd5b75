// Package acmetls gives the gateway a TLS certificate whose key never leaves
// the process: the key is made in memory at start, the certificate is
// obtained and renewed by ACME (RFC 8555, with golang.org/x/crypto/acme),
// and both live in memory only.
//
// The key is fixed for the life of the process, so its SubjectPublicKeyInfo
// can be bound into every attestation report (evidence protocol v2): a
// client that sees another key on its connection is talking to something in
// front of the attested machine. A certificate the ACME server returns for
// any other key is refused.
//
// Challenges: TLS-ALPN-01 (RFC 8737) on the gateway's own HTTPS listener,
// or HTTP-01 when the operator gives a port-80 listener (Manager.HTTPHandler
// serves the challenge there and nothing else). Until the first certificate
// arrives, every TLS handshake but an ACME validation's fails: nothing is
// served without TLS ending here.
//
// Renewal starts when a third of the certificate's lifetime remains.
// Failures are retried with exponential backoff and logged.
package acmetls

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
)

// LetsEncrypt is the default ACME directory: Let's Encrypt's production
// service.
const LetsEncrypt = acme.LetsEncryptURL

// Defaults of Config's zero values.
const (
	DefaultMinBackoff = 2 * time.Second
	DefaultMaxBackoff = 10 * time.Minute
	// attemptTimeout bounds one attempt at a certificate (order,
	// validations, finalization).
	attemptTimeout = 3 * time.Minute
)

// Errors, matchable with errors.Is.
var (
	// ErrNoCertificate is what a TLS handshake gets before the first
	// certificate, or after the last one expired.
	ErrNoCertificate = errors.New("acmetls: no certificate yet")
	// ErrCertificateKey means the ACME server issued a certificate for
	// another key than the one made here. It is never served.
	ErrCertificateKey = errors.New("acmetls: the certificate is for another key")
	// ErrCertificateNames means the certificate does not cover every domain.
	ErrCertificateNames = errors.New("acmetls: the certificate does not name every domain")
	// ErrCertificateTime means the certificate is not valid now.
	ErrCertificateTime = errors.New("acmetls: the certificate is not valid now")
)

// Config sets up a Manager.
type Config struct {
	// Domains the certificate must name. Required.
	Domains []string
	// DirectoryURL is the ACME server's directory. Empty: LetsEncrypt.
	DirectoryURL string
	// Roots are the CAs trusted for the ACME server's own HTTPS. Nil: the
	// system's.
	Roots *x509.CertPool
	// Email, when set, is the account's contact address.
	Email string
	// Profile, when set, names the certificate profile to order (a server's
	// "shortlived", say).
	Profile string
	// HTTP01 uses the HTTP-01 challenge, served by HTTPHandler on a port-80
	// listener, instead of TLS-ALPN-01 on the HTTPS listener.
	HTTP01 bool
	// MinBackoff and MaxBackoff bound the wait between failed attempts.
	MinBackoff, MaxBackoff time.Duration
	// Logger gets a line per attempt's outcome. Nil: discard.
	Logger *slog.Logger
	// Now is the clock. Nil: time.Now.
	Now func() time.Time

	// csrKey, in this package's tests only, signs the certificate request
	// instead of the TLS key, so that a real ACME server issues a
	// certificate for another key.
	csrKey crypto.Signer
}

// Manager holds the TLS key and its current certificate. Create it with
// New, start Run, and serve with TLSConfig (and HTTPHandler for HTTP-01).
type Manager struct {
	cfg    Config
	key    *ecdsa.PrivateKey
	spki   []byte
	client *acme.Client
	log    *slog.Logger
	now    func() time.Time

	cert  atomic.Pointer[tls.Certificate]
	ready chan struct{}
	once  sync.Once

	mu         sync.Mutex
	alpnCerts  map[string]*tls.Certificate // by domain, while a TLS-ALPN-01 validation is pending
	httpTokens map[string]string           // path → key authorization, while an HTTP-01 validation is pending
	registered bool
}

// New makes the TLS key and the ACME account key, in memory, and returns a
// Manager that has no certificate yet.
func New(cfg Config) (*Manager, error) {
	if len(cfg.Domains) == 0 {
		return nil, errors.New("acmetls: no domain given")
	}
	for _, d := range cfg.Domains {
		if d == "" || strings.ContainsAny(d, "/:* ") || strings.HasSuffix(d, ".") {
			return nil, fmt.Errorf("acmetls: %q is not a domain name", d)
		}
	}
	if cfg.DirectoryURL == "" {
		cfg.DirectoryURL = LetsEncrypt
	}
	if !strings.HasPrefix(cfg.DirectoryURL, "https://") {
		return nil, fmt.Errorf("acmetls: the ACME directory %q is not an https:// URL", cfg.DirectoryURL)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	m := &Manager{
		cfg:        cfg,
		log:        cfg.Logger,
		now:        cfg.Now,
		ready:      make(chan struct{}),
		alpnCerts:  map[string]*tls.Certificate{},
		httpTokens: map[string]string{},
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	var err error
	if m.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, fmt.Errorf("acmetls: making the TLS key: %w", err)
	}
	if m.spki, err = x509.MarshalPKIXPublicKey(m.key.Public()); err != nil {
		return nil, fmt.Errorf("acmetls: %w", err)
	}
	accountKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("acmetls: making the account key: %w", err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: cfg.Roots, MinVersion: tls.VersionTLS12}
	m.client = &acme.Client{
		Key:          accountKey,
		DirectoryURL: cfg.DirectoryURL,
		HTTPClient:   &http.Client{Transport: transport, Timeout: time.Minute},
		UserAgent:    "cvmtrust-gateway",
	}
	return m, nil
}

// SPKISHA256 is the SHA-256 of the TLS key's DER SubjectPublicKeyInfo: what
// evidence v2 binds.
func (m *Manager) SPKISHA256() []byte {
	sum := sha256.Sum256(m.spki)
	return sum[:]
}

// Ready is closed once the first certificate is installed.
func (m *Manager) Ready() <-chan struct{} { return m.ready }

// Certificate returns the certificate being served, or nil before the first.
func (m *Manager) Certificate() *x509.Certificate {
	if c := m.cert.Load(); c != nil {
		return c.Leaf
	}
	return nil
}

// TLSConfig serves the current certificate, and TLS-ALPN-01 challenge
// certificates to ACME validations.
func (m *Manager) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1", acme.ALPNProto},
		GetCertificate: m.getCertificate,
	}
}

func (m *Manager) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto {
		m.mu.Lock()
		c := m.alpnCerts[strings.ToLower(hello.ServerName)]
		m.mu.Unlock()
		if c == nil {
			return nil, fmt.Errorf("acmetls: no TLS-ALPN-01 validation pending for %q", hello.ServerName)
		}
		return c, nil
	}
	c := m.cert.Load()
	if c == nil || !m.now().Before(c.Leaf.NotAfter) {
		return nil, ErrNoCertificate
	}
	return c, nil
}

// HTTPHandler serves HTTP-01 challenges, for a port-80 listener, and
// answers everything else 404: nothing but the challenge goes over plain
// HTTP.
func (m *Manager) HTTPHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		resp, ok := m.httpTokens[r.URL.Path]
		m.mu.Unlock()
		if !ok || r.Method != http.MethodGet {
			http.Error(w, "this server answers only ACME challenges over plain HTTP; use https://", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(resp))
	})
}

// Run obtains the certificate, renews it when a third of its lifetime is
// left, and retries failures with exponential backoff, until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	backoff := m.cfg.MinBackoff
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := m.obtain(actx)
		cancel()
		var wait time.Duration
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			what := "no TLS certificate yet, so nothing is served"
			if c := m.Certificate(); c != nil {
				what = "renewal failed; the current certificate is served until " + c.NotAfter.UTC().Format(time.RFC3339)
			}
			m.log.Error("ACME: "+what+"; trying again", "domains", strings.Join(m.cfg.Domains, ","), "directory", m.cfg.DirectoryURL, "in", backoff, "err", err)
			wait, backoff = backoff, min(2*backoff, m.cfg.MaxBackoff)
		} else {
			backoff = m.cfg.MinBackoff
			leaf := m.Certificate()
			renewAt := leaf.NotAfter.Add(-leaf.NotAfter.Sub(leaf.NotBefore) / 3)
			m.log.Info("ACME: certificate installed", "domains", strings.Join(leaf.DNSNames, ","), "issuer", leaf.Issuer.String(),
				"serial", leaf.SerialNumber.Text(16), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339), "renew_at", renewAt.UTC().Format(time.RFC3339))
			wait = renewAt.Sub(m.now())
		}
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// obtain runs one ACME order to its certificate and installs it.
func (m *Manager) obtain(ctx context.Context) error {
	if !m.registered {
		acct := &acme.Account{}
		if m.cfg.Email != "" {
			acct.Contact = []string{"mailto:" + m.cfg.Email}
		}
		if _, err := m.client.Register(ctx, acct, acme.AcceptTOS); err != nil && !errors.Is(err, acme.ErrAccountAlreadyExists) {
			return fmt.Errorf("registering the ACME account: %w", err)
		}
		m.registered = true
	}
	var opts []acme.OrderOption
	if m.cfg.Profile != "" {
		opts = append(opts, acme.WithOrderIssuanceProfile(acme.ProfileName(m.cfg.Profile)))
	}
	order, err := m.client.AuthorizeOrder(ctx, acme.DomainIDs(m.cfg.Domains...), opts...)
	if err != nil {
		return fmt.Errorf("ordering: %w", err)
	}
	for _, u := range order.AuthzURLs {
		if err := m.authorize(ctx, u); err != nil {
			return err
		}
	}
	if order, err = m.client.WaitOrder(ctx, order.URI); err != nil {
		return fmt.Errorf("waiting for the order: %w", err)
	}
	csrKey := crypto.Signer(m.key)
	if m.cfg.csrKey != nil {
		csrKey = m.cfg.csrKey
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: m.cfg.Domains}, csrKey)
	if err != nil {
		return fmt.Errorf("making the certificate request: %w", err)
	}
	der, _, err := m.client.CreateCertFromOrder(ctx, order, csr, true)
	if err != nil {
		return fmt.Errorf("finalizing the order: %w", err)
	}
	return m.install(der)
}

// authorize completes one authorization with the configured challenge.
func (m *Manager) authorize(ctx context.Context, url string) error {
	z, err := m.client.GetAuthorization(ctx, url)
	if err != nil {
		return fmt.Errorf("fetching an authorization: %w", err)
	}
	if z.Status == acme.StatusValid {
		return nil
	}
	typ := "tls-alpn-01"
	if m.cfg.HTTP01 {
		typ = "http-01"
	}
	i := slices.IndexFunc(z.Challenges, func(c *acme.Challenge) bool { return c.Type == typ })
	if i < 0 {
		return fmt.Errorf("the ACME server offers no %s challenge for %s", typ, z.Identifier.Value)
	}
	chal := z.Challenges[i]
	domain := strings.ToLower(z.Identifier.Value)
	switch typ {
	case "tls-alpn-01":
		cert, err := m.client.TLSALPN01ChallengeCert(chal.Token, domain)
		if err != nil {
			return fmt.Errorf("making the TLS-ALPN-01 certificate: %w", err)
		}
		m.mu.Lock()
		m.alpnCerts[domain] = &cert
		m.mu.Unlock()
		defer func() { m.mu.Lock(); delete(m.alpnCerts, domain); m.mu.Unlock() }()
	case "http-01":
		resp, err := m.client.HTTP01ChallengeResponse(chal.Token)
		if err != nil {
			return fmt.Errorf("making the HTTP-01 response: %w", err)
		}
		path := m.client.HTTP01ChallengePath(chal.Token)
		m.mu.Lock()
		m.httpTokens[path] = resp
		m.mu.Unlock()
		defer func() { m.mu.Lock(); delete(m.httpTokens, path); m.mu.Unlock() }()
	}
	if _, err := m.client.Accept(ctx, chal); err != nil {
		return fmt.Errorf("accepting the %s challenge for %s: %w", typ, domain, err)
	}
	if _, err := m.client.WaitAuthorization(ctx, z.URI); err != nil {
		return fmt.Errorf("validating %s by %s: %w", domain, typ, err)
	}
	return nil
}

// install checks a certificate chain from the ACME server and serves it:
// its leaf must be for this Manager's key, name every domain and be valid
// now. Anything else is refused, and the certificate served stays as it
// was.
func (m *Manager) install(der [][]byte) error {
	if len(der) == 0 {
		return errors.New("the ACME server returned no certificate")
	}
	leaf, err := x509.ParseCertificate(der[0])
	if err != nil {
		return fmt.Errorf("the ACME server returned an unreadable certificate: %w", err)
	}
	if !bytes.Equal(leaf.RawSubjectPublicKeyInfo, m.spki) {
		return fmt.Errorf("%w: refused, serial %s", ErrCertificateKey, leaf.SerialNumber.Text(16))
	}
	for _, d := range m.cfg.Domains {
		if err := leaf.VerifyHostname(d); err != nil {
			return fmt.Errorf("%w: %s missing", ErrCertificateNames, d)
		}
	}
	if now := m.now(); now.Before(leaf.NotBefore) || !now.Before(leaf.NotAfter) {
		return fmt.Errorf("%w: valid %s to %s", ErrCertificateTime, leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	m.cert.Store(&tls.Certificate{Certificate: der, PrivateKey: m.key, Leaf: leaf})
	m.once.Do(func() { close(m.ready) })
	return nil
}
