//go:build js && wasm

package main

import (
	"encoding/base64"
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/hex"
	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/verifier"
	"github.com/cvmtrust/cvmtrust/wasm/internal/jsval"
)

// The boundary reads JavaScript objects field by field instead of linking
// encoding/json: that package and its reflection cost about 100 KB of
// brotli-compressed wasm, a tenth of the binary.

// expectationKeys are the keys an expectation object may have, lowerCamelCase:
//
//	measurements          [hex]    accepted launch digests (48 bytes each)
//	anyMeasurementUnsafe  bool     skip the measurement check (debugging only)
//	nonce                 base64   the nonce sent to GET /attestation, bound
//	                               with the evidence's HPKE public key
//	reportData            hex      the exact REPORT_DATA instead of a nonce
//	tlsSpkiSha256         hex      the SHA-256 of the TLS key the page expects
//	                               the gateway to serve with: the evidence
//	                               must be v2 and bind it
//	vmpl                  number
//	minTcb                {bl, tee, snp, ucode, fmc}
//	bulletinTcbFloor      bool     raise minTcb to the floor AMD's security
//	                               bulletins require for the report's processor
//	                               line (verifier.BulletinFloors)
//	minGuestSvn           number
//	policy                {allowDebug, allowMigrationAgent, requireNoSmt, minAbiMajor, minAbiMinor}
//	hostData, idKeyDigest hex
//	requireRevocationCheck bool
//	simulatedRoot         PEM      a simulated ARK to trust besides the pinned
//	                               AMD roots
//	kdsProxy              URL      a KDS proxy to fetch a missing VCEK, chain
//	                               and the CRL from
//
// simulatedRoot and kdsProxy are trust setup rather than expectations; they
// ride here so that one call says everything.
//
// Any other key is an error, so a misspelt requirement is never dropped.
var expectationKeys = []string{
	"measurements", "anyMeasurementUnsafe", "nonce", "reportData", "tlsSpkiSha256", "vmpl", "minTcb", "bulletinTcbFloor",
	"minGuestSvn", "policy", "hostData", "idKeyDigest", "requireRevocationCheck", "simulatedRoot", "kdsProxy",
}

// trustSetup is what an expectation says about the Verifier to use.
type trustSetup struct {
	simulatedRoot string // PEM, or empty
	kdsProxy      string // absolute URL, or empty
}

// decodeEvidence reads evidence of protocol v1 or v2: a JSON string, or the
// object JSON.parse makes of it.
func decodeEvidence(v jsval.Value) (protocol.Evidence, error) {
	var ev protocol.Evidence
	obj, err := objectArg("evidence", v)
	if err != nil {
		return ev, err
	}
	r := reader{obj: obj, path: "evidence"}
	version := r.uint("version", math.MaxInt32)
	if r.err == nil && version != protocol.Version && version != protocol.VersionTLS {
		return ev, errfmt.Errorf("evidence version %d, want %d or %d", version, protocol.Version, protocol.VersionTLS)
	}
	ev.Version = int(version)
	ev.Report = r.base64("report")
	certs := r.object("certs")
	ev.Certs.VCEK = certs.base64("vcek")
	ev.Certs.VLEK = certs.base64("vlek")
	ev.Certs.Chain = certs.string("chain")
	hpke := r.object("hpke")
	ev.HPKE.KEM = hpke.string("kem")
	ev.HPKE.KDF = hpke.string("kdf")
	ev.HPKE.AEAD = hpke.string("aead")
	ev.HPKE.PublicKey = hpke.base64("public_key")
	var tlsErr error
	if version == protocol.VersionTLS {
		tls := r.object("tls")
		ev.TLS = &protocol.TLSKey{SPKISHA256: tls.base64("spki_sha256")}
		if tls.err == nil && len(ev.TLS.SPKISHA256) != protocol.TLSKeySize {
			tls.fail("spki_sha256", "is %d bytes, want %d", len(ev.TLS.SPKISHA256), protocol.TLSKeySize)
		}
		tlsErr = tls.err
	}
	return ev, errors.Join(r.err, certs.err, hpke.err, tlsErr)
}

