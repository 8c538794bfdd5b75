package pageaudit

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/cvmtrust/cvmtrust/gatewayclient"
	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/verifier"
)

// What serving the page means for the person, said once for every way it
// is not the attested machine.
const anyPage = "Whoever holds the key it was served with chose this page, and can serve another, with another widget, to anyone they choose; the audit saw only this one."

// checkOrigin says whether the page came from the attested machine: over
// TLS whose key is bound in the verified report of the gateway its element
// names. The key never leaves that machine, so only it can have served the
// page. Everything short of that fails, but plain HTTP on this machine's
// own address (a development setup) is a note.
func (a *audit) checkOrigin() {
	page := a.page.URL
	if page.Scheme != "https" {
		if isLoopback(page.Hostname()) {
			a.add(Finding{Check: CheckOrigin, Outcome: Note, What: "the page came over plain HTTP from this machine",
				Why: "No TLS ties it to any server. On this machine's own address that is a development setup, which browsers let use the camera; served to anyone else, a page over plain HTTP fails."})
			return
		}
		a.add(Finding{Check: CheckOrigin, Outcome: Fail, What: "the page came over plain HTTP, not from the attested machine",
			Why: "No TLS at all: anyone on the network between the server and the person can change the page, the widget included (and browsers give such a page no camera)."})
		return
	}
	key := gatewayclient.LeafKeySHA256(a.pageTLS)
	if key == nil {
		// Without the key, the verifier would skip the comparison.
		a.add(Finding{Check: CheckOrigin, Outcome: Fail, What: "not shown to come from the attested machine",
			Why: "The audit saw no TLS certificate for the https page, so it cannot compare its key with the attested one."})
		return
	}
	a.report.TLSKeySHA256 = hex.EncodeToString(key)
	gateways, bad := a.gateways()
	for _, b := range bad {
		a.add(Finding{Check: CheckOrigin, Outcome: Fail, What: "not shown to come from the attested machine", Where: b,
			Why: "The element's gateway is not a URL the audit can resolve, so it cannot ask that gateway for its attestation."})
	}
	switch {
	case len(gateways) == 0 && len(bad) == 0:
		a.add(Finding{Check: CheckOrigin, Outcome: Fail, What: "not shown to come from the attested machine",
			Why: "No <" + widgetTag + "> in the page names a gateway, so there is no attested machine to compare the page's TLS key with."})
		return
	case a.policy.verifier == nil:
		a.add(Finding{Check: CheckOrigin, Outcome: Fail, What: "not shown to come from the attested machine",
			Why: "The audit was not told what the machine must run (the release's measurement), so it cannot tell whether the page came from the attested machine."})
		return
	}
	for _, gw := range gateways {
		a.add(a.originFrom(gw, key))
	}
}

// gateways returns the distinct gateways the page's elements name,
// resolved as the widget resolves them (against the document's base URL,
// with a trailing slash), and the attribute values that do not resolve.
func (a *audit) gateways() (out []*url.URL, bad []string) {
	seen := map[string]bool{}
	for _, el := range a.page.Elements {
		for _, at := range el.Attributes {
			if at.Namespace != "" || !strings.EqualFold(at.Key, "gateway") {
				continue
			}
			u, err := parseURL(at.Val, el.base)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				bad = append(bad, at.Val)
				continue
			}
			if !strings.HasSuffix(u.Path, "/") {
				u.Path += "/"
			}
			u.RawQuery, u.Fragment = "", ""
			if !seen[u.String()] {
				seen[u.String()] = true
				out = append(out, u)
			}
		}
	}
	return out, bad
}

// originFrom verifies the gateway's evidence as cvmtrust verify --gateway
// does, with a fresh nonce, except that the TLS key the report must bind is
// the one the page was served with.
func (a *audit) originFrom(gw *url.URL, pageKey []byte) Finding {
	notShown := Finding{Check: CheckOrigin, Outcome: Fail, What: "not shown to come from the attested machine", Where: "gateway " + gw.String()}
	nonce := make([]byte, protocol.NonceSize)
	rand.Read(nonce)
	f, err := gatewayclient.Fetch(a.ctx, a.client, gw.String(), nonce)
	if err != nil {
		notShown.Why = "The audit could not get the gateway's attestation (" + err.Error() + "), so it cannot tell whether the page came from the attested machine."
		return notShown
	}
	exp := f.Expect(a.policy.expectation)
	exp.TLSKeySHA256 = pageKey
	res, err := a.policy.verifier.Verify(a.ctx, f.VerifierEvidence(), exp)
	if err == nil {
		return a.fromAttestedMachine(gw, pageKey, res)
	}
	var rej *verifier.RejectedError
	if !errors.As(err, &rej) {
		notShown.Why = "The audit could not verify the gateway's attestation (" + err.Error() + "), so it cannot tell whether the page came from the attested machine."
		return notShown
	}
	var tlsErr *gatewayclient.TLSKeyError
	if failed := rej.Result.Failed(); len(failed) > 1 || !errors.As(f.CheckTLSKey(err), &tlsErr) {
		var names []string
		for _, c := range failed {
			names = append(names, c.Name)
		}
		notShown.Why = "The gateway's attestation does not verify (failed: " + strings.Join(names, ", ") + "), so the machine is not shown to be the one expected and the page cannot be tied to it. cvmtrust verify --gateway " + gw.String() + " shows each check."
		return notShown
	}
	// The report verifies, and only the page's TLS key is not the one it binds.
	if tlsErr.V1 {
		notShown.Why = "The gateway's evidence is protocol v1, which binds no TLS key: nothing says where TLS ends, so a proxy in front of the machine may have served the page. A gateway with a TLS key of its own (--tls-acme) serves evidence v2."
		return notShown
	}
	notShown.What = "the page did not come from the attested machine"
	notShown.Where = fmt.Sprintf("page TLS key %x; gateway %s attests %x", pageKey, gw, f.Evidence.TLS.SPKISHA256)
	if originOf(gw.String()) == originOf(a.report.Page) {
		notShown.Why = "It was served over TLS that ends in front of the machine: " + tlsErr.Error() + ". " + anyPage
	} else {
		notShown.Why = "It was served by another server than the attested machine: the TLS key of " + a.page.URL.Host + " is not the one the gateway at " + gw.Host + " attests. " + anyPage
	}
	return notShown
}

// fromAttestedMachine is the finding for a page whose TLS key a verified
// report binds.
func (a *audit) fromAttestedMachine(gw *url.URL, pageKey []byte, res *verifier.Result) Finding {
	f := Finding{Check: CheckOrigin, Outcome: Pass, What: "the page came from the attested machine",
		Where: fmt.Sprintf("TLS key %x, bound in the report of gateway %s (evidence protocol v2)", pageKey, gw),
		Why:   "The page was served by the attested machine, over TLS whose key is bound in its attestation: the key never leaves that machine, so no one else can have served it."}
	if originOf(gw.String()) != originOf(a.report.Page) {
		f.Why += " The gateway is at another origin (" + originOf(gw.String()) + ") of the same machine: the key, not the name, is what counts."
	}
	if a.policy.expectation.AnyMeasurementUnsafe {
		f.What += ", running any software (UNSAFE: no measurement was checked)"
	}
	if res.Simulated {
		f.What += ", against a SIMULATED AMD root: this proves nothing about real hardware"
	}
	return f
}

// isLoopback reports whether host is this machine's own address, which
// browsers treat as secure without TLS: localhost, *.localhost, 127.0.0.0/8
// and ::1.
func isLoopback(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
