package pid1

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"path/filepath"
	"strings"
)

// ConfigName is the fw_cfg file the operator's settings come in:
// qemu-system-x86_64 -fw_cfg name=opt/org.cvmtrust/config,file=config.json
const ConfigName = "opt/org.cvmtrust/config"

// MaxConfigSize bounds the settings (a release bundle is the largest part).
const MaxConfigSize = 1 << 20

// Config is what the operator tells the guest at launch. It is not part of
// the measurement (fw_cfg is the host's, and the host is not trusted), so
// nothing in it may weaken a check, and nothing does:
//
//   - Domains, the ACME directory, its root and the e-mail address only decide
//     which certificate the gateway asks for, and from whom. The TLS key is
//     made inside the guest and its hash is bound into every report, so a
//     certificate for a wrong domain, or from a CA the operator runs, can be
//     told apart by anyone who checks the binding.
//   - ReleaseBundle is served to pages, which verify it against the signer
//     they pin; a wrong bundle makes the page refuse, never accept. (It is
//     made after the image is built, from the image's digests, so it cannot
//     be in the image.)
//   - Simulated is honoured only when the guest has no SEV-SNP report
//     interface; its reports are then signed by a fake AMD chain that no
//     verifier trusts unless told to, and that says SIMULATED. Its Sigstore
//     root is served under /simulated/ and trusted only by a page told to.
type Config struct {
	Domains       []string         `json:"domains,omitempty"`
	ACMEDirectory string           `json:"acme_directory,omitempty"`
	ACMERoot      string           `json:"acme_root,omitempty"`
	ACMEEmail     string           `json:"acme_email,omitempty"`
	ReleaseBundle json.RawMessage  `json:"release_bundle,omitempty"`
	Simulated     *SimulatedConfig `json:"simulated,omitempty"`
}

// SimulatedConfig is for a guest booted without SEV-SNP (scripts/run-guest.sh
// --simulated): the launch digest the host computed for the artifacts it
// booted, which the fake reports then carry, and the trusted root of the
// SIMULATED Sigstore instance that signed ReleaseBundle, served for pages
// told to trust it.
type SimulatedConfig struct {
	Measurement         string          `json:"measurement"`
	SigstoreTrustedRoot json.RawMessage `json:"sigstore_trusted_root,omitempty"`
}

// ErrConfig means the operator's settings are not usable; the guest powers
// off rather than run on half of them.
var ErrConfig = errors.New("the operator's settings (fw_cfg " + ConfigName + ") are not usable")

// ParseConfig reads the settings strictly: unknown fields, trailing data and
// malformed values are errors.
func ParseConfig(b []byte) (*Config, error) {
	if len(b) > MaxConfigSize {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrConfig, len(b), MaxConfigSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrConfig)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &c, nil
}

func (c *Config) check() error {
	for _, d := range c.Domains {
		if !isDNSName(d) {
			return fmt.Errorf("domain %q is not a DNS name", d)
		}
	}
	if len(c.Domains) == 0 && (c.ACMEDirectory != "" || c.ACMERoot != "" || c.ACMEEmail != "") {
		return errors.New("acme_directory, acme_root and acme_email need domains")
	}
	if c.ACMEDirectory != "" {
		u, err := url.Parse(c.ACMEDirectory)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			return fmt.Errorf("acme_directory %q is not an https URL", c.ACMEDirectory)
		}
	}
	if c.ACMERoot != "" {
		if err := checkPEMCertificates(c.ACMERoot); err != nil {
			return fmt.Errorf("acme_root: %w", err)
		}
	}
	if c.ACMEEmail != "" {
		if a, err := mail.ParseAddress(c.ACMEEmail); err != nil || a.Address != c.ACMEEmail {
			return fmt.Errorf("acme_email %q is not an e-mail address", c.ACMEEmail)
		}
	}
	if len(c.ReleaseBundle) > 0 && !json.Valid(c.ReleaseBundle) {
		return errors.New("release_bundle is not JSON")
	}
	if s := c.Simulated; s != nil {
		if m, err := hex.DecodeString(s.Measurement); err != nil || len(m) != 48 {
			return fmt.Errorf("simulated.measurement %q is not 96 hex digits", s.Measurement)
		}
		if len(s.SigstoreTrustedRoot) > 0 && !json.Valid(s.SigstoreTrustedRoot) {
			return errors.New("simulated.sigstore_trusted_root is not JSON")
		}
	}
	return nil
}

