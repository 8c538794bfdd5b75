package measure

import (
	"strings"

	"github.com/cvmtrust/cvmtrust/internal/ascii"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
)

// CPUSignature returns the CPUID Fn0000_0001_EAX value (family, model,
// stepping) that QEMU puts in RDX of every vCPU at reset, encoded as AMD's
// CPUID specification (publication 25481) describes: families above 0xF
// split into base 0xF plus an extended family.
func CPUSignature(family, model, stepping uint32) (uint32, error) {
	if family > 0xF+0xFF || model > 0xFF || stepping > 0xF {
		return 0, errorf(ErrInvalidParams, "vCPU family %#x, model %#x, stepping %#x out of range", family, model, stepping)
	}
	baseFamily, extFamily := family, uint32(0)
	if family > 0xF {
		baseFamily, extFamily = 0xF, family-0xF
	}
	return extFamily<<20 | (model>>4)<<16 | baseFamily<<8 | (model&0xF)<<4 | stepping, nil
}

type fms struct{ family, model, stepping uint32 }

// QEMU's AMD EPYC CPU models (target/i386/cpu.c builtin_x86_defs); the
// versions of a model keep its family, model and stepping.
var cpuModels = map[string]fms{
	"EPYC":       {23, 1, 2},
	"EPYC-IBPB":  {23, 1, 2},
	"EPYC-Rome":  {23, 49, 0},
	"EPYC-Milan": {25, 1, 1},
	"EPYC-Genoa": {25, 17, 0},
	"EPYC-Turin": {26, 0, 0},
}

var cpuVersions = map[string]int{"EPYC": 5, "EPYC-Rome": 5, "EPYC-Milan": 3, "EPYC-Genoa": 2, "EPYC-Turin": 1}

// VCPUSignature returns the signature of a QEMU vCPU model name such as
// "EPYC-v4", "EPYC-Milan" or "EPYC-Genoa-v1" (case-insensitive).
func VCPUSignature(vcpuType string) (uint32, error) {
	name := canonicalVCPUType(vcpuType)
	m, ok := cpuModels[name]
	if !ok {
		return 0, errorf(ErrUnknownVCPUType, "%q (known: %s)", truncate(vcpuType), strings.Join(VCPUTypes(), ", "))
	}
	return CPUSignature(m.family, m.model, m.stepping)
}

// canonicalVCPUType maps a name to its base model, or to "" when unknown.
func canonicalVCPUType(vcpuType string) string {
	for _, t := range VCPUTypes() {
		if ascii.EqualFold(t, vcpuType) {
			if base, _, ok := strings.Cut(t, "-v"); ok {
				return base
			}
			return t
		}
	}
	return ""
}

// VCPUTypes lists the vCPU model names VCPUSignature knows.
func VCPUTypes() []string {
	names := make([]string, 0, 24)
	for base := range cpuModels {
		names = append(names, base)
		for v := 1; v <= cpuVersions[base]; v++ {
			names = append(names, errfmt.Sprintf("%s-v%d", base, v))
		}
	}
	// An insertion sort, in the order sort.Strings gives: sort.Strings is
	// slices' pdqsort instantiated for strings, 19 KB of code in the
	// browser build for two dozen names.
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}
