package verifier

import "github.com/cvmtrust/cvmtrust/verifier/internal/snp"

// CPULine is a line of AMD processors whose TCB values compare with one
// another: a product as AMD KDS names it, and within it the lines that
// number their microcode apart (Milan and Milan-X patch 0x0A0011xx and
// 0x0A0012xx, so one Milan floor for both would be too strict for one or
// too weak for the other).
type CPULine string

// The lines, by the CPUID family, model and stepping a version 3+ report
// states. A report without them (version 2) is held to its product's main
// line, the strictest.
const (
	LineMilan   CPULine = "Milan"         // EPYC 7003: family 19h, model 00h–0Fh, stepping 1 (or unknown)
	LineMilanX  CPULine = "Milan-X"       // EPYC 7003X: stepping 2
	LineGenoa   CPULine = "Genoa"         // EPYC 9004: family 19h, model 10h–1Fh, stepping 1 (or unknown)
	LineGenoaX  CPULine = "Genoa-X"       // EPYC 9004X: stepping 2
	LineBergamo CPULine = "Bergamo/Siena" // EPYC 97x4 and 8004: family 19h, model A0h–AFh, under Genoa's ARK
	LineTurin   CPULine = "Turin"         // EPYC 9005: family 1Ah, model 00h–1Fh
)

// lineOf returns the line of a report's processor: from its CPUID when it
// states one, else from the product its certificate is for.
func lineOf(p snp.Product, r *snp.Report) CPULine {
	switch p {
	case snp.Milan:
		if r.HasCPUID && r.CPUIDStepping == 2 {
			return LineMilanX
		}
		return LineMilan
	case snp.Genoa:
		switch {
		case r.HasCPUID && r.CPUIDModel >= 0xA0 && r.CPUIDModel <= 0xAF:
			return LineBergamo
		case r.HasCPUID && r.CPUIDStepping == 2:
			return LineGenoaX
		}
		return LineGenoa
	case snp.Turin:
		return LineTurin
	}
	return ""
}

// BulletinFloor is the TCB that the fix of one AMD security bulletin
// requires on one line of processors: a report below it on a component
// comes from a platform without the fix. A zero component is no floor from
// this bulletin. Gap says what the bulletin calls for on this line that no
// source at hand gives a value for; nothing is enforced for it, rather than
// a value made up.
type BulletinFloor struct {
	Bulletin string   `json:"bulletin"` // AMD-SB-NNNN
	CVE      string   `json:"cve"`
	Line     CPULine  `json:"line"`
	Floor    TCBFloor `json:"floor"`
	Gap      string   `json:"gap,omitempty"`
}

