package verifier

import (
	"context"
	"encoding/binary"
	"errors"
	"regexp"
	"testing"

	"github.com/cvmtrust/cvmtrust/verifier/internal/snp"
)

var lines = []CPULine{LineMilan, LineMilanX, LineGenoa, LineGenoaX, LineBergamo, LineTurin}

// TestBulletinFloorsAreData: every row names its bulletin and CVE, every
// bulletin has one row for every line (a line it gives no value for is a
// row that says so), and no row is empty.
func TestBulletinFloorsAreData(t *testing.T) {
	bulletin := regexp.MustCompile(`^AMD-SB-\d{4}$`)
	cve := regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)
	rows := map[string]map[CPULine]int{}
	for i, b := range BulletinFloors {
		if !bulletin.MatchString(b.Bulletin) || !cve.MatchString(b.CVE) {
			t.Errorf("row %d: bulletin %q, CVE %q", i, b.Bulletin, b.CVE)
		}
		if b.Floor == (TCBFloor{}) && b.Gap == "" {
			t.Errorf("row %d (%s, %s): no floor and no gap said", i, b.Bulletin, b.Line)
		}
		if b.Line != LineTurin && b.Floor.FMC != 0 {
			t.Errorf("row %d: an FMC floor for %s, which has no FMC", i, b.Line)
		}
		if rows[b.Bulletin] == nil {
			rows[b.Bulletin] = map[CPULine]int{}
		}
		rows[b.Bulletin][b.Line]++
	}
	for name, byLine := range rows {
		for _, l := range lines {
			if byLine[l] != 1 {
				t.Errorf("%s has %d rows for %s, want 1", name, byLine[l], l)
			}
		}
		if len(byLine) != len(lines) {
			t.Errorf("%s has rows for an unknown line: %v", name, byLine)
		}
	}
}

// TestLineOf: the line comes from the report's CPUID, and a report without
// one is held to its product's main line.
func TestLineOf(t *testing.T) {
	for _, c := range []struct {
		product         snp.Product
		hasCPUID        bool
		model, stepping uint8
		want            CPULine
	}{
		{snp.Milan, true, 0x01, 1, LineMilan},
		{snp.Milan, true, 0x01, 2, LineMilanX},
		{snp.Milan, false, 0, 0, LineMilan},
		{snp.Genoa, true, 0x11, 1, LineGenoa},
		{snp.Genoa, true, 0x11, 2, LineGenoaX},
		{snp.Genoa, true, 0xA0, 2, LineBergamo},
		{snp.Genoa, false, 0, 0, LineGenoa},
		{snp.Turin, true, 0x02, 1, LineTurin},
	} {
		r := &snp.Report{HasCPUID: c.hasCPUID, CPUIDModel: c.model, CPUIDStepping: c.stepping}
		if got := lineOf(c.product, r); got != c.want {
			t.Errorf("%s model %#x stepping %d (CPUID %v): %s, want %s", c.product, c.model, c.stepping, c.hasCPUID, got, c.want)
		}
	}
}

// TestBulletinFloorOnRealReports: with BulletinTCBFloor, each real report's
// TCB checks pass exactly when its four TCBs, read here from the report's
// bytes, are at or above every floor the table sets for its line; the
// Result names the floor and its bulletins. Which reports are below is a
// finding (web/README.md), logged here.
func TestBulletinFloorOnRealReports(t *testing.T) {
	for _, c := range loadRealCases(t) {
		t.Run(c.ID, func(t *testing.T) {
			exp := c.expectation()
			exp.BulletinTCBFloor = true
			res, err := verifierAt(t, c.inWindow()).Verify(context.Background(), c.evidence(), exp)
			if res == nil {
				res = resultOf(t, err)
			}
			r, perr := snp.Parse(c.report)
			if perr != nil {
				t.Fatal(perr)
			}
			line := lineOf(snp.Product(c.Product), r)
			wantBelow := false
			for _, b := range BulletinFloors {
				if b.Line != line {
					continue
				}
				for _, off := range []int{0x38, 0x180, 0x1E0, 0x1F0} {
					tcb := snp.DecodeTCB(snp.Product(c.Product), binary.LittleEndian.Uint64(c.report[off:]))
					if tcb.Bootloader < b.Floor.Bootloader || tcb.TEE < b.Floor.TEE || tcb.SNP < b.Floor.SNP ||
						tcb.Microcode < b.Floor.Microcode || tcb.HasFMC && tcb.FMC < b.Floor.FMC {
						wantBelow = true
					}
				}
			}
			gotBelow := false
			for _, ch := range res.Checks {
				if len(ch.Name) > 4 && ch.Name[:4] == "tcb." && ch.Outcome == Fail {
					gotBelow = true
					if !errors.Is(ch.err, ErrTCBTooLow) {
						t.Errorf("%s failed with %v", ch.Name, ch.err)
					}
				}
			}
			if gotBelow != wantBelow {
				t.Fatalf("line %s: below the floor %v, want %v (%v)", line, gotBelow, wantBelow, res.Failed())
			}
			if res.TCBFloor == nil || res.TCBFloor.Line != string(line) || len(res.TCBFloor.Bulletins) == 0 {
				t.Fatalf("the Result's floor: %+v", res.TCBFloor)
			}
			if wantBelow {
				t.Logf("FINDING: %s (%s) is below the bulletins' floor %+v of %v", c.ID, line, res.TCBFloor.Floor, res.TCBFloor.Bulletins)
			}
			// Without BulletinTCBFloor nothing changes: no floor, the checks skipped.
			plain, _ := verifierAt(t, c.inWindow()).Verify(context.Background(), c.evidence(), c.expectation())
			if plain != nil && plain.TCBFloor != nil {
				t.Errorf("a floor without BulletinTCBFloor: %+v", plain.TCBFloor)
			}
		})
	}
}

// TestMinTCBRaisesTheBulletinFloor: a page's MinTCB raises the bulletins'
// floor component by component; it never lowers it.
func TestMinTCBRaisesTheBulletinFloor(t *testing.T) {
	for _, c := range loadRealCases(t) {
		if c.ID != "oak-milan-oc-release" {
			continue
		}
		exp := c.expectation()
		exp.BulletinTCBFloor = true
		exp.MinTCB = TCBFloor{SNP: 1, Microcode: 1} // below the floor: no effect
		res, err := verifierAt(t, c.inWindow()).Verify(context.Background(), c.evidence(), exp)
		if err != nil {
			t.Fatalf("a floor below the bulletins' lowered nothing, yet: %v", err)
		}
		if res.TCBFloor.Floor.Microcode != 0xDB || res.TCBFloor.Floor.SNP != 1 {
			t.Errorf("floor %+v, want microcode 0xDB (the bulletin's) and SNP 1 (the page's)", res.TCBFloor.Floor)
		}
		exp.MinTCB = TCBFloor{Microcode: 0xFF}
		if _, err := verifierAt(t, c.inWindow()).Verify(context.Background(), c.evidence(), exp); !errors.Is(err, ErrTCBTooLow) {
			t.Errorf("a floor above the report: %v, want ErrTCBTooLow", err)
		}
		return
	}
	t.Fatal("oak-milan-oc-release not found")
}

// resultOf is the Result a rejection carries.
func resultOf(t *testing.T, err error) *Result {
	t.Helper()
	var rej *RejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("%v, want a rejection", err)
	}
	return rej.Result
}
