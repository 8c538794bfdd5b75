package release

import (
	"errors"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
)

// Errors returned by this package. Match them with errors.Is; the returned
// errors wrap them with the detail. Errors from the manifest itself wrap
// measure's (measure.ErrMalformedManifest, measure.ErrMeasurementMismatch).
var (
	// ErrMalformedStatement: the payload is not an in-toto Statement v1.
	ErrMalformedStatement = errors.New("release: malformed in-toto statement")
	// ErrPredicateType: the statement is not a release statement.
	ErrPredicateType = errors.New("release: statement is not a cvmtrust release")
	// ErrSubjectMismatch: the statement's subjects are not exactly the
	// artifacts its manifest describes.
	ErrSubjectMismatch = errors.New("release: statement subjects do not match the manifest's artifacts")
)

func errorf(sentinel error, format string, args ...any) error {
	return errfmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
