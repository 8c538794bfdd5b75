package verifier_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cvmtrust/cvmtrust/verifier"
)

func Example() {
	dir := "../testdata/snp-reports/oak-genoa/"
	report, _ := os.ReadFile(dir + "report.bin")
	vcek, _ := os.ReadFile(dir + "vcek.der")
	measurement, _ := hex.DecodeString("c57729018b0a6fb90dc17bb138b0aa35e4401004283ff4a2c24d3739ff3750f52384370e77b7032862a08c440a9bc4dc")

	// Trust setup: the pinned AMD roots, and a clock inside this old
	// report's certificate window.
	v, err := verifier.New(verifier.Options{
		Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	res, err := v.Verify(context.Background(),
		verifier.Evidence{Report: report, VCEK: vcek},
		verifier.Expectation{Measurements: [][]byte{measurement}})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Verified, res.Product, res.Report.Signer)

	// Another release's measurement is rejected, and the error says why.
	measurement[0] ^= 1
	_, err = v.Verify(context.Background(),
		verifier.Evidence{Report: report, VCEK: vcek},
		verifier.Expectation{Measurements: [][]byte{measurement}})
	fmt.Println(errors.Is(err, verifier.ErrMeasurement))
	// Output:
	// true Genoa VCEK
	// true
}
