package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cvmtrust/cvmtrust/release/provenance"
	"github.com/cvmtrust/cvmtrust/sigstore"
)

const releaseVerifyUsage = `usage: cvmtrust release verify --bundle FILE --repo OWNER/NAME [--workflow PATH] [--ref GLOB] [--max-age DURATION] [--trusted-root FILE] [--json]

Checks a release bundle as the <cvm-attest> element does with the same
release-* attributes: the Sigstore bundle against the signer (issuer, source
repository, workflow and ref, or --certificate-identity), then the launch
manifest in the signed statement, whose launch digest is recomputed. Prints
the release, its measurement and where it was logged.

Exit status: 0 verified, 1 rejected, 2 unusable input.

flags:
`

func runVerifyRelease(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cvmtrust release verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bundlePath := fs.String("bundle", "", "the release's Sigstore bundle (JSON)")
	repo := fs.String("repo", "", "OWNER/NAME of the repository whose workflow signs releases")
	workflow := fs.String("workflow", ".github/workflows/release.yml", "the workflow file that signs them")
	ref := fs.String("ref", "refs/tags/v*", "glob for the git ref of a release (* and ? do not cross /)")
	issuer := fs.String("certificate-oidc-issuer", "https://token.actions.githubusercontent.com", "the OIDC issuer of the signing certificate")
	identity := fs.String("certificate-identity", "", "the signer's exact identity (SAN), instead of --repo")
	maxAge := fs.Duration("max-age", 0, "refuse a release signed longer ago than this")
	trustedRoot := fs.String("trusted-root", "", "a trusted_root.json to use instead of the embedded public-good one")
	jsonOut := fs.Bool("json", false, "print the release and the Sigstore Result as JSON")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, releaseVerifyUsage)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return exitOK
		}
		fmt.Fprintf(stderr, "cvmtrust release verify: %v\n", errOr(err, "unexpected arguments"))
		return exitUsage
	}
	if *bundlePath == "" || (*repo == "" && *identity == "") {
		fmt.Fprintln(stderr, "cvmtrust release verify: --bundle and --repo (or --certificate-identity) are required")
		return exitUsage
	}
	bundle, err := os.ReadFile(*bundlePath)
	if err != nil {
		fmt.Fprintf(stderr, "cvmtrust release verify: %v\n", err)
		return exitUsage
	}
	var opts sigstore.Options
	if *trustedRoot != "" {
		data, err := os.ReadFile(*trustedRoot)
		if err == nil {
			opts.TrustedRoot, err = sigstore.ParseTrustedRoot(data)
		}
		if err != nil {
			fmt.Fprintf(stderr, "cvmtrust release verify: --trusted-root: %v\n", err)
			return exitUsage
		}
		opts.TrustedRoot.Name = "trusted root from " + *trustedRoot
	}
	v, err := sigstore.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "cvmtrust release verify: %v\n", err)
		return exitUsage
	}
	p := sigstore.Policy{Issuer: *issuer, Identity: *identity, MaxAge: *maxAge}
	if *repo != "" {
		p.Repository, p.Workflow, p.RefPattern = *repo, *workflow, *ref
	}
	rel, res, err := provenance.Verify(context.Background(), v, bundle, p)
	if errors.Is(err, sigstore.ErrBadPolicy) {
		fmt.Fprintf(stderr, "cvmtrust release verify: %v\n", err)
		return exitUsage
	}
	if *jsonOut {
		out := map[string]any{"verified": err == nil, "result": res}
		if err != nil {
			out["error"] = err.Error()
		} else {
			out["release"] = rel.Manifest.Release
			out["measurement"] = rel.Manifest.Measurement.String()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	}
	if err != nil {
		if !*jsonOut {
			fmt.Fprintf(stdout, "REJECTED: %v\n", err)
		}
		return exitRejected
	}
	if !*jsonOut {
		s := rel.Bundle.Signer
		if rel.Bundle.Simulated {
			fmt.Fprintln(stdout, "!! SIMULATED Sigstore instance: this proves nothing about a published release")
		}
		fmt.Fprintf(stdout, "verified release %s\nmeasurement  %s (recomputed from the signed manifest)\n", rel.Manifest.Release, rel.Manifest.Measurement)
		fmt.Fprintf(stdout, "repository   %s\ncommit       %s\nworkflow     %s\nref          %s\n", s.RepositoryURI, s.Commit, s.Workflow, s.Ref)
		for _, e := range rel.Bundle.LogEntries {
			fmt.Fprintf(stdout, "logged       %s entry %d %s\n", e.LogURL, e.LogIndex, strings.TrimSpace(e.IntegratedTime+" "+rel.Bundle.SignedAt))
		}
	}
	return exitOK
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}
