package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cvmtrust/cvmtrust/sigstore"
)

func init() {
	register("release", "verify a release's Sigstore bundle (release verify-bundle)", runRelease)
}

const releaseUsage = `usage: cvmtrust release verify-bundle --bundle FILE --certificate-identity ID --certificate-oidc-issuer URL [--trusted-root FILE] FILE_OR_DIGEST
       cvmtrust release verify-bundle --bundle FILE --key PUBKEY [--trusted-root FILE] FILE_OR_DIGEST
       cvmtrust release verify --bundle FILE --repo OWNER/NAME [...]   (a release bundle, as the page checks it; --help)
       cvmtrust release sign-simulated --manifest FILE --bundle OUT --trusted-root OUT   (SIMULATED signing, for tests; --help)

Verifies a Sigstore bundle: the signature over the artifact (or, for a DSSE
bundle, that the artifact is a subject of the signed in-toto statement), the
Fulcio certificate and its identity, the transparency log entry and any
RFC 3161 timestamps, against the Sigstore public-good trusted root unless
--trusted-root names another. FILE_OR_DIGEST is a path or sha256:<64 hex>.
The flags follow the sigstore-conformance client protocol.

Exit status: 0 verified, 1 rejected, 2 unusable input.

flags:
`

func runRelease(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "verify" {
		return runVerifyRelease(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "sign-simulated" {
		return runReleaseSignSimulated(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "verify-bundle" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stderr, releaseUsage)
			return exitOK
		}
		fmt.Fprint(stderr, releaseUsage)
		return exitUsage
	}
	return runVerifyBundle(args[1:], stdout, stderr)
}

type verifyBundleFlags struct {
	bundle, identity, identityRegexp, issuer, key, trustedRoot, repo, ref, workflow string
	maxAge                                                                          time.Duration
	jsonOut, staging                                                                bool
}

func runVerifyBundle(args []string, stdout, stderr io.Writer) int {
	var f verifyBundleFlags
	fs := flag.NewFlagSet("cvmtrust release verify-bundle", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.bundle, "bundle", "", "the Sigstore bundle (JSON)")
	fs.StringVar(&f.identity, "certificate-identity", "", "the signer's identity (the certificate's SAN), exactly")
	fs.StringVar(&f.identityRegexp, "certificate-identity-regexp", "", "the signer's identity, as an RE2 expression matching all of it")
	fs.StringVar(&f.issuer, "certificate-oidc-issuer", "", "the OIDC issuer, exactly")
	fs.StringVar(&f.key, "key", "", "a PEM public key that signed the bundle (instead of an identity)")
	fs.StringVar(&f.trustedRoot, "trusted-root", "", "a trusted_root.json to use instead of the embedded public-good one")
	fs.StringVar(&f.repo, "repo", "", "the source repository, owner/name")
	fs.StringVar(&f.ref, "ref", "", "a glob the source ref must match, such as refs/tags/v*")
	fs.StringVar(&f.workflow, "workflow", "", "the signing workflow's path, such as .github/workflows/release.yml")
	fs.DurationVar(&f.maxAge, "max-age", 0, "reject a bundle signed longer ago than this, such as 720h")
	fs.BoolVar(&f.jsonOut, "json", false, "print the result as JSON")
	fs.BoolVar(&f.staging, "staging", false, "use Sigstore's staging instance (needs --trusted-root: its root is not embedded)")
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stderr, releaseUsage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return exitOK
	case err != nil:
		return usageError(stderr, "release verify-bundle: %v", err)
	case fs.NArg() != 1:
		return usageError(stderr, "release verify-bundle: give exactly one artifact path or sha256:<digest> after the flags")
	case f.bundle == "":
		return usageError(stderr, "release verify-bundle: --bundle is required")
	case f.staging && f.trustedRoot == "":
		return usageError(stderr, "release verify-bundle: the staging trusted root is not embedded; pass it with --trusted-root")
	}
	v, policy, bundle, err := f.build(fs.Arg(0))
	if err != nil {
		return usageError(stderr, "release verify-bundle: %v", err)
	}
	res, err := v.Verify(context.Background(), bundle, policy)
	var rej *sigstore.RejectedError
	switch {
	case err == nil:
	case errors.As(err, &rej):
		res = rej.Result
	default:
		return usageError(stderr, "release verify-bundle: %v", err)
	}
	if f.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return usageError(stderr, "%v", err)
		}
	} else {
		printBundleResult(stdout, res)
	}
	if !res.Verified {
		return exitRejected
	}
	return exitOK
}