// isDNSName accepts lower-case host names: labels of letters, digits and
// hyphens, not starting or ending with a hyphen, at least two labels.
func isDNSName(s string) bool {
	if len(s) > 253 || !strings.Contains(s, ".") && s != "localhost" {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func checkPEMCertificates(s string) error {
	rest := []byte(s)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("a %q block, not a CERTIFICATE", b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return err
		}
		n++
	}
	if n == 0 || len(bytes.TrimSpace(rest)) > 0 {
		return errors.New("not PEM certificates")
	}
	return nil
}

// Ports the gateway listens on in the guest: HTTPS with a certificate from
// ACME when domains are set, plain HTTP otherwise (for a TLS-terminating
// proxy in front, or a host port forward in simulated runs).
const (
	HTTPSPort = 443
	HTTPPort  = 80
)

// WebRoot is where the image holds the widget's page and files.
const WebRoot = "/usr/share/cvmtrust/web"

// VendorMatcherPath is where build-guest.sh --matcher puts a vendor's
// matcher; without one the gateway runs its reference matcher.
const VendorMatcherPath = "/usr/lib/cvmtrust/matcher"

// Guest is what PID 1 found out about the machine and the image.
type Guest struct {
	// Simulated: the guest has no SEV-SNP report interface.
	Simulated bool
	// VendorMatcher: the image holds a matcher at VendorMatcherPath.
	VendorMatcher bool
	// RunDir is where the files the gateway reads are written.
	RunDir string
}

// GatewayArgs returns the gateway's command line for these settings on this
// guest, and the files it reads (name in g.RunDir → contents), which PID 1
// writes first.
func (c *Config) GatewayArgs(g Guest) (args []string, files map[string][]byte) {
	files = map[string][]byte{}
	dir := g.RunDir
	args = []string{"gateway", "--static", WebRoot}
	if g.VendorMatcher {
		args = append(args, "--matcher-exec", VendorMatcherPath)
	}
	if len(c.Domains) > 0 {
		args = append(args, "--listen", fmt.Sprintf(":%d", HTTPSPort), "--tls-acme", strings.Join(c.Domains, ","))
		if c.ACMEDirectory != "" {
			args = append(args, "--acme-directory", c.ACMEDirectory)
		}
		if c.ACMERoot != "" {
			files["acme-root.pem"] = []byte(c.ACMERoot)
			args = append(args, "--acme-root", filepath.Join(dir, "acme-root.pem"))
		}
		if c.ACMEEmail != "" {
			args = append(args, "--acme-email", c.ACMEEmail)
		}
	} else {
		args = append(args, "--listen", fmt.Sprintf(":%d", HTTPPort))
	}
	if len(c.ReleaseBundle) > 0 {
		files["release.sigstore.json"] = c.ReleaseBundle
		args = append(args, "--release-bundle", filepath.Join(dir, "release.sigstore.json"))
	}
	if g.Simulated {
		args = append(args, "--simulated")
		if s := c.Simulated; s != nil {
			args = append(args, "--measurement", s.Measurement)
			if len(s.SigstoreTrustedRoot) > 0 {
				files["sigstore-trusted-root.json"] = s.SigstoreTrustedRoot
				args = append(args, "--sim-sigstore-root", filepath.Join(dir, "sigstore-trusted-root.json"))
			}
		}
	}
	return args, files
}
