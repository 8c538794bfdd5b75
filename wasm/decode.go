//go:build js && wasm

package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/verifier"
)

// expectationJSON is the expectation object a page passes to
// cvmtrust.verify. Keys are lowerCamelCase; unknown keys are an error, so a
// misspelt requirement is never silently dropped.
type expectationJSON struct {
	// Measurements are the accepted launch digests, hex.
	Measurements         []string `json:"measurements"`
	AnyMeasurementUnsafe bool     `json:"anyMeasurementUnsafe"`
	// Nonce is the 32-byte nonce the page sent to GET /attestation, base64
	// (standard or URL alphabet). It is bound with the evidence's HPKE key.
	Nonce string `json:"nonce"`
	// ReportData is the exact REPORT_DATA (hex, 64 bytes), for evidence that
	// does not follow protocol v1's binding.
	ReportData string `json:"reportData"`
	VMPL       *int   `json:"vmpl"`
	MinTCB     struct {
		Bootloader uint8 `json:"bl"`
		TEE        uint8 `json:"tee"`
		SNP        uint8 `json:"snp"`
		Microcode  uint8 `json:"ucode"`
		FMC        uint8 `json:"fmc"`
	} `json:"minTcb"`
	MinGuestSVN uint32 `json:"minGuestSvn"`
	Policy      struct {
		AllowDebug          bool  `json:"allowDebug"`
		AllowMigrationAgent bool  `json:"allowMigrationAgent"`
		RequireNoSMT        bool  `json:"requireNoSmt"`
		MinABIMajor         uint8 `json:"minAbiMajor"`
		MinABIMinor         uint8 `json:"minAbiMinor"`
	} `json:"policy"`
	HostData               string `json:"hostData"`
	IDKeyDigest            string `json:"idKeyDigest"`
	RequireRevocationCheck bool   `json:"requireRevocationCheck"`
	// SimulatedRoot is a simulated ARK (PEM) to trust besides the pinned AMD
	// roots. It is trust setup rather than an expectation; it rides here so
	// that one call says everything. Evidence chaining to it verifies with
	// simulated=true.
	SimulatedRoot string `json:"simulatedRoot"`
}

func decodeEvidence(b []byte) (protocol.Evidence, error) {
	var ev protocol.Evidence
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("evidence is not protocol v1 JSON: %w", err)
	}
	if ev.Version != protocol.Version {
		return ev, fmt.Errorf("evidence version %d, want %d", ev.Version, protocol.Version)
	}
	return ev, nil
}

// decodeExpectation maps the page's expectation to the verifier's. The nonce
// is bound with the HPKE public key the evidence carries: a swapped key then
// fails the report data check.
func decodeExpectation(b []byte, ev protocol.Evidence) (verifier.Expectation, string, error) {
	var in expectationJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return verifier.Expectation{}, "", fmt.Errorf("expectation: %w", err)
	}
	exp := verifier.Expectation{
		AnyMeasurementUnsafe: in.AnyMeasurementUnsafe,
		VMPL:                 in.VMPL,
		MinTCB: verifier.TCBFloor{
			Bootloader: in.MinTCB.Bootloader,
			TEE:        in.MinTCB.TEE,
			SNP:        in.MinTCB.SNP,
			Microcode:  in.MinTCB.Microcode,
			FMC:        in.MinTCB.FMC,
		},
		MinGuestSVN: in.MinGuestSVN,
		Policy: verifier.Policy{
			AllowDebug:          in.Policy.AllowDebug,
			AllowMigrationAgent: in.Policy.AllowMigrationAgent,
			RequireNoSMT:        in.Policy.RequireNoSMT,
			MinABIMajor:         in.Policy.MinABIMajor,
			MinABIMinor:         in.Policy.MinABIMinor,
		},
		RequireRevocationCheck: in.RequireRevocationCheck,
	}
	for i, m := range in.Measurements {
		d, err := hexField(fmt.Sprintf("measurements[%d]", i), m)
		if err != nil {
			return verifier.Expectation{}, "", err
		}
		exp.Measurements = append(exp.Measurements, d)
	}
	var err error
	if exp.ReportData, err = hexField("reportData", in.ReportData); err != nil {
		return verifier.Expectation{}, "", err
	}
	if exp.HostData, err = hexField("hostData", in.HostData); err != nil {
		return verifier.Expectation{}, "", err
	}
	if exp.IDKeyDigest, err = hexField("idKeyDigest", in.IDKeyDigest); err != nil {
		return verifier.Expectation{}, "", err
	}
	if in.Nonce != "" {
		nonce, err := base64Field("nonce", in.Nonce)
		if err != nil {
			return verifier.Expectation{}, "", err
		}
		exp.Binding = &verifier.Binding{Nonce: nonce, HPKEPublicKey: ev.HPKE.PublicKey}
	}
	return exp, in.SimulatedRoot, nil
}

func hexField(name, s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		return nil, fmt.Errorf("expectation.%s is not hex", name)
	}
	return b, nil
}

func base64Field(name, s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("expectation." + name + " is not base64")
}
