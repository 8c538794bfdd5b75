package pageaudit

import (
	"fmt"
	"strings"
)

// AttributeReport is one attribute of a <cvm-attest> element: what it
// tells the element, and whether the audit accepts it.
type AttributeReport struct {
	Name    string  `json:"name"`
	Value   string  `json:"value"`
	Meaning string  `json:"meaning"`
	Outcome Outcome `json:"outcome"`
	Why     string  `json:"why,omitempty"` // for a failure: why it matters
}

// widgetAttributes are the attributes the element reads (web/cvm-attest.js,
// observedAttributes; a test keeps the two lists equal), with what each
// tells it; check, when set, returns why a value weakens the check ("" when
// it does not). Each attribute that lifts a default (its name ends in
// -unsafe) fails, with what it gives up.
var widgetAttributes = map[string]struct {
	meaning string
	check   func(value string) string
}{
	"gateway":      {"the server it checks, and sends the photo to once verified", nil},
	"measurements": {"the launch measurements it accepts", checkMeasurements},
	"manifest":     {"a release manifest whose launch digest it accepts (unsigned: whoever serves it chooses the software)", nil},
	"manifests":    {"release manifests whose launch digests it accepts (unsigned: whoever serves them chooses the software)", nil},
	"trust-simulated-root": {"a simulated AMD root it trusts", func(v string) string {
		return "The element trusts a simulated AMD root: whoever holds its key can sign a report for any machine, so the server need not be a confidential VM at all. Only a development page may say this."
	}},
	"release-trust-simulated-root": {"a simulated Sigstore instance it trusts", func(v string) string {
		return "The element trusts a simulated Sigstore instance: whoever made it can sign any release. Only a development page may say this."
	}},
	"kds-proxy": {"where it fetches AMD's certificates and revocation list (not trusted: everything must chain to AMD's root)", nil},
	"vmpl": {"the VMPL the server must run at (default 0)", func(v string) string {
		if strings.EqualFold(strings.TrimSpace(v), "any") {
			return "vmpl=\"any\" accepts a report from any privilege level of the guest, so software below the measured code may have written it."
		}
		return ""
	}},
	"min-tcb": {"a floor of the page's for the firmware and microcode versions (TCB), raising the one AMD's security bulletins require", nil},
	"tcb-below-bulletins-unsafe": {"accept firmware below the floor AMD's security bulletins require", func(string) string {
		return "The element accepts a server whose firmware lacks fixes AMD's security bulletins require (AMD-SB-3019: microcode with a forged signature breaks SEV-SNP): its host may read or change the guest's memory."
	}},
	"unchecked-revocation-unsafe": {"accept a server whose certificates' revocation could not be checked", func(string) string {
		return "The element accepts a server whose signing key AMD may have revoked, whenever its revocation list cannot be had."
	}},
	"min-guest-svn":      {"the lowest guest security version it accepts", nil},
	"require-no-smt":     {"fail when the guest policy allows SMT", nil},
	"badge-only":         {"show the badge only: no camera, no upload", nil},
	"timeout":            {"seconds each network step may take", nil},
	"release-repository": {"the repository whose CI may sign the releases it accepts", nil},
	"release-issuer":     {"the identity provider of the releases' signer", nil},
	"release-workflow":   {"the CI workflow that may sign releases", nil},
	"release-ref":        {"the git refs releases may be signed from", nil},
	"release-identity":   {"the exact identity that may sign releases", nil},
	"release-max-age":    {"the oldest release it accepts, at most the default of 90 days", nil},
	"release-max-age-unsafe": {"a longer age limit for signed releases than 90 days, or none", func(string) string {
		return "The element accepts releases signed longer ago than 90 days, or of any age: the server can be rolled back to an old release, a withdrawn one among them."
	}},
	"release-min":    {"the lowest release it accepts (a version tag or a signing time)", nil},
	"release-bundle": {"where it fetches the release's signed bundle", nil},
	"state": {"the state the element shows", func(v string) string {
		return "The page sets the state the element shows; only the element may, once it has checked."
	}},
}

// Attributes any element has, which tell the widget nothing it checks with.
var globalAttributes = map[string]bool{
	"id": true, "class": true, "title": true, "lang": true, "dir": true, "tabindex": true, "slot": true,
	"translate": true, "nonce": true, "autofocus": true, "role": true, "style": true, "hidden": true, "inert": true,
}

func checkMeasurements(v string) string {
	for _, m := range strings.Split(v, ",") {
		_, hex, _ := strings.Cut(m, "=")
		if !strings.Contains(m, "=") {
			hex = m
		}
		if h := strings.ToLower(strings.TrimSpace(hex)); h == "any" || h == "*" {
			return "The element is told to accept any measurement: the server may run any software at all."
		}
	}
	return ""
}

// checkElement reads what el is told.
func checkElement(el Element) []AttributeReport {
	var out []AttributeReport
	for _, a := range el.Attributes {
		name := strings.ToLower(a.Key)
		if a.Namespace != "" {
			name = a.Namespace + ":" + name
		}
		r := AttributeReport{Name: name, Value: a.Val, Outcome: Pass}
		spec, known := widgetAttributes[name]
		switch {
		case strings.HasPrefix(name, "on"):
			continue // code: reported with the page's scripts
		case known:
			r.Meaning = spec.meaning
			if spec.check != nil {
				if why := spec.check(a.Val); why != "" {
					r.Outcome, r.Why = Fail, why
				}
			}
		case strings.Contains(name, "unsafe") || strings.HasPrefix(name, "any-"):
			r.Meaning = "not an attribute this audit knows"
			r.Outcome, r.Why = Fail, "Its name says it switches a check off: an element that reads it would accept more than it should."
		case name == "hidden" || name == "inert":
			r.Meaning = "hides the element, or takes it out of reach"
			r.Outcome, r.Why = Fail, "The person cannot see or use the element's badge and details."
		case globalAttributes[name] || strings.HasPrefix(name, "aria-") || strings.HasPrefix(name, "data-"):
			r.Meaning = "an attribute of every element; it tells the widget nothing"
			if name == "style" {
				r.Meaning = "the element's own style, checked with the page's CSS"
			}
		default:
			r.Meaning = "not an attribute this audit knows"
			r.Outcome, r.Why = Fail, fmt.Sprintf("The audit does not know what %s tells the element: a widget newer than this audit may read it as a weaker check. Audit with cvmtrust of the widget's release.", name)
		}
		out = append(out, r)
	}
	return out
}
