package release

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"

	"github.com/cvmtrust/cvmtrust/measure"
)

// This file holds all of the package's JSON handling, so that the decoder can
// be replaced by a smaller one in the browser build; encoding/json is used
// until then (measure.ParseManifest links it as well).

// statement is a decoded in-toto statement; Predicate is its raw JSON.
type statement struct {
	Type          string
	PredicateType string
	Subjects      []statementSubject
	Predicate     []byte
}

type statementSubject struct {
	Name      string
	SHA256    measure.SHA256
	HasSHA256 bool
}

type jsonStatement struct {
	Type          string          `json:"_type"`
	Subject       []jsonSubject   `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

type jsonSubject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// decodeStatement decodes a statement strictly: duplicate keys anywhere
// (encoding/json would keep the last, another parser the first), unknown
// top-level fields, trailing data, subjects without a name and SHA-256
// digests that are not 64 lowercase hex digits are errors.
func decodeStatement(payload []byte) (*statement, error) {
	if err := rejectDuplicateKeys(payload); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var js jsonStatement
	if err := dec.Decode(&js); err != nil {
		return nil, errorf(ErrMalformedStatement, "%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf(ErrMalformedStatement, "data after the JSON object")
	}
	st := &statement{Type: js.Type, PredicateType: js.PredicateType}
	if len(js.Predicate) > 0 && !bytes.Equal(js.Predicate, []byte("null")) {
		st.Predicate = js.Predicate
	}
	for i, s := range js.Subject {
		if s.Name == "" {
			return nil, errorf(ErrMalformedStatement, "subject %d has no name", i)
		}
		out := statementSubject{Name: s.Name}
		if h, ok := s.Digest["sha256"]; ok {
			b, err := hex.DecodeString(h)
			if err != nil || len(b) != len(out.SHA256) || hex.EncodeToString(b) != h {
				return nil, errorf(ErrMalformedStatement, "subject %q: sha256 %q is not 64 lowercase hex digits", truncate(s.Name), truncate(h))
			}
			copy(out.SHA256[:], b)
			out.HasSHA256 = true
		}
		st.Subjects = append(st.Subjects, out)
	}
	return st, nil
}

// encodeStatement writes a statement as compact JSON with the manifest as
// its predicate.
func encodeStatement(subjects []Subject, m *measure.Manifest) ([]byte, error) {
	js := jsonStatement{Type: StatementType, PredicateType: PredicateType}
	for _, s := range subjects {
		js.Subject = append(js.Subject, jsonSubject{Name: s.Name, Digest: map[string]string{"sha256": s.SHA256.String()}})
	}
	pred, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	js.Predicate = pred
	return json.Marshal(js)
}

// rejectDuplicateKeys fails if any object in the JSON document has a key
// twice. It only looks at structure; decoding reports other errors.
func rejectDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// One entry per open container: the keys seen, or nil for an array.
	var stack []map[string]bool
	expectKey := func() bool { return len(stack) > 0 && stack[len(stack)-1] != nil }
	for {
		// In an object, tokens alternate key, value; Token returns the key
		// as a string when a key is due.
		if expectKey() && dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil
			}
			key, _ := tok.(string)
			if stack[len(stack)-1][key] {
				return errorf(ErrMalformedStatement, "key %q appears twice in one object", truncate(key))
			}
			stack[len(stack)-1][key] = true
		}
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF at the end; syntax errors are decoding's to report
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, map[string]bool{})
		case json.Delim('['):
			stack = append(stack, nil)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}
