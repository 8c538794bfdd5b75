package sigstore

import (
	"encoding/base64"
	"errors"
	"strings"
)

// decodeBase64 decodes bytes as protobuf's JSON form writes them: standard
// base64, and as protobuf readers also accept, URL-safe or unpadded, with
// line breaks ignored (as Go's base64 decoder, which protojson uses, does).
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		s = dropLineBreaks(s)
	}
	if strings.ContainsAny(s, "-_") {
		if strings.HasSuffix(s, "=") {
			return base64.URLEncoding.Strict().DecodeString(s)
		}
		return base64.RawURLEncoding.Strict().DecodeString(s)
	}
	if len(s)%4 != 0 {
		return base64.RawStdEncoding.Strict().DecodeString(s)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("invalid base64")
	}
	return b, nil
}

// dropLineBreaks returns s without its '\r' and '\n' bytes, as
// strings.NewReplacer("\r", "", "\n", "").Replace(s) would, without
// linking the Replacer (about 20 KB of code in the browser build).
func dropLineBreaks(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\r' && s[i] != '\n' {
			b = append(b, s[i])
		}
	}
	return string(b)
}
