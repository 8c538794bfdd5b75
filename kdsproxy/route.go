package kdsproxy

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kind is what a KDS document is, which decides how it is checked and how
// long it is cached.
type Kind int

const (
	// KindVCEK is one chip's VCEK certificate (DER), for one TCB.
	KindVCEK Kind = iota + 1
	// KindChain is the ASK or ASVK and the ARK of a product (PEM).
	KindChain
	// KindCRL is the certificate revocation list of a product (DER).
	KindCRL
)

func (k Kind) String() string {
	switch k {
	case KindVCEK:
		return "vcek"
	case KindChain:
		return "cert_chain"
	case KindCRL:
		return "crl"
	}
	return "unknown"
}

// Document is a validated request for one AMD KDS document.
type Document struct {
	Kind Kind
	// Path is the canonical KDS path and query, such as
	// "/vcek/v1/Milan/<hwid>?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115".
	// It is what goes upstream and the cache key; nothing of the client's
	// request is forwarded but what is in it.
	Path string
}

// ErrInvalidRequest is wrapped by every ParseDocument rejection.
var ErrInvalidRequest = errors.New("kdsproxy: not a KDS document request")

// product describes one AMD product line as KDS names it.
type product struct {
	name string
	// hwidLen is the chip id length in bytes in a VCEK path: the full
	// 64-byte CHIP_ID up to Genoa, 8 bytes from Turin on.
	hwidLen int
	// spls are the TCB query parameters KDS requires, in KDS order.
	spls []string
}

var products = []product{
	{"Milan", 64, []string{"blSPL", "teeSPL", "snpSPL", "ucodeSPL"}},
	{"Genoa", 64, []string{"blSPL", "teeSPL", "snpSPL", "ucodeSPL"}},
	{"Turin", 8, []string{"fmcSPL", "blSPL", "teeSPL", "snpSPL", "ucodeSPL"}},
}

func lookupProduct(name string) (product, bool) {
	for _, p := range products {
		if p.name == name {
			return p, true
		}
	}
	return product{}, false
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// ParseDocument validates a request path and query against the documents
// AMD KDS serves and returns their canonical form:
//
//	/vcek/v1/{Milan|Genoa|Turin}/{hwid}?blSPL=&teeSPL=&snpSPL=&ucodeSPL=  (Turin: and fmcSPL)
//	/{vcek|vlek}/v1/{Milan|Genoa|Turin}/cert_chain
//	/{vcek|vlek}/v1/{Milan|Genoa|Turin}/crl
//
// The hwid is hex of the chip id (128 digits, Turin 16); each SPL is a
// decimal number 0..255, given exactly once. Anything else, including an
// unknown or repeated query parameter, escaped characters or a trailing
// slash, is rejected. KDS serves no VLEK by chip id (a VLEK is given to the
// cloud provider), so /vlek/ has only cert_chain and crl.
func ParseDocument(escapedPath, rawQuery string) (Document, error) {
	parts := strings.Split(escapedPath, "/")
	if len(parts) != 5 || parts[0] != "" {
		return Document{}, invalid("path must be /{vcek|vlek}/v1/{product}/{document}")
	}
	signer, version, prodName, leaf := parts[1], parts[2], parts[3], parts[4]
	if signer != "vcek" && signer != "vlek" {
		return Document{}, invalid("unknown signer %q (want vcek or vlek)", signer)
	}
	if version != "v1" {
		return Document{}, invalid("unknown KDS version %q (want v1)", version)
	}
	prod, ok := lookupProduct(prodName)
	if !ok {
		return Document{}, invalid("unknown product %q (want Milan, Genoa or Turin)", prodName)
	}
	base := "/" + signer + "/v1/" + prod.name + "/"
	switch leaf {
	case "cert_chain", "crl":
		if rawQuery != "" {
			return Document{}, invalid("%s takes no query", leaf)
		}
		kind := KindChain
		if leaf == "crl" {
			kind = KindCRL
		}
		return Document{Kind: kind, Path: base + leaf}, nil
	}
	if signer != "vcek" {
		return Document{}, invalid("KDS serves only cert_chain and crl under /vlek/")
	}
	hwid, err := parseHWID(leaf, prod)
	if err != nil {
		return Document{}, err
	}
	query, err := parseSPLs(rawQuery, prod)
	if err != nil {
		return Document{}, err
	}
	return Document{Kind: KindVCEK, Path: base + hwid + "?" + query}, nil
}

// parseHWID checks the chip id and returns it in lower case, so that one
// chip has one cache key.
func parseHWID(s string, prod product) (string, error) {
	if len(s) != 2*prod.hwidLen {
		return "", invalid("%s hwid must be %d hex digits, got %d characters", prod.name, 2*prod.hwidLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", invalid("hwid has a non-hex character at offset %d", i)
		}
	}
	return strings.ToLower(s), nil
}

// parseSPLs checks that the query has exactly the product's SPL parameters,
// each a decimal 0..255, and returns them in KDS order.
func parseSPLs(rawQuery string, prod product) (string, error) {
	got := map[string]int{}
	if rawQuery != "" {
		for _, pair := range strings.Split(rawQuery, "&") {
			name, value, found := strings.Cut(pair, "=")
			if !found {
				return "", invalid("query parameter %q has no value", pair)
			}
			if !slices.Contains(prod.spls, name) {
				return "", invalid("unknown query parameter %q for %s", name, prod.name)
			}
			if _, dup := got[name]; dup {
				return "", invalid("query parameter %s given twice", name)
			}
			n, err := parseSPL(value)
			if err != nil {
				return "", invalid("%s: %v", name, err)
			}
			got[name] = n
		}
	}
	var q strings.Builder
	for i, name := range prod.spls {
		n, ok := got[name]
		if !ok {
			return "", invalid("missing query parameter %s for %s", name, prod.name)
		}
		if i > 0 {
			q.WriteByte('&')
		}
		q.WriteString(name + "=" + strconv.Itoa(n))
	}
	return q.String(), nil
}

// parseSPL accepts one to three decimal digits with a value up to 255.
func parseSPL(s string) (int, error) {
	if len(s) == 0 || len(s) > 3 {
		return 0, fmt.Errorf("want a number 0..255, got %q", s)
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("want a number 0..255, got %q", s)
		}
		n = n*10 + int(s[i]-'0')
	}
	if n > 255 {
		return 0, fmt.Errorf("want a number 0..255, got %d", n)
	}
	return n, nil
}
