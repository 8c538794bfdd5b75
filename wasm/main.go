//go:build js && wasm

// Command wasm is the browser build of cvmtrust. It exposes the verifier and
// the launch digest to JavaScript as the namespace object globalThis.cvmtrust:
//
//	cvmtrust.verify(evidence, expectation) → Promise<Result>
//	cvmtrust.measure(manifest)             → Promise<Release>
//	cvmtrust.verifyRelease(bundle, policy) → Promise<SignedRelease>
//	cvmtrust.verifyBundle(bundle, policy)  → Promise<SigstoreResult>
//	cvmtrust.version                       → protocol version (number)
//
// evidence is the JSON of GET /attestation (a string, or the parsed object);
// the Result is the verifier's JSON (media type
// application/vnd.cvmtrust.verification.v1+json). A rejected attestation
// resolves with verified=false and every check; only unusable arguments
// reject the Promise, always with an Error. A Result that verified with a
// nonce binding also carries sealTo: the HPKE key bytes the verifier bound
// in REPORT_DATA and the report's SHA-384, which web/verifier.js seals to
// (HPKE runs in the page, with hpke-js; see web/README.md).
//
// measure recomputes a release manifest's launch digest (package measure)
// and rejects when it differs from the manifest's measurement.
//
// This package only translates between JavaScript and Go: the checks live in
// package verifier and the launch digest in package measure. Signature math runs in
// WebCrypto (see webcrypto.go), so the binary links neither crypto/x509 nor
// go-sev-guest.
//
// When it is ready, main calls globalThis.__cvmtrustReady(namespace) if the
// page defined it; web/verifier.js does, to resolve loadVerifier(). It must
// do so before it first waits for anything (an event, a timer, a Promise):
// the loader sets the hook just before starting the program and takes it
// down as soon as the program first yields, so that two verifiers starting
// in one page never take each other's hook.
package main

import (
	"github.com/cvmtrust/cvmtrust/wasm/internal/jsval"
)

// readyHook is the global function main calls once the namespace is set.
const readyHook = "__cvmtrustReady"

func main() {
	ns, err := newNamespace()
	if err != nil {
		// Without the namespace the page cannot use us; say so on the console
		// rather than exit silently.
		consoleError("cvmtrust: cannot start: " + err.Error())
		return
	}
	global := jsval.Global()
	if err := global.Set("cvmtrust", ns); err != nil {
		consoleError("cvmtrust: cannot start: " + err.Error())
		return
	}
	if hook, err := global.Get(readyHook); err == nil && hook.Type() == jsval.TypeFunction {
		if _, err := hook.Invoke(ns); err != nil {
			consoleError("cvmtrust: ready hook failed: " + err.Error())
		}
	}
	// The exported functions live as long as the page: never return.
	select {}
}

// newNamespace builds the object the page calls. Its functions are never
// released because the namespace lives as long as the wasm instance.
func newNamespace() (jsval.Value, error) {
	object, err := jsval.Global().Get("Object")
	if err != nil {
		return jsval.Value{}, err
	}
	ns, err := object.New()
	if err != nil {
		return jsval.Value{}, err
	}
	exports := map[string]func(args []jsval.Value) (any, error){
		"verify":  verifyJS,
		"measure": measureJS,
		// Release provenance (release.go).
		"verifyRelease": verifyReleaseJS,
		"verifyBundle":  verifyBundleJS,
	}
	for name, fn := range exports {
		f, err := jsval.FuncOf(asyncExport(name, fn))
		if err != nil {
			return jsval.Value{}, err
		}
		if err := ns.Set(name, f.Value()); err != nil {
			return jsval.Value{}, err
		}
	}
	if err := ns.Set("version", protocolVersion); err != nil {
		return jsval.Value{}, err
	}
	return ns, nil
}

func consoleError(msg string) {
	console, err := jsval.Global().Get("console")
	if err != nil {
		return
	}
	_, _ = console.Call("error", msg)
}