// BulletinFloors are the floors Expectation.BulletinTCBFloor applies. Where
// each value comes from (AMD's bulletin pages were not reachable where these
// were gathered, so each is AMD's value as an independent source quotes it;
// web/README.md has the table, and check the bulletin itself before relying
// on a row):
//
//   - [fwupd]: fwupd's plugins/cpu/fu-cpu-common.c (fwupd/fwupd at
//     88057eb0), fu_cpu_amd_model_id_to_entry_sign_fixed_ucode_version: the
//     first microcode patch with the microcode signature fix (AMD-SB-7033,
//     of which AMD-SB-3019 is the SEV-SNP bulletin) per CPUID. The TCB's
//     microcode value is the patch level's low byte (a report from patch
//     0x0A0011DB says microcode 0xDB).
//   - [review]: ariofrio/pi-tee's docs/reviews/pi-tee-multimodel-snp-tls-opus-review.md
//     (at 0356acbf), which quotes AMD-SB-3019, -3020 and -3027 as fetched
//     on 2026-10-08, including AMD-SB-3027's "TCB Value for Attestation".
//
// Values are hexadecimal as AMD gives them.
var BulletinFloors = []BulletinFloor{
	// AMD-SB-3019, CVE-2024-56161 (EntrySign): microcode loaded with a forged
	// signature breaks SEV-SNP's confidentiality and integrity. [fwupd], and
	// for Genoa's SNP firmware, [review] ("TCB[SNP] = 0x17", SEV FW 1.55.40);
	// the SNP firmware is the product's, so its floor holds on every line of
	// it.
	{Bulletin: "AMD-SB-3019", CVE: "CVE-2024-56161", Line: LineMilan, Floor: TCBFloor{Microcode: 0xDB},
		Gap: "the SNP firmware value of the fix"},
	{Bulletin: "AMD-SB-3019", CVE: "CVE-2024-56161", Line: LineMilanX, Floor: TCBFloor{Microcode: 0x44},
		Gap: "the SNP firmware value of the fix"},
	{Bulletin: "AMD-SB-3019", CVE: "CVE-2024-56161", Line: LineGenoa, Floor: TCBFloor{SNP: 0x17, Microcode: 0x54}},
	{Bulletin: "AMD-SB-3019", CVE: "CVE-2024-56161", Line: LineGenoaX, Floor: TCBFloor{SNP: 0x17, Microcode: 0x4F}},
	{Bulletin: "AMD-SB-3019", CVE: "CVE-2024-56161", Line: LineBergamo, Floor: TCBFloor{SNP: 0x17, Microcode: 0x19}},
	{Bulletin: "AMD-SB-3019", CVE: "CVE-2024-56161", Line: LineTurin,
		Gap: "the microcode and SNP firmware values of the fix (Zen 5 is affected, AMD-SB-7033)"},

	// AMD-SB-3020, CVE-2025-0033 (RMP initialisation): a hypervisor can
	// write the RMP while SNP starts. [review]: Genoa SEV FW "SPL=0x1B",
	// Turin "SPL=0x04".
	{Bulletin: "AMD-SB-3020", CVE: "CVE-2025-0033", Line: LineMilan, Gap: "the SNP firmware value of the fix"},
	{Bulletin: "AMD-SB-3020", CVE: "CVE-2025-0033", Line: LineMilanX, Gap: "the SNP firmware value of the fix"},
	{Bulletin: "AMD-SB-3020", CVE: "CVE-2025-0033", Line: LineGenoa, Floor: TCBFloor{SNP: 0x1B}},
	{Bulletin: "AMD-SB-3020", CVE: "CVE-2025-0033", Line: LineGenoaX, Floor: TCBFloor{SNP: 0x1B}},
	{Bulletin: "AMD-SB-3020", CVE: "CVE-2025-0033", Line: LineBergamo, Floor: TCBFloor{SNP: 0x1B}},
	{Bulletin: "AMD-SB-3020", CVE: "CVE-2025-0033", Line: LineTurin, Floor: TCBFloor{SNP: 0x04}},

	// AMD-SB-3027, CVE-2025-29943 (StackWarp): a hypervisor corrupts a guest's
	// stack pointer through an SMT sibling. [review], "TCB Value for
	// Attestation": Genoa microcode 0x56, Genoa-X 0x51, Turin 0x51.
	{Bulletin: "AMD-SB-3027", CVE: "CVE-2025-29943", Line: LineMilan, Gap: "the microcode value of the fix"},
	{Bulletin: "AMD-SB-3027", CVE: "CVE-2025-29943", Line: LineMilanX, Gap: "the microcode value of the fix"},
	{Bulletin: "AMD-SB-3027", CVE: "CVE-2025-29943", Line: LineGenoa, Floor: TCBFloor{Microcode: 0x56}},
	{Bulletin: "AMD-SB-3027", CVE: "CVE-2025-29943", Line: LineGenoaX, Floor: TCBFloor{Microcode: 0x51}},
	{Bulletin: "AMD-SB-3027", CVE: "CVE-2025-29943", Line: LineBergamo, Gap: "the microcode value of the fix"},
	{Bulletin: "AMD-SB-3027", CVE: "CVE-2025-29943", Line: LineTurin, Floor: TCBFloor{Microcode: 0x51}},
}

// bulletinFloor returns the floor BulletinFloors set for line, component by
// component the highest, and the bulletins that set a part of it.
func bulletinFloor(line CPULine) (TCBFloor, []string) {
	var f TCBFloor
	var from []string
	for _, b := range BulletinFloors {
		if b.Line != line || b.Floor == (TCBFloor{}) {
			continue
		}
		// One row per bulletin and line (TestBulletinFloorsAreData): no bulletin twice.
		f = f.raisedTo(b.Floor)
		from = append(from, b.Bulletin)
	}
	return f, from
}

// raisedTo returns f with each component raised to g's where g's is higher.
func (f TCBFloor) raisedTo(g TCBFloor) TCBFloor {
	return TCBFloor{
		Bootloader: max(f.Bootloader, g.Bootloader),
		TEE:        max(f.TEE, g.TEE),
		SNP:        max(f.SNP, g.SNP),
		Microcode:  max(f.Microcode, g.Microcode),
		FMC:        max(f.FMC, g.FMC),
	}
}
