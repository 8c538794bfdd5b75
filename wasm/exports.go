//go:build js && wasm

package main

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/verifier"
	"github.com/cvmtrust/cvmtrust/wasm/internal/jsval"
)

const protocolVersion = protocol.Version

// callTimeout bounds one exported call; WebCrypto answers in milliseconds.
const callTimeout = 30 * time.Second

// verifyJS implements cvmtrust.verify(evidence, expectation).
func verifyJS(args []jsval.Value) (any, error) {
	if len(args) != 2 {
		return nil, errfmt.Errorf("want 2 arguments (evidence, expectation), got %d", len(args))
	}
	ev, err := decodeEvidence(args[0])
	if err != nil {
		return nil, err
	}
	exp, trust, err := decodeExpectation(args[1], ev)
	if err != nil {
		return nil, err
	}
	ctx, cancel := withTimeout(context.Background(), callTimeout)
	defer cancel()
	res, err := verifyEvidence(ctx, ev, exp, trust)
	if err != nil {
		return nil, err
	}
	return resultValue(res, sealingKey(res, ev, exp))
}

// sealingKey returns the key a page may seal to after this verification:
// the HPKE public key bytes the verifier bound into REPORT_DATA with the
// nonce, and the SHA-384 of the report that did it. Only a Result that
// verified with a nonce binding has one; the page seals to these bytes and
// never to a key read again from the gateway's JSON.
func sealingKey(res *verifier.Result, ev protocol.Evidence, exp verifier.Expectation) *sealKey {
	if !res.Verified || exp.Binding == nil || res.Report == nil {
		return nil
	}
	sum := sha2.Sum384(ev.Report)
	return &sealKey{
		hpke:         protocol.HPKEKey{KEM: ev.HPKE.KEM, KDF: ev.HPKE.KDF, AEAD: ev.HPKE.AEAD, PublicKey: bytes.Clone(exp.Binding.HPKEPublicKey)},
		reportSHA384: sum[:],
	}
}

// sealKey is what a verification hands the page for sealing.
type sealKey struct {
	hpke         protocol.HPKEKey // the suite named by the evidence, the key bytes bound in REPORT_DATA
	reportSHA384 []byte           // of the report that bound them
}

// verifyEvidence runs the verifier. A rejection is not an error here: its
// Result, with verified=false and every check, is what the page shows.
func verifyEvidence(ctx context.Context, ev protocol.Evidence, exp verifier.Expectation, trust trustSetup) (*verifier.Result, error) {
	v, err := verifierFor(trust)
	if err != nil {
		return nil, err
	}
	res, err := v.Verify(ctx, verifier.Evidence{
		Report: ev.Report,
		VCEK:   ev.Certs.VCEK,
		VLEK:   ev.Certs.VLEK,
		Chain:  []byte(ev.Certs.Chain),
	}, exp)
	rejected, isRejected := errors.AsType[*verifier.RejectedError](err)
	switch {
	case isRejected:
		return rejected.Result, nil
	case err != nil:
		return nil, err
	}
	return res, nil
}

var (
	signaturesOnce sync.Once
	signatures     *webCrypto
	signaturesErr  error

	verifiersMu sync.Mutex
	// verifiers holds one Verifier per trust setup a page has used, at most
	// maxVerifiers of them (a page uses one or two).
	verifiers = map[trustSetup]*verifier.Verifier{}
)

const maxVerifiers = 8

func verifierFor(trust trustSetup) (*verifier.Verifier, error) {
	signaturesOnce.Do(func() { signatures, signaturesErr = newWebCrypto() })
	if signaturesErr != nil {
		return nil, signaturesErr
	}
	verifiersMu.Lock()
	defer verifiersMu.Unlock()
	if v, ok := verifiers[trust]; ok {
		return v, nil
	}
	opts := verifier.Options{Roots: verifier.AMDRoots(), Signatures: signatures}
	if trust.simulatedRoot != "" {
		var err error
		if opts.Roots, err = opts.Roots.WithSimulated([]byte(trust.simulatedRoot)); err != nil {
			return nil, errfmt.Errorf("expectation.simulatedRoot: %w", err)
		}
	}
	if trust.kdsProxy != "" {
		var err error
		if opts.Fetcher, err = newKDSFetcher(trust.kdsProxy); err != nil {
			return nil, err
		}
	}
	v, err := verifier.New(opts)
	if err != nil {
		return nil, err
	}
	if len(verifiers) >= maxVerifiers {
		clear(verifiers)
	}
	verifiers[trust] = v
	return v, nil
}

// bytesArg copies a Uint8Array argument.
func bytesArg(name string, v jsval.Value) ([]byte, error) {
	u8, err := jsval.Global().Get("Uint8Array")
	if err != nil {
		return nil, err
	}
	if ok, err := v.InstanceOf(u8); err != nil || !ok {
		return nil, errfmt.Errorf("%s must be a Uint8Array", name)
	}
	n, err := v.Length()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := jsval.CopyBytesToGo(b, v); err != nil {
		return nil, err
	}
	return b, nil
}
