package measure

import "github.com/cvmtrust/cvmtrust/internal/sha2"

// MaxVCPUs bounds Params.VCPUs (KVM's limit on x86).
const MaxVCPUs = 4096

// Params are the inputs of an SEV-SNP launch digest, the same as
// sev-snp-measure's. Firmware facts come from an OVMF image (FirmwareFromOVMF)
// or from a release manifest.
type Params struct {
	// OVMFHash is the launch digest after the OVMF image's pages (OVMFHash).
	OVMFHash Digest
	// Layout is the OVMF image's SEV metadata (ParseOVMF).
	Layout Layout
	// Kernel holds the SEV hashes table of a directly booted kernel, or nil
	// when the guest does not boot a kernel through QEMU's -kernel.
	Kernel *KernelHashes
	// VCPUs is the number of vCPUs, 1 to MaxVCPUs.
	VCPUs int
	// VCPUSig is the CPUID signature in RDX at reset (VCPUSignature,
	// CPUSignature). Only QEMU measures it; ec2 and gce ignore it.
	VCPUSig uint32
	// VMM is the hypervisor type; "" means QEMU.
	VMM VMMType
	// GuestFeatures is SEV_FEATURES of the VMSAs: 0x1 (SNPActive) for QEMU
	// 10.0 on an upstream host kernel, which asks KVM for no other feature;
	// 0x21 where the host enables DebugSwap (kernels 6.6–6.7).
	GuestFeatures uint64
}

// FirmwareFromOVMF parses an OVMF image and hashes its pages, returning
// Params with OVMFHash and Layout filled in.
func FirmwareFromOVMF(image []byte) (Params, error) {
	layout, err := ParseOVMF(image)
	if err != nil {
		return Params{}, err
	}
	h, err := OVMFHash(image)
	if err != nil {
		return Params{}, err
	}
	return Params{OVMFHash: h, Layout: layout}, nil
}

func (p *Params) vmm() (VMMType, error) {
	if p.VMM == "" {
		return VMMQEMU, nil
	}
	return ParseVMMType(string(p.VMM))
}

// LaunchDigest computes the MEASUREMENT an AMD SEV-SNP attestation report
// carries for a guest launched with these parameters: the OVMF pages (given
// as OVMFHash), then the SEV metadata sections in image order (the SEV
// hashes table page when a kernel is given), then one VMSA page per vCPU.
func LaunchDigest(p Params) (Digest, error) {
	vmm, err := p.vmm()
	if err != nil {
		return Digest{}, err
	}
	if p.VCPUs < 1 || p.VCPUs > MaxVCPUs {
		return Digest{}, errorf(ErrInvalidParams, "%d vCPUs, want 1 to %d", p.VCPUs, MaxVCPUs)
	}
	if err := p.Layout.validate(ErrInvalidParams); err != nil {
		return Digest{}, err
	}
	if p.Kernel != nil && (!p.Layout.has(SectionSNPKernelHashes) || p.Layout.HashesTableGPA == 0) {
		return Digest{}, ErrNoKernelHashes
	}

	c := newChain(p.OVMFHash)
	for _, s := range p.Layout.Sections {
		gpa, size := uint64(s.GPA), uint64(s.Size)
		switch s.Type {
		case SectionSNPSecMem:
			if vmm == VMMGCE {
				c.emptyPages(pageTypeUnmeasured, gpa, size)
			} else {
				c.emptyPages(pageTypeZero, gpa, size)
			}
		case SectionSVSMCAA:
			c.emptyPages(pageTypeZero, gpa, size)
		case SectionSNPSecrets:
			c.emptyPages(pageTypeSecrets, gpa, pageSize)
		case SectionCPUID:
			// EC2 measures the CPUID page after all the other sections.
			if vmm != VMMEC2 {
				c.emptyPages(pageTypeCPUID, gpa, pageSize)
			}
		case SectionSNPKernelHashes:
			if p.Kernel != nil {
				c.normalPages(gpa, p.Kernel.page(p.Layout.HashesTableGPA))
			} else {
				c.emptyPages(pageTypeZero, gpa, size)
			}
		}
	}
	if vmm == VMMEC2 {
		for _, s := range p.Layout.Sections {
			if s.Type == SectionCPUID {
				c.emptyPages(pageTypeCPUID, uint64(s.GPA), pageSize)
			}
		}
	}

	// The bootstrap processor starts at the reset vector, the others at the
	// SEV-ES reset block's address; all application processors share a page.
	bsp := sha2.Sum384(vmsaPage(bspEIP, p.GuestFeatures, p.VCPUSig, vmm))
	ap := sha2.Sum384(vmsaPage(p.Layout.ResetEIP, p.GuestFeatures, p.VCPUSig, vmm))
	c.extend(pageTypeVMSA, vmsaGPA, (*Digest)(&bsp))
	for i := 1; i < p.VCPUs; i++ {
		c.extend(pageTypeVMSA, vmsaGPA, (*Digest)(&ap))
	}
	return c.ld, nil
}
