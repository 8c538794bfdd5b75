// Package guest is the definition of the cvmtrust guest image: what a
// release is. Its files are data the build reads; its tests check an image
// that scripts/build-guest.sh wrote (CVMTRUST_GUEST_IMAGE=DIR).
//
//	pins.lock          every outside input by version and SHA-256 (package pins)
//	launch.env         the launch settings a release is measured for (vCPUs, vCPU type, guest features)
//	cmdline            the kernel command line
//	initrd.list        everything in the initrd, declared (package initrd)
//	edk2/*.patch       what is changed in Debian's edk2 source for the firmware
//	build-in-root.sh   the compiling steps, run inside the pinned Debian root
//	pid1/              the guest's first process, and its hardening as tables
//
// docs/guest-image.md is the guide: what is in the image, what is measured,
// how to rebuild and compare, how to run it.
package guest
