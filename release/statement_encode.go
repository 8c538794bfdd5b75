//go:build !js

package release

import (
	"encoding/json"

	"github.com/cvmtrust/cvmtrust/measure"
)

// Writing a statement is for CI and the CLI; the browser build only reads
// them (statement_json.go), and so links no encoding/json.

// NewStatement returns the release statement for m, its artifacts named as
// given: compact JSON, ready to be signed as a DSSE payload of PayloadType.
// The manifest must be valid and its measurement must recompute.
func NewStatement(m *measure.Manifest, names ArtifactNames) ([]byte, error) {
	subjects, err := Subjects(m, names)
	if err != nil {
		return nil, err
	}
	if err := m.Verify(); err != nil {
		return nil, err
	}
	return encodeStatement(subjects, m)
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
