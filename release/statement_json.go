package release

import (
	"github.com/cvmtrust/cvmtrust/internal/hex"
	"github.com/cvmtrust/cvmtrust/internal/strictjson"
	"github.com/cvmtrust/cvmtrust/measure"
)

// This file reads statements with internal/strictjson, in the native and the
// browser build alike, so that the page and the CLI judge a statement the
// same way without linking encoding/json into the browser; writing one
// (statement_encode.go) is for CI and stays native.

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

// decodeStatement decodes a statement strictly: duplicate keys anywhere,
// unknown top-level fields, trailing data, subjects without a name and
// SHA-256 digests that are not 64 lowercase hex digits are errors. Keys are
// matched exactly; a null member is read as absent.
func decodeStatement(payload []byte) (*statement, error) {
	doc, err := strictjson.ParseLimits(payload, strictjson.Limits{MaxBytes: maxStatementSize, MaxDepth: 16})
	if err != nil {
		return nil, errorf(ErrMalformedStatement, "%v", err)
	}
	if doc.Kind != strictjson.Object {
		return nil, errorf(ErrMalformedStatement, "a JSON %v, want an object", doc.Kind)
	}
	st := &statement{}
	for _, m := range doc.Members {
		v := m.Value
		if v.Kind == strictjson.Null {
			v = nil
		}
		switch m.Key {
		case "_type":
			if st.Type, err = stringMember("_type", v); err != nil {
				return nil, err
			}
		case "predicateType":
			if st.PredicateType, err = stringMember("predicateType", v); err != nil {
				return nil, err
			}
		case "predicate":
			if v != nil {
				// The manifest parser reads it again, strictly; pass it
				// the exact bytes the signature covered.
				st.Predicate = payload[v.Start:v.End]
			}
		case "subject":
			if st.Subjects, err = decodeSubjects(v); err != nil {
				return nil, err
			}
		default:
			return nil, errorf(ErrMalformedStatement, "unknown field %q", truncate(m.Key))
		}
	}
	return st, nil
}

func stringMember(key string, v *strictjson.Value) (string, error) {
	if v == nil {
		return "", nil
	}
	if v.Kind != strictjson.String {
		return "", errorf(ErrMalformedStatement, "%s is a %v, want a string", key, v.Kind)
	}
	return v.Text, nil
}

func decodeSubjects(v *strictjson.Value) ([]statementSubject, error) {
	if v == nil {
		return nil, nil
	}
	if v.Kind != strictjson.Array {
		return nil, errorf(ErrMalformedStatement, "subject is a %v, want an array", v.Kind)
	}
	var out []statementSubject
	for i, item := range v.Items {
		if item.Kind != strictjson.Object {
			return nil, errorf(ErrMalformedStatement, "subject %d is a %v, want an object", i, item.Kind)
		}
		var s statementSubject
		for _, m := range item.Members {
			f := m.Value
			if f.Kind == strictjson.Null {
				continue
			}
			switch m.Key {
			case "name":
				name, err := stringMember("subject name", f)
				if err != nil {
					return nil, err
				}
				s.Name = name
			case "digest":
				if f.Kind != strictjson.Object {
					return nil, errorf(ErrMalformedStatement, "subject %d: digest is a %v, want an object", i, f.Kind)
				}
				for _, d := range f.Members {
					if d.Value.Kind != strictjson.String {
						return nil, errorf(ErrMalformedStatement, "subject %d: digest %q is a %v, want a string", i, truncate(d.Key), d.Value.Kind)
					}
					if d.Key != "sha256" {
						continue // other algorithms are allowed and ignored
					}
					h := d.Value.Text
					b, err := hex.Decode(h)
					if err != nil || len(b) != len(s.SHA256) || hex.Encode(b) != h {
						return nil, errorf(ErrMalformedStatement, "subject %d: sha256 %q is not 64 lowercase hex digits", i, truncate(h))
					}
					copy(s.SHA256[:], b)
					s.HasSHA256 = true
				}
			default:
				return nil, errorf(ErrMalformedStatement, "subject %d: unknown field %q", i, truncate(m.Key))
			}
		}
		if s.Name == "" {
			return nil, errorf(ErrMalformedStatement, "subject %d has no name", i)
		}
		out = append(out, s)
	}
	return out, nil
}