// decodeExpectation maps the page's expectation to the verifier's and
// returns the trust setup it asks for. The nonce is bound with the
// HPKE public key the evidence carries, so a swapped key fails the report
// data check.
func decodeExpectation(v jsval.Value, ev protocol.Evidence) (verifier.Expectation, trustSetup, error) {
	obj, err := objectArg("expectation", v)
	if err != nil {
		return verifier.Expectation{}, trustSetup{}, err
	}
	keys, err := objectKeys(obj)
	if err != nil {
		return verifier.Expectation{}, trustSetup{}, err
	}
	for _, k := range keys {
		if !slices.Contains(expectationKeys, k) {
			return verifier.Expectation{}, trustSetup{}, errfmt.Errorf("expectation: unknown key %q (known: %s)", k, strings.Join(expectationKeys, ", "))
		}
	}
	r := reader{obj: obj, path: "expectation"}
	var exp verifier.Expectation
	for i, m := range r.strings("measurements") {
		exp.Measurements = append(exp.Measurements, r.hexString(errfmt.Sprintf("measurements[%d]", i), m))
	}
	exp.AnyMeasurementUnsafe = r.bool("anyMeasurementUnsafe")
	if nonce := r.string("nonce"); nonce != "" {
		exp.Binding = &verifier.Binding{Nonce: r.base64String("nonce", nonce), HPKEPublicKey: ev.HPKE.PublicKey}
		if ev.TLS != nil {
			exp.Binding.TLSKeySHA256 = ev.TLS.SPKISHA256
		}
	}
	exp.TLSKeySHA256 = r.hex("tlsSpkiSha256")
	exp.ReportData = r.hex("reportData")
	if r.has("vmpl") {
		vmpl := int(r.uint("vmpl", 3))
		exp.VMPL = &vmpl
	}
	tcb := r.object("minTcb")
	exp.MinTCB = verifier.TCBFloor{
		Bootloader: uint8(tcb.uint("bl", math.MaxUint8)),
		TEE:        uint8(tcb.uint("tee", math.MaxUint8)),
		SNP:        uint8(tcb.uint("snp", math.MaxUint8)),
		Microcode:  uint8(tcb.uint("ucode", math.MaxUint8)),
		FMC:        uint8(tcb.uint("fmc", math.MaxUint8)),
	}
	exp.BulletinTCBFloor = r.bool("bulletinTcbFloor")
	exp.MinGuestSVN = uint32(r.uint("minGuestSvn", math.MaxUint32))
	policy := r.object("policy")
	exp.Policy = verifier.Policy{
		AllowDebug:          policy.bool("allowDebug"),
		AllowMigrationAgent: policy.bool("allowMigrationAgent"),
		RequireNoSMT:        policy.bool("requireNoSmt"),
		MinABIMajor:         uint8(policy.uint("minAbiMajor", math.MaxUint8)),
		MinABIMinor:         uint8(policy.uint("minAbiMinor", math.MaxUint8)),
	}
	exp.HostData = r.hex("hostData")
	exp.IDKeyDigest = r.hex("idKeyDigest")
	exp.RequireRevocationCheck = r.bool("requireRevocationCheck")
	trust := trustSetup{simulatedRoot: r.string("simulatedRoot"), kdsProxy: r.string("kdsProxy")}
	return exp, trust, errors.Join(r.err, tcb.err, policy.err)
}

// objectArg accepts an object, or a string holding its JSON.
func objectArg(name string, v jsval.Value) (jsval.Value, error) {
	switch v.Type() {
	case jsval.TypeObject:
		return v, nil
	case jsval.TypeString:
		j, err := jsval.Global().Get("JSON")
		if err != nil {
			return jsval.Value{}, err
		}
		obj, err := j.Call("parse", v)
		if err != nil {
			return jsval.Value{}, errfmt.Errorf("%s is not JSON: %w", name, err)
		}
		if obj.Type() != jsval.TypeObject {
			return jsval.Value{}, errfmt.Errorf("%s must be a JSON object", name)
		}
		return obj, nil
	default:
		return jsval.Value{}, errfmt.Errorf("%s must be an object or a JSON string, got %s", name, v.Type())
	}
}