// build reads every file the flags name. Any error is unusable input.
func (f *verifyBundleFlags) build(artifact string) (*sigstore.Verifier, sigstore.Policy, []byte, error) {
	var p sigstore.Policy
	bundle, err := os.ReadFile(f.bundle)
	if err != nil {
		return nil, p, nil, err
	}
	var opts sigstore.Options
	if f.trustedRoot != "" {
		data, err := os.ReadFile(f.trustedRoot)
		if err != nil {
			return nil, p, nil, err
		}
		if opts.TrustedRoot, err = sigstore.ParseTrustedRoot(data); err != nil {
			return nil, p, nil, err
		}
		opts.TrustedRoot.Name = "trusted root from " + f.trustedRoot
	}
	v, err := sigstore.New(opts)
	if err != nil {
		return nil, p, nil, err
	}
	if d, ok := parseDigestArg(artifact); ok {
		p.ArtifactDigest = d
	} else if p.Artifact, err = os.ReadFile(artifact); err != nil {
		return nil, p, nil, err
	}
	if f.key != "" {
		if f.identity != "" || f.identityRegexp != "" || f.issuer != "" {
			return nil, p, nil, errors.New("--key excludes --certificate-identity and --certificate-oidc-issuer")
		}
		if p.Key, err = os.ReadFile(f.key); err != nil {
			return nil, p, nil, err
		}
	} else {
		p.Issuer, p.Identity, p.IdentityRegexp = f.issuer, f.identity, f.identityRegexp
		p.Repository, p.RefPattern, p.Workflow = f.repo, f.ref, f.workflow
	}
	p.MaxAge = f.maxAge
	return v, p, bundle, nil
}

// parseDigestArg follows the conformance protocol: sha256: and 64 hex
// digits that do not name a file on disk are a digest; anything else is a
// path.
func parseDigestArg(s string) ([]byte, bool) {
	hexPart, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hexPart) != 64 {
		return nil, false
	}
	if _, err := os.Stat(s); err == nil {
		return nil, false
	}
	d, err := hex.DecodeString(hexPart)
	if err != nil {
		return nil, false
	}
	return d, true
}

func printBundleResult(w io.Writer, r *sigstore.Result) {
	if r.Verified {
		fmt.Fprintln(w, "Verified: the bundle is signed by the expected signer and recorded in a transparency log.")
	} else {
		fmt.Fprintln(w, "Rejected: the bundle does not prove what the policy asks.")
	}
	if r.Simulated {
		fmt.Fprintln(w, "SIMULATED: the trusted root is a simulated Sigstore instance; this proves nothing about a real release.")
	}
	s := r.Signer
	for _, kv := range [][2]string{{"issuer", s.Issuer}, {"identity", s.SubjectAlternativeName},
		{"repository", s.Repository}, {"ref", s.Ref}, {"commit", s.Commit}, {"workflow", s.Workflow},
		{"signed at", r.SignedAt}, {"artifact sha256", r.ArtifactDigest}} {
		if kv[1] != "" {
			fmt.Fprintf(w, "  %-16s %s\n", kv[0], kv[1])
		}
	}
	for _, e := range r.LogEntries {
		fmt.Fprintf(w, "  %-16s %s index %d\n", "log entry", e.LogURL, e.LogIndex)
	}
	for _, c := range r.Failed() {
		fmt.Fprintf(w, "  FAILED %s: %s", c.Name, c.Detail)
		if c.Got != "" || c.Want != "" {
			fmt.Fprintf(w, " (got %s, want %s)", c.Got, c.Want)
		}
		fmt.Fprintln(w)
	}
}
