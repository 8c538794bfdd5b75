//go:build js && wasm

package main

import (
	"encoding/base64"

	"github.com/hack-pad/safejs"

	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/verifier"
)

// resultValue returns the JavaScript object of r with exactly the keys and
// omissions of its JSON form (media type verifier.MediaType).
// test/widget-reports.test.mjs compares the two for every real report.
func resultValue(r *verifier.Result) (safejs.Value, error) {
	out := map[string]any{
		"mediaType":  r.MediaType,
		"verified":   r.Verified,
		"simulated":  r.Simulated,
		"revocation": r.Revocation,
		"verifiedAt": r.VerifiedAt,
	}
	if r.Product != "" {
		out["product"] = r.Product
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
	return safejs.ValueOf(out)
}

func tcbValue(t verifier.TCB) map[string]any {
	out := map[string]any{"raw": t.Raw, "bl": t.Bootloader, "tee": t.TEE, "snp": t.SNP, "ucode": t.Microcode}
	if t.FMC != nil {
		out["fmc"] = *t.FMC
	}
	return out
}

// enrollRequestValue returns the JavaScript object of the JSON body of
// POST /enroll: byte fields in standard base64, as encoding/json writes them.
func enrollRequestValue(r protocol.EnrollRequest) (safejs.Value, error) {
	return safejs.ValueOf(map[string]any{
		"version":       r.Version,
		"report_sha384": base64.StdEncoding.EncodeToString(r.ReportSHA384),
		"kem":           r.KEM,
		"ciphertext":    base64.StdEncoding.EncodeToString(r.Ciphertext),
	})
}
