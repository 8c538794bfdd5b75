//go:build js && wasm

package main

import (
	"errors"

	"github.com/cvmtrust/cvmtrust/verifier"
	"github.com/cvmtrust/cvmtrust/wasm/internal/jsval"
)

// resultValue returns the JavaScript object of r with exactly the keys and
// omissions of its JSON form (media type verifier.MediaType).
// test/widget-reports.test.mjs compares the two for every real report.
// When key is not nil, one more key, sealTo, carries it:
//
//	sealTo: {kem, kdf, aead, publicKey: Uint8Array, reportSha384: Uint8Array}
//
// web/verifier.js takes it off the Result before the page sees it and seals
// only to it.
func resultValue(r *verifier.Result, key *sealKey) (jsval.Value, error) {
	out := map[string]any{
		"mediaType":  r.MediaType,
		"verified":   r.Verified,
		"simulated":  r.Simulated,
		"revocation": r.Revocation,
		"verifiedAt": r.VerifiedAt,
	}
	for k, v := range map[string]string{"product": r.Product, "binding": r.Binding, "tlsKeySha256": r.TLSKeySHA256} {
		if v != "" {
			out[k] = v
		}
	}
	if f := r.TCBFloor; f != nil {
		floor := map[string]any{"floor": tcbFloorValue(f.Floor)}
		if f.Line != "" {
			floor["line"] = f.Line
		}
		if len(f.Bulletins) > 0 {
			bulletins := make([]any, len(f.Bulletins))
			for i, b := range f.Bulletins {
				bulletins[i] = b
			}
			floor["bulletins"] = bulletins
		}
		out["tcbFloor"] = floor
	}
	if s := r.Report; s != nil {
		out["report"] = map[string]any{
			"version":      s.Version,
			"guestSvn":     s.GuestSVN,
			"policy":       s.Policy,
			"vmpl":         s.VMPL,
			"signer":       s.Signer,
			"chipId":       s.ChipID,
			"measurement":  s.Measurement,
			"reportData":   s.ReportData,
			"hostData":     s.HostData,
			"reportedTcb":  tcbValue(s.ReportedTCB),
			"committedTcb": tcbValue(s.CommittedTCB),
			"currentTcb":   tcbValue(s.CurrentTCB),
			"launchTcb":    tcbValue(s.LaunchTCB),
			"sha384":       s.SHA384,
		}
	}
	checks := make([]any, len(r.Checks))
	for i, c := range r.Checks {
		check := map[string]any{"name": c.Name, "outcome": string(c.Outcome)}
		for _, kv := range [...][2]string{{"field", c.Field}, {"got", c.Got}, {"want", c.Want}, {"detail", c.Detail}} {
			if kv[1] != "" {
				check[kv[0]] = kv[1]
			}
		}
		checks[i] = check
	}
	out["checks"] = checks
	v, err := jsval.ValueOf(out)
	if err != nil || key == nil {
		return v, err
	}
	pk, err := uint8Array(key.hpke.PublicKey)
	if err != nil {
		return jsval.Value{}, err
	}
	sum, err := uint8Array(key.reportSHA384)
	if err != nil {
		return jsval.Value{}, err
	}
	sealTo, err := jsval.ValueOf(map[string]any{"kem": key.hpke.KEM, "kdf": key.hpke.KDF, "aead": key.hpke.AEAD})
	if err != nil {
		return jsval.Value{}, err
	}
	if err := errors.Join(sealTo.Set("publicKey", pk), sealTo.Set("reportSha384", sum), v.Set("sealTo", sealTo)); err != nil {
		return jsval.Value{}, err
	}
	return v, nil
}

func tcbValue(t verifier.TCB) map[string]any {
	out := map[string]any{"raw": t.Raw, "bl": t.Bootloader, "tee": t.TEE, "snp": t.SNP, "ucode": t.Microcode}
	if t.FMC != nil {
		out["fmc"] = *t.FMC
	}
	return out
}

func tcbFloorValue(f verifier.TCBFloor) map[string]any {
	return map[string]any{"bl": f.Bootloader, "tee": f.TEE, "snp": f.SNP, "ucode": f.Microcode, "fmc": f.FMC}
}
