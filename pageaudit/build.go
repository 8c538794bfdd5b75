package pageaudit

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Build is a widget build as its build.json lists it: each file's path in
// the package ("define.js", "dist/cvmtrust.wasm") and its Subresource
// Integrity ("sha384-…").
type Build map[string]string

// ErrNotBuild is returned by ParseBuild for input that is not a build.json.
var ErrNotBuild = errors.New("not a build.json")

// ParseBuild reads a build.json: {"files": {"NAME": {"integrity": "sha384-…"}, …}}.
func ParseBuild(b []byte) (Build, error) {
	var doc struct {
		Files map[string]struct {
			Integrity string `json:"integrity"`
		} `json:"files"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotBuild, err)
	}
	if len(doc.Files) == 0 {
		return nil, fmt.Errorf("%w: it lists no files", ErrNotBuild)
	}
	out := Build{}
	for name, f := range doc.Files {
		if strings.Contains(name, "..") || strings.HasPrefix(name, "/") || name == "" {
			return nil, fmt.Errorf("%w: file name %q is not a path inside the package", ErrNotBuild, name)
		}
		if _, _, err := parseSRI(f.Integrity); err != nil {
			return nil, fmt.Errorf("%w: file %q: integrity %q is not a SHA-256, SHA-384 or SHA-512 hash", ErrNotBuild, name, f.Integrity)
		}
		out[name] = f.Integrity
	}
	return out, nil
}

// ErrBadHash is returned for an allowed hash that is not "sha256-", "sha384-"
// or "sha512-" and the base64 of a digest of that size.
var ErrBadHash = errors.New("not a Subresource Integrity hash")

// parseSRI splits "sha384-BASE64" into its algorithm and digest.
func parseSRI(s string) (alg string, digest []byte, err error) {
	alg, b64, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return "", nil, ErrBadHash
	}
	digest, err = base64.StdEncoding.DecodeString(b64)
	sizes := map[string]int{"sha256": 32, "sha384": 48, "sha512": 64}
	if err != nil || sizes[alg] == 0 || len(digest) != sizes[alg] {
		return "", nil, ErrBadHash
	}
	return alg, digest, nil
}

// sriOf hashes b with alg ("sha256", "sha384" or "sha512"; SHA-384 for
// anything else), as a Subresource Integrity value.
func sriOf(alg string, b []byte) string {
	var d []byte
	switch alg {
	case "sha256":
		s := sha256.Sum256(b)
		d = s[:]
	case "sha512":
		s := sha512.Sum512(b)
		d = s[:]
	default:
		s := sha512.Sum384(b)
		d = s[:]
		alg = "sha384"
	}
	return alg + "-" + base64.StdEncoding.EncodeToString(d)
}