func objectKeys(obj jsval.Value) ([]string, error) {
	object, err := jsval.Global().Get("Object")
	if err != nil {
		return nil, err
	}
	// Every own name, enumerable or not: each is read, so each is checked.
	arr, err := object.Call("getOwnPropertyNames", obj)
	if err != nil {
		return nil, err
	}
	n, err := arr.Length()
	if err != nil {
		return nil, err
	}
	keys := make([]string, n)
	for i := range keys {
		k, err := arr.OwnIndex(i)
		if err != nil {
			return nil, err
		}
		if keys[i], err = k.String(); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// reader reads typed fields of one JavaScript object, its own properties
// only: a property Object.prototype has (a library's bug, a hostile script)
// is absent here, never an option. The first problem is kept in err and
// later reads return zero values, so a decoder reads every field and checks
// err once. Absent (undefined or null) fields are zero.
type reader struct {
	obj  jsval.Value
	path string
	err  error
}

func (r *reader) fail(key, format string, args ...any) {
	if r.err == nil {
		r.err = errfmt.Errorf("%s.%s %s", r.path, key, errfmt.Sprintf(format, args...))
	}
}

// get returns the field if it is present and of type want; what names the
// expected value in the error otherwise.
func (r *reader) get(key string, want jsval.Type, what string) (jsval.Value, bool) {
	if r.err != nil || r.obj.IsUndefined() {
		return jsval.Value{}, false
	}
	v, err := r.obj.Own(key)
	if err != nil {
		r.fail(key, "cannot be read: %v", err)
		return jsval.Value{}, false
	}
	if v.IsUndefined() || v.IsNull() {
		return jsval.Value{}, false
	}
	if v.Type() != want {
		r.fail(key, "must be %s, got %s", what, v.Type())
		return jsval.Value{}, false
	}
	return v, true
}

func (r *reader) has(key string) bool {
	v, err := r.obj.Own(key)
	return err == nil && !v.IsUndefined() && !v.IsNull()
}

func (r *reader) string(key string) string {
	v, ok := r.get(key, jsval.TypeString, "a string")
	if !ok {
		return ""
	}
	s, err := v.String()
	if err != nil {
		r.fail(key, "cannot be read: %v", err)
	}
	return s
}

func (r *reader) bool(key string) bool {
	v, ok := r.get(key, jsval.TypeBoolean, "true or false")
	if !ok {
		return false
	}
	b, err := v.Bool()
	if err != nil {
		r.fail(key, "cannot be read: %v", err)
	}
	return b
}

// uint reads a whole number in [0, max].
func (r *reader) uint(key string, max uint64) uint64 {
	v, ok := r.get(key, jsval.TypeNumber, errfmt.Sprintf("a whole number from 0 to %d", max))
	if !ok {
		return 0
	}
	f, err := v.Float()
	if err != nil || f != math.Trunc(f) || f < 0 || f > float64(max) {
		r.fail(key, "must be a whole number from 0 to %d", max)
		return 0
	}
	return uint64(f)
}

func (r *reader) object(key string) *reader {
	child := &reader{obj: jsval.Undefined(), path: r.path + "." + key}
	if v, ok := r.get(key, jsval.TypeObject, "an object"); ok {
		child.obj = v
	}
	return child
}

// maxArrayEntries bounds any array read from the page, so that a hostile
// argument cannot make the verifier loop for long.
const maxArrayEntries = 256

// array reads an array field of at most maxArrayEntries entries; what names
// the expected type in the error.
func (r *reader) array(key, what string) (jsval.Value, int, bool) {
	v, ok := r.get(key, jsval.TypeObject, what)
	if !ok {
		return jsval.Value{}, 0, false
	}
	array, _ := jsval.Global().Get("Array")
	if isArray, err := array.Call("isArray", v); err != nil || !truthy(isArray) {
		r.fail(key, "must be %s", what)
		return jsval.Value{}, 0, false
	}
	n, err := v.Length()
	if err != nil {
		r.fail(key, "cannot be read: %v", err)
		return jsval.Value{}, 0, false
	}
	if n > maxArrayEntries {
		r.fail(key, "has %d entries, at most %d", n, maxArrayEntries)
		return jsval.Value{}, 0, false
	}
	return v, n, true
}

func (r *reader) strings(key string) []string {
	v, n, ok := r.array(key, "an array of strings")
	if !ok {
		return nil
	}
	out := make([]string, 0, n)
	for i := range n {
		e, err := v.OwnIndex(i)
		if err != nil || e.Type() != jsval.TypeString {
			r.fail(key, "must be an array of strings")
			return nil
		}
		s, _ := e.String()
		out = append(out, s)
	}
	return out
}

// base64 reads a byte field as encoding/json writes it: standard base64.
func (r *reader) base64(key string) []byte {
	s := r.string(key)
	if s == "" {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		r.fail(key, "is not base64")
	}
	return b
}

// base64String decodes a nonce in either base64 alphabet, padded or not.
func (r *reader) base64String(key, s string) []byte {
	s = strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	r.fail(key, "is not base64")
	return nil
}

func (r *reader) hex(key string) []byte {
	return r.hexString(key, r.string(key))
}

func (r *reader) hexString(key, s string) []byte {
	if s == "" {
		return nil
	}
	b, err := hex.Decode(strings.TrimPrefix(s, "0x"))
	if err != nil {
		r.fail(key, "is not hex")
	}
	return b
}

// Truthy on a jsval.Value that cannot fail here.
func truthy(v jsval.Value) bool {
	t, err := v.Truthy()
	return err == nil && t
}
