package release

import (
	"github.com/cvmtrust/cvmtrust/internal/hex"
	"github.com/cvmtrust/cvmtrust/measure"
)

const (
	// StatementType is the in-toto Statement v1 type.
	StatementType = "https://in-toto.io/Statement/v1"
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// PredicateType identifies a release statement: its predicate is a
	// cvmtrust-launch-manifest/v1. It is compared byte for byte and names
	// the section of docs/release-provenance.md that defines it; see there
	// for why this URI.
	PredicateType = "https://github.com/cvmtrust/cvmtrust/blob/main/docs/release-provenance.md#launch-manifest-v1"
)

// maxStatementSize bounds what ManifestFromStatement reads: a manifest is a
// few kilobytes.
const maxStatementSize = 1 << 20

// Subject is an in-toto subject: a release artifact by name and SHA-256.
type Subject struct {
	Name   string
	SHA256 measure.SHA256
}

// ArtifactNames are the file names under which a release publishes its
// artifacts; they become the statement's subject names. Kernel and Initrd
// are required exactly when the manifest has them.
type ArtifactNames struct {
	OVMF, Kernel, Initrd string
}

// Subjects returns the subjects a release statement for m must have: the
// OVMF image (whose SHA-256 the manifest must state), and the kernel and
// initrd when the manifest has them.
func Subjects(m *measure.Manifest, names ArtifactNames) ([]Subject, error) {
	if m.OVMF.SHA256 == nil {
		return nil, errorf(ErrSubjectMismatch, "the manifest does not state the OVMF image's SHA-256, so no subject can name it")
	}
	if names.OVMF == "" {
		return nil, errorf(ErrSubjectMismatch, "no file name for the OVMF image")
	}
	subjects := []Subject{{names.OVMF, *m.OVMF.SHA256}}
	for _, a := range []struct {
		role, name string
		digest     *measure.ArtifactDigest
	}{{"kernel", names.Kernel, m.Kernel}, {"initrd", names.Initrd, m.Initrd}} {
		switch {
		case a.digest == nil && a.name != "":
			return nil, errorf(ErrSubjectMismatch, "a file name for the %s, but the manifest has none", a.role)
		case a.digest != nil && a.name == "":
			return nil, errorf(ErrSubjectMismatch, "no file name for the %s", a.role)
		case a.digest != nil:
			subjects = append(subjects, Subject{a.name, a.digest.SHA256})
		}
	}
	seen := map[string]bool{}
	for _, s := range subjects {
		if seen[s.Name] {
			return nil, errorf(ErrSubjectMismatch, "two artifacts named %q", s.Name)
		}
		seen[s.Name] = true
	}
	return subjects, nil
}

// ManifestFromStatement returns the manifest of a release statement, given
// the payload of a DSSE envelope whose signature was verified. It returns a
// manifest only if the payload is an in-toto Statement v1 with predicate
// type PredicateType, the predicate parses strictly as a launch manifest
// (measure.ParseManifest) whose launch digest recomputes to its stated
// measurement, and the subjects are exactly the manifest's artifacts: one
// subject per artifact, by SHA-256, with distinct names and nothing else.
func ManifestFromStatement(payload []byte) (*measure.Manifest, error) {
	if len(payload) > maxStatementSize {
		return nil, errorf(ErrMalformedStatement, "%d bytes, at most %d", len(payload), maxStatementSize)
	}
	st, err := decodeStatement(payload)
	if err != nil {
		return nil, err
	}
	if st.Type != StatementType {
		return nil, errorf(ErrMalformedStatement, "_type %q, want %q", truncate(st.Type), StatementType)
	}
	if st.PredicateType != PredicateType {
		return nil, errorf(ErrPredicateType, "predicateType %q, want %q", truncate(st.PredicateType), PredicateType)
	}
	if len(st.Predicate) == 0 {
		return nil, errorf(ErrMalformedStatement, "no predicate")
	}
	m, err := measure.ParseManifest(st.Predicate)
	if err != nil {
		return nil, err
	}
	if err := m.Verify(); err != nil {
		return nil, err
	}
	if err := matchSubjects(st.Subjects, m); err != nil {
		return nil, err
	}
	return m, nil
}

// matchSubjects checks that the subjects are the manifest's artifacts, each
// exactly once. Names are the publisher's choice and only need to be
// distinct; digests are matched as a multiset, since two artifacts may be
// the same file (an empty kernel and initrd in the demo release).
func matchSubjects(got []statementSubject, m *measure.Manifest) error {
	if m.OVMF.SHA256 == nil {
		return errorf(ErrSubjectMismatch, "the manifest does not state the OVMF image's SHA-256, so no subject binds it")
	}
	type artifact struct {
		role   string
		digest measure.SHA256
		used   bool
	}
	want := []*artifact{{role: "ovmf", digest: *m.OVMF.SHA256}}
	if m.Kernel != nil {
		want = append(want, &artifact{role: "kernel", digest: m.Kernel.SHA256})
	}
	if m.Initrd != nil {
		want = append(want, &artifact{role: "initrd", digest: m.Initrd.SHA256})
	}
	if len(got) != len(want) {
		return errorf(ErrSubjectMismatch, "%d subjects, the manifest has %d artifacts", len(got), len(want))
	}
	names := map[string]bool{}
	for _, s := range got {
		if names[s.Name] {
			return errorf(ErrSubjectMismatch, "two subjects named %q", truncate(s.Name))
		}
		names[s.Name] = true
		if !s.HasSHA256 {
			return errorf(ErrSubjectMismatch, "subject %q has no sha256 digest", truncate(s.Name))
		}
		found := false
		for _, a := range want {
			if !a.used && a.digest == s.SHA256 {
				a.used, found = true, true
				break
			}
		}
		if !found {
			return errorf(ErrSubjectMismatch, "subject %q (sha256 %s) is none of the manifest's artifacts", truncate(s.Name), hex.Encode(s.SHA256[:]))
		}
	}
	return nil
}

func truncate(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
