package verifier

import (
	"context"
	"errors"
)

// Verifier checks SEV-SNP evidence against pinned AMD roots. It is safe for
// concurrent use.
type Verifier struct {
	opts Options
}

// New returns a Verifier with the given trust setup.
func New(opts Options) (*Verifier, error) {
	return &Verifier{opts: opts}, nil
}

// Verify checks ev against exp. It returns a Result if and only if every
// check passed; otherwise the error is a *RejectedError carrying the Result
// with every check's outcome, or an ErrBadExpectation for a contradictory exp.
func (v *Verifier) Verify(ctx context.Context, ev Evidence, exp Expectation) (*Result, error) {
	return nil, errors.New("not implemented yet")
}
