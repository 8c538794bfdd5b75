package snp

import "github.com/cvmtrust/cvmtrust/internal/errfmt"

// Product is an AMD EPYC generation that AMD KDS issues certificates for.
type Product string

const (
	Milan Product = "Milan"
	Genoa Product = "Genoa"
	Turin Product = "Turin"
)

// String returns the product's name as KDS spells it ("Milan"): what %s
// prints, also through internal/errfmt, which formats no named string type
// by itself.
func (p Product) String() string { return string(p) }

// Products lists the products this package knows, oldest first.
var Products = []Product{Milan, Genoa, Turin}

// ProductFromCPUID maps the CPUID family and model that version 3+ reports
// carry to a product, following AMD's KDS specification ("Determining the
// Product Name") and the processor programming references. The stepping
// does not matter to KDS.
func ProductFromCPUID(family, model uint8) (Product, error) {
	switch {
	case family == 0x19 && model <= 0x0F:
		return Milan, nil
	case family == 0x19 && (model >= 0x10 && model <= 0x1F || model >= 0xA0 && model <= 0xAF):
		return Genoa, nil
	case family == 0x1A && model <= 0x1F:
		return Turin, nil
	}
	return "", errfmt.Errorf("unknown CPU family %#x model %#x", family, model)
}

// TCB is a TCB_VERSION split into its security patch levels.
type TCB struct {
	Bootloader, TEE, SNP, Microcode uint8
	FMC                             uint8
	HasFMC                          bool
}

// DecodeTCB splits a TCB_VERSION. Milan and Genoa lay it out as
// BOOT_LOADER, TEE, 4 reserved bytes, SNP, MICROCODE; Turin as FMC,
// BOOT_LOADER, TEE, SNP, 3 reserved bytes, MICROCODE.
func DecodeTCB(p Product, v uint64) TCB {
	b := func(i uint) uint8 { return uint8(v >> (8 * i)) }
	if p == Turin {
		return TCB{FMC: b(0), Bootloader: b(1), TEE: b(2), SNP: b(3), Microcode: b(7), HasFMC: true}
	}
	return TCB{Bootloader: b(0), TEE: b(1), SNP: b(6), Microcode: b(7)}
}

// Part is one security patch level of a TCB, named as the CLI and the
// Result name it ("bl", "tee", "snp", "ucode", "fmc").
type Part struct {
	Name  string
	Value uint8
}

// Parts lists t's patch levels in TCB order; FMC only where the product
// has one.
func (t TCB) Parts() []Part {
	parts := []Part{{"bl", t.Bootloader}, {"tee", t.TEE}, {"snp", t.SNP}, {"ucode", t.Microcode}}
	if t.HasFMC {
		parts = append(parts, Part{"fmc", t.FMC})
	}
	return parts
}

// Below reports the first component of t below floor, if any.
func (t TCB) Below(floor TCB) (name string, got, want uint8, below bool) {
	floor.HasFMC = t.HasFMC
	floors := floor.Parts()
	for i, p := range t.Parts() {
		if p.Value < floors[i].Value {
			return p.Name, p.Value, floors[i].Value, true
		}
	}
	return "", 0, 0, false
}
