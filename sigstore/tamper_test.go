//go:build !js

package sigstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/cert"
)

var (
	differentialFull   = flag.Bool("differential.full", false, "flip every bit of every tampered field, not a sample")
	differentialFields = flag.String("differential.fields", "", "comma-separated tampered fields to flip, such as checkpoint,signature (default: all)")
)

// A tamperTarget names a field of a bundle to flip bits in. get returns the
// field's bytes and a setter that writes mutated bytes back.
type tamperTarget struct {
	name string
	get  func(b map[string]any) (data []byte, lo, hi int, set func([]byte), ok bool)
}

func walk(m any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mm, ok := m.(map[string]any)
			if !ok {
				return nil
			}
			m = mm[k]
		case int:
			a, ok := m.([]any)
			if !ok || k < 0 || k >= len(a) {
				return nil
			}
			m = a[k]
		}
	}
	return m
}

// b64Field targets a base64 field at path.
func b64Field(path ...any) func(map[string]any) ([]byte, int, int, func([]byte), bool) {
	return func(b map[string]any) ([]byte, int, int, func([]byte), bool) {
		parent := walk(b, path[:len(path)-1]...)
		s, ok := walk(b, path...).(string)
		if !ok {
			return nil, 0, 0, nil, false
		}
		data, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, 0, 0, nil, false
		}
		set := func(v []byte) {
			enc := base64.StdEncoding.EncodeToString(v)
			switch k := path[len(path)-1].(type) {
			case string:
				parent.(map[string]any)[k] = enc
			case int:
				parent.([]any)[k] = enc
			}
		}
		return data, 0, len(data), set, true
	}
}

func leafField(b map[string]any) ([]any, bool) {
	if s := walk(b, "verificationMaterial", "certificate", "rawBytes"); s != nil {
		return []any{"verificationMaterial", "certificate", "rawBytes"}, true
	}
	if s := walk(b, "verificationMaterial", "x509CertificateChain", "certificates", 0, "rawBytes"); s != nil {
		return []any{"verificationMaterial", "x509CertificateChain", "certificates", 0, "rawBytes"}, true
	}
	return nil, false
}

var tamperTargets = []tamperTarget{
	{"signature", func(b map[string]any) ([]byte, int, int, func([]byte), bool) {
		if walk(b, "messageSignature") != nil {
			return b64Field("messageSignature", "signature")(b)
		}
		return b64Field("dsseEnvelope", "signatures", 0, "sig")(b)
	}},
	{"statement", b64Field("dsseEnvelope", "payload")},
	{"certificateTBS", func(b map[string]any) ([]byte, int, int, func([]byte), bool) {
		path, ok := leafField(b)
		if !ok {
			return nil, 0, 0, nil, false
		}
		data, _, _, set, ok := b64Field(path...)(b)
		if !ok {
			return nil, 0, 0, nil, false
		}
		c, err := cert.ParseAny(data)
		if err != nil {
			return nil, 0, 0, nil, false
		}
		lo := bytes.Index(data, c.RawTBS)
		return data, lo, lo + len(c.RawTBS), set, true
	}},
	{"chainCertificateTBS", func(b map[string]any) ([]byte, int, int, func([]byte), bool) {
		// The intermediate of an older bundle's x509CertificateChain.
		data, _, _, set, ok := b64Field("verificationMaterial", "x509CertificateChain", "certificates", 1, "rawBytes")(b)
		if !ok {
			return nil, 0, 0, nil, false
		}
		c, err := cert.ParseAny(data)
		if err != nil {
			return nil, 0, 0, nil, false
		}
		lo := bytes.Index(data, c.RawTBS)
		return data, lo, lo + len(c.RawTBS), set, true
	}},
	{"inclusionProof.rootHash", b64Field("verificationMaterial", "tlogEntries", 0, "inclusionProof", "rootHash")},
	{"inclusionProof.hashes[0]", b64Field("verificationMaterial", "tlogEntries", 0, "inclusionProof", "hashes", 0)},
	{"inclusionProof.hashes[last]", func(b map[string]any) ([]byte, int, int, func([]byte), bool) {
		hs, _ := walk(b, "verificationMaterial", "tlogEntries", 0, "inclusionProof", "hashes").([]any)
		return b64Field("verificationMaterial", "tlogEntries", 0, "inclusionProof", "hashes", len(hs)-1)(b)
	}},
	{"checkpoint", func(b map[string]any) ([]byte, int, int, func([]byte), bool) {
		cp, ok := walk(b, "verificationMaterial", "tlogEntries", 0, "inclusionProof", "checkpoint").(map[string]any)
		if !ok {
			return nil, 0, 0, nil, false
		}
		// The signed note and the log's own signature line (the first here).
		// Witness cosignature lines after it are not verified, by design:
		// the trusted root names no witnesses.
		s := cp["envelope"].(string)
		split := strings.Index(s, "\n\n")
		end := split + 2 + strings.Index(s[split+2:], "\n") + 1
		return []byte(s), 0, end, func(v []byte) { cp["envelope"] = string(v) }, true
	}},
	{"signedEntryTimestamp", b64Field("verificationMaterial", "tlogEntries", 0, "inclusionPromise", "signedEntryTimestamp")},
	{"canonicalizedBody", b64Field("verificationMaterial", "tlogEntries", 0, "canonicalizedBody")},
}

