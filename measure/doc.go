// Package measure computes the AMD SEV-SNP launch digest of a QEMU/OVMF
// guest: the MEASUREMENT an attestation report carries, recomputed from the
// release artifacts instead of trusted as a number. It takes the same inputs
// as virtee/sev-snp-measure and gives the same answers.
//
// # How the firmware measures a launch
//
// Before the guest runs, the VMM hands its initial pages to the AMD secure
// processor with SNP_LAUNCH_UPDATE. For each page the firmware extends the
// launch digest: LD = SHA-384(PAGE_INFO), where PAGE_INFO holds the current
// LD, the SHA-384 of the page (or zeros for pages without contents), the
// page type and the guest physical address (SEV-SNP firmware ABI
// specification). For an OVMF guest the pages are, in order:
//
//   - the OVMF image, loaded so that it ends at 4 GiB (normal pages);
//   - the sections listed in OVMF's SEV metadata (found through the GUIDed
//     footer table at the end of the image): zero pages, the secrets page,
//     the CPUID page, and the SEV hashes table page, which holds the SHA-256
//     of the kernel, initrd and command line when QEMU boots a kernel
//     directly;
//   - one VMSA page per vCPU: the initial register state, which includes the
//     CPU signature (for QEMU), SEV_FEATURES and the SEV-ES reset address.
//
// EC2 and GCE differ from QEMU in a few register values and in page types
// and order; VMMType selects them.
//
// # Using it
//
// With the artifacts at hand:
//
//	p, err := measure.FirmwareFromOVMF(ovmfImage) // OVMF hash and layout
//	h := measure.HashKernel(kernel, initrd, cmdline)
//	p.Kernel, p.VCPUs, p.VMM, p.GuestFeatures = &h, 4, measure.VMMQEMU, 0x21
//	p.VCPUSig, err = measure.VCPUSignature("EPYC-Milan")
//	digest, err := measure.LaunchDigest(p)
//
// The OVMF image is the only large input and it only contributes its hash
// (OVMFHash) and its Layout. A release Manifest publishes those with the
// SHA-256 digests of the other artifacts, so that a client (the browser
// widget) can recompute the digest in well under a millisecond without any
// file: ParseManifest, then Manifest.Verify. Manifest.CheckArtifacts ties a
// manifest to the files it describes.
//
// Errors wrap the sentinels of this package (ErrNoKernelHashes,
// ErrNoFooterTable, ErrUnknownVCPUType, ...); match them with errors.Is. The
// package uses only the standard library and builds for js/wasm.
package measure
