// Package pageaudit checks that a deployed page runs exactly a published
// build of the cvmtrust widget, pinned, and nothing that can take it over.
//
// The widget verifies the server in the person's browser, but the page is
// the operator's: whatever else runs in it, leads away from it, tells the
// element what to accept or restyles it can make the badge say what the
// operator likes. An audit reads the page as a browser would and fails it
// when any of that is there.
//
// # Use
//
//	policy, err := pageaudit.NewPolicy(build, allowedHashes...)
//	v, err := verifier.New(verifier.Options{})
//	policy, err = policy.WithAttestation(v, verifier.Expectation{Measurements: release})
//	report, err := pageaudit.Audit(ctx, http.DefaultClient, "https://enroll.example/", policy)
//
// A [Build] is the build.json of a widget release (or of a reproducible build
// at its commit). [Policy.WithAttestation] says what the machine that serves
// an https page must prove (see Where the page came from). Audit returns an error wrapping [ErrUnusable] only when the
// page cannot be read; everything wrong with the page is in the [Report],
// whose Passed is true if and only if nothing fails. The report is JSON
// ([MediaType]) with lowerCamelCase keys.
//
// # The page model
//
// [Parse] reads a page's markup and headers, without running or fetching
// anything, into a [Page]:
//
//   - what can run: <script> elements of every type a browser runs (no type,
//     an empty one, any of the sixteen JavaScript MIME types in any case,
//     "module", the language attribute; SVG scripts with href), modulepreload
//     and script preloads, event-handler attributes, javascript: URLs in any
//     attribute (after URL parsing: tabs and newlines removed, leading C0
//     controls and spaces trimmed, any case), and nested documents (iframe
//     src and srcdoc, frame, object, embed, portal, fencedframe);
//   - the import maps;
//   - what can navigate: <meta http-equiv=refresh>, <base>, the Refresh header;
//   - what each <cvm-attest> element is told: its attributes, and where it
//     sits (its ancestors, for CSS);
//   - the page's CSS: <style> elements, linked stylesheets (and Link headers),
//     and the style attributes of the element and its ancestors.
//
// Audit then loads what the page names: every script, the module graph
// through the import map, the files the widget's loader names with
// new URL(…, import.meta.url), and the stylesheets. Each check adds findings
// to the report; a new check is one more function in Audit's list.
//
// # The checks
//
// Widget files: every file of the build the page loads must match build.json
// byte for byte and be pinned: a module by the import map's integrity (a
// module another module imports is fetched with that alone) or, when only a
// tag loads it, the tag's; the wasm by a pinned, matching loader module that
// carries its hash. Pinned means the integrity admits those bytes and no
// others. The page must load the wasm and have a <cvm-attest> in its markup.
//
// Resolution: the import map is parsed as the HTML standard says (keys
// normalized, addresses resolved, unusable entries blocked, scopes tried most
// specific first) and every reference in the widget's own modules — static
// and dynamic imports, import.meta.resolve, and the absolute URLs its loader
// builds with new URL(…, import.meta.url) and imports — must land on the file
// it names. No entry, at the top level or in any scope, may send a file of the
// build elsewhere. A second import map, or one after a module script, fails:
// browsers disagree about them.
//
// Code: anything that can run and is not the widget fails, unless the policy
// allows its SHA-256, SHA-384 or SHA-512 (the report prints each one's
// SHA-384) and, for a file, the page pins it to those bytes. An inline module
// that does nothing but import the widget's modules is the widget's loader
// and passes. Every nested document fails: one of the page's origin can reach
// into the page, the element included; one of another origin can draw over
// it; and nothing pins what a frame loads.
//
// Navigation: meta refresh, the Refresh header and <base> fail.
//
// The element: the audit has a row for every attribute the element reads,
// with what it tells the element. A simulated AMD root or Sigstore instance,
// vmpl="any", any measurement ("any", "*"), each attribute that lifts one of
// the element's defaults (tcb-below-bulletins-unsafe,
// unchecked-revocation-unsafe, release-max-age-unsafe: each with what it
// gives up), any other attribute whose name says unsafe or any-, a preset
// state, hidden or inert, and any attribute the audit does not know fail.
// The others are printed with what they tell the element.
//
// CSS: page CSS that can reach the element fails, except what is plainly
// harmless. The element's shadow root is closed and exports five parts, for
// layout only (camera, preview, capture, capture-note, retry; none carries
// the verdict), so:
//
//   - ::part() on the element's layout parts may set their size, box
//     (margins not negative, not computed), font and colours and how their
//     children line up; anything that can move or stack one over the verdict
//     (position, transforms, z-index, outline, negative margins) or add
//     content to it fails. ::part() naming a part the element does not
//     export matches nothing in it and passes. ::part() that may be an
//     ancestor's (its shadow tree is not the audit's to see), that the audit
//     cannot read, and ::slotted() fail;
//   - on the element itself only margins and padding (not negative, not
//     computed), box-sizing, max-width and a block-like display are harmless;
//   - on an ancestor, only layout, box, font and colour properties are (no
//     display:none, no position other than static or relative, no overflow
//     that cuts off, no outline drawn inward over what it contains, no zero
//     font size, no values from variables where the value matters): visibility, opacity, filters, transforms, clipping,
//     masks, text-security, text-indent, letter-spacing and everything else
//     not on the list fail;
//   - ::before and ::after with content, ::first-line, ::first-letter and
//     any pseudo-element not known harmless fail on the element or an ancestor;
//   - custom properties fail on the element, and on an ancestor when the
//     widget's own code reads custom properties;
//   - @font-face (a font can draw any word as any other) and @import (a sheet
//     the audit does not read) fail; so does the hidden attribute on an ancestor;
//   - a selector reaches an element unless its last compound names another
//     tag, an id the element does not have, or a class it lacks (or is :root);
//     every other part of it is taken to match. Conditional rules (@media,
//     @supports, @layer, @container, @scope) are taken to apply, nesting is
//     resolved, escapes decoded; what cannot be read fails when it mentions
//     the element, parts, slots or hosts.
//
// # Where the page came from
//
// Everything above describes the bytes the audit was served, once. Only a
// page that comes from the attested machine is the same for everyone: the
// measured image serves its own files, and no one in front of it can serve a
// chosen person another page. So the audit asks the gateway each element
// names (its gateway attribute, resolved as the widget resolves it) for
// evidence with a fresh nonce and verifies it as cvmtrust verify --gateway
// does (package gatewayclient), against what the policy expects, with one
// difference: the TLS key the report must bind is the one of the
// connection that served the page (the leaf certificate's SubjectPublicKeyInfo,
// SHA-256, kept from the page's fetch and in the report as tlsKeySha256).
// That key never leaves the attested machine, so a match means it served the
// page; the key decides, not the name, so another origin of the same machine
// passes too.
//
// Anything short of a match fails, because each leaves the page in someone
// else's hands and the audit cannot tell it from an honest setup:
//
//   - another key for the same origin: a proxy or load balancer terminates
//     TLS in front of the machine (the message is verify --gateway's, "the
//     TLS key of HOST is not the attested one (a proxy terminates TLS in
//     front of the CVM)");
//   - another key at another origin: another server served the page;
//   - evidence v1: it binds no TLS key, so nothing says where TLS ends (verify
//     --gateway fails it over https the same way);
//   - a report that does not verify (another measurement, a broken chain),
//     evidence that cannot be had, no gateway named, no expectation given, or
//     no TLS state for an https page: a check that could not run is never a
//     pass;
//   - plain http: anyone on the path can change the page, and browsers give
//     such a page no camera.
//
// The one note is plain http on this machine's own address (localhost,
// *.localhost, 127.0.0.0/8, ::1): browsers treat it as a secure context, no
// network lies between, and it is how the page is developed and tested; the
// audit says that nothing ties it to a server and passes on the rest.
// Report.FromAttestedMachine is true only for a match.
//
// # Limits
//
// The audit reads one page as it is served to it, at one moment; a server
// can serve others other bytes, which is why every file must be pinned. It
// cannot tell what the page's own content says: a page can draw a look-alike
// badge beside or over the element (the element's details, one click away,
// are its own). The CSS rule takes the widget's host style as given (its
// own font and colours): a widget that dropped them would need it tightened.
// A cross-origin frame fails with the rest, though it cannot reach into the
// page.
package pageaudit