// tamperBundles are the bundles whose fields are flipped: each kind of
// entry and content, Rekor v1 and v2.
var tamperBundles = []string{
	"conformance/happy-path-v0.1", "conformance/happy-path-v0.3", "conformance/happy-path-intoto-in-dsse-v3",
	"conformance/intoto-with-custom-trust-root", "conformance/rekor2-happy-path", "conformance/rekor2-dsse-happy-path",
	"real/sigstore-js-2.1.0-npm-provenance.sigstore.json", "real/sigstore-js-1.3.0-npm-slsa-provenance-v0.2.sigstore.json", "real/attest-demo-reusable-workflow-actions-attest.sigstore.json",
}

func tamperInput(t *testing.T, name string) oracleInput {
	if dir, ok := cutPrefix(name, "conformance/"); ok {
		for _, c := range conformanceCases(t) {
			if c.name == dir {
				return c.input(false)
			}
		}
	}
	if file, ok := cutPrefix(name, "real/"); ok {
		for _, c := range realCases(t) {
			if c.Bundle == file {
				return c.input(t)
			}
		}
	}
	t.Fatalf("no bundle %s", name)
	return oracleInput{}
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return "", false
}

// knownDifference explains a flip that this verifier rejects and sigstore-go
// accepts: target's bytes were original and are mutated, the flipped bit in
// byte at. Every such flip must be explained here; the test fails on any
// other.
func knownDifference(target string, rekorV2 bool, original, mutated []byte, at int) string {
	switch {
	case rekorV2 && target == "inclusionProof.rootHash":
		// sigstore-go (rekor-tiles' VerifyLogEntryWithHash) proves inclusion
		// against the checkpoint's root hash and never reads the proof's
		// rootHash field. This verifier requires the two to be equal.
		return "Rekor v2: the proof's rootHash is not read by sigstore-go"
	case target == "checkpoint":
		name, sig := checkpointSignerParts(original)
		switch {
		case !rekorV2 && at >= name[0] && at < name[1]:
			// The name on a signed note's signature line is not signed. This
			// verifier requires it to be the log's host name (as it must for
			// Rekor v2); for Rekor v1 sigstore-go matches the signature by key
			// hint only, so a flipped name still verifies there.
			return "Rekor v1: sigstore-go does not compare the checkpoint signer's name"
		case at >= sig[0] && at < sig[1] && sameLenientBase64(original[sig[0]:sig[1]], mutated[sig[0]:sig[1]]):
			// The flip turned the last base64 character of the signature
			// into another that differs only in the bits past the data:
			// the same signature, encoded non-canonically. Go's lenient
			// decoder, which sigstore-go uses, reads it; this verifier
			// decodes strictly and refuses it.
			return "sigstore-go reads a checkpoint signature's non-canonical base64"
		}
	case target == "chainCertificateTBS":
		// sigstore-go reads only the leaf of a bundle's certificate chain.
		// This verifier requires the rest to be the trusted authority's own
		// certificates, byte for byte.
		return "the chain above the leaf is not read by sigstore-go"
	case rekorV2 && target == "canonicalizedBody":
		// sigstore-go rebuilds a Rekor v2 entry from the bundle and proves
		// the rebuilt entry's inclusion; it parses canonicalizedBody but
		// neither compares it with the bundle nor proves its inclusion.
		// This verifier compares the logged body with the bundle and proves
		// the logged body's inclusion.
		return "Rekor v2: canonicalizedBody is parsed but not checked by sigstore-go"
	}
	return ""
}

// checkpointSignerParts finds, in a checkpoint (a signed note), the byte
// ranges of the first signature line's signer name and of its base64.
func checkpointSignerParts(note []byte) (name, sig [2]int) {
	start := bytes.Index(note, []byte("\n\n")) + 2
	end := start + bytes.IndexByte(note[start:], '\n')
	const dash = "\u2014 "
	name[0] = start + len(dash)
	name[1] = name[0] + bytes.IndexByte(note[name[0]:end], ' ')
	sig = [2]int{name[1] + 1, end}
	return name, sig
}

// sameLenientBase64 reports whether a and b both decode, with Go's lenient
// standard decoder, to the same bytes.
func sameLenientBase64(a, b []byte) bool {
	x, errA := base64.StdEncoding.DecodeString(string(a))
	y, errB := base64.StdEncoding.DecodeString(string(b))
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// TestTamper flips single bits in the signature, the leaf certificate's
// TBS, the inclusion proof, the checkpoint, the SET and the statement of
// several bundles. This verifier must reject every flip; sigstore-go must
// reject it too unless knownDifference explains why not. The bundles run in
// parallel (-test.parallel, GOMAXPROCS by default).
func TestTamper(t *testing.T) {
	stride := 0 // 0: a sample of about 12 bits per field
	if *differentialFull {
		stride = 1
	}
	var mu sync.Mutex
	counts := map[string]int{}
	start := time.Now()
	t.Run("bundles", func(t *testing.T) {
		for _, name := range tamperBundles {
			t.Run(strings.ReplaceAll(name, "/", ":"), func(t *testing.T) {
				t.Parallel()
				tamperBundle(t, name, stride, func(key string) {
					mu.Lock()
					counts[key]++
					mu.Unlock()
				})
			})
		}
	})
	total := 0
	for k, n := range counts {
		if !strings.HasPrefix(k, "known difference: ") {
			total += n
		}
	}
	t.Logf("%d flips in %s; per field and known difference: %v", total, time.Since(start).Round(time.Second), counts)
	if *differentialFields == "" && (counts["signature"] == 0 || counts["certificateTBS"] == 0 || counts["checkpoint"] == 0 ||
		counts["signedEntryTimestamp"] == 0 || counts["statement"] == 0 || counts["inclusionProof.hashes[0]"] == 0) {
		t.Fatalf("a field was never tampered: %v", counts)
	}
}

// tamperBundle flips the bits of every target field of one bundle (every
// stride-th bit; 0: a sample) and counts each flip and known difference.
func tamperBundle(t *testing.T, name string, stride int, count func(string)) {
	start := time.Now()
	in := tamperInput(t, name)
	if _, err := ourVerify(in); err != nil {
		t.Fatalf("%s does not verify untampered: %v", name, err)
	}
	for _, target := range tamperTargets {
		if *differentialFields != "" && !slices.Contains(strings.Split(*differentialFields, ","), target.name) {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(in.bundle, &doc); err != nil {
			t.Fatal(err)
		}
		_, lo, hi, _, ok := target.get(doc)
		if !ok {
			continue
		}
		bits := (hi - lo) * 8
		step := stride
		if step == 0 {
			step = max(1, bits/12)
			if testing.Short() {
				step = max(1, bits/3)
			}
		}
		flips, known := 0, 0
		for bit := 0; bit < bits; bit += step {
			var doc map[string]any
			json.Unmarshal(in.bundle, &doc)
			data, lo, _, set, _ := target.get(doc)
			mutated := bytes.Clone(data)
			mutated[lo+bit/8] ^= 1 << (bit % 8)
			set(mutated)
			tampered, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			tin := in
			tin.bundle = tampered
			flips++
			count(target.name)
			_, ours := ourVerify(tin)
			theirs := oracleVerify(tin)
			if ours == nil {
				t.Errorf("%s: %s bit %d: accepted (sigstore-go: %v)", name, target.name, bit, theirs)
				continue
			}
			if theirs == nil {
				if why := knownDifference(target.name, isRekorV2(tampered), data, mutated, lo+bit/8); why == "" {
					t.Errorf("%s: %s bit %d: sigstore-go accepts, we reject (%v)", name, target.name, bit, ours)
				} else {
					count("known difference: " + why)
					known++
				}
			}
		}
		t.Logf("%s: %d flips, %d accepted by sigstore-go (known differences); %s so far",
			target.name, flips, known, time.Since(start).Round(time.Second))
	}
}

func isRekorV2(bundle []byte) bool {
	var doc map[string]any
	json.Unmarshal(bundle, &doc)
	kind, _ := walk(doc, "verificationMaterial", "tlogEntries", 0, "kindVersion", "kind").(string)
	version, _ := walk(doc, "verificationMaterial", "tlogEntries", 0, "kindVersion", "version").(string)
	v, _ := rekorVersion(kind, version)
	return v == 2
}
