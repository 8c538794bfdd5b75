// Package pid1 is the first process of the cvmtrust guest image, and the only
// program the image starts on its own. There is no shell, no login, no SSH and
// nothing that reads the console: once the kernel has run /init, the machine
// runs the gateway until it is replaced.
//
// # What it does, in order
//
//  1. Mounts the kernel's file systems (Mounts).
//  2. Loads the kernel modules the gateway needs, in order (Modules), then
//     mounts configfs for the SEV-SNP report interface.
//  3. Reads the operator's settings (Config) from QEMU's fw_cfg, outside the
//     measurement. Nothing there can weaken a check: see Config.
//  4. Locks the kernel (Sysctls): module loading off, kexec off, SysRq off, and
//     the rest of the table. From here on, the kernel runs only code that was
//     measured at launch or loaded from the measured initrd before this step.
//  5. Brings the network up by DHCP, so that nothing measured depends on the
//     host's addressing.
//  6. Starts the gateway under its service policy (Services): a capability
//     bounding set, no_new_privs, a system-call deny list and the socket
//     families it may open. The gateway runs the vendor's matcher in its own
//     sandbox (package gateway/sandbox), which is the layer the matcher's
//     confinement rests on.
//  7. Reaps every process that ends, logs to the serial console, and powers
//     the machine off when the gateway ends or cannot start.
//
// Real or simulated is not a setting: the gateway runs against the AMD Secure
// Processor when the guest has an SEV-SNP report interface, and simulated
// (saying so on the console and in every report it signs with a fake AMD
// chain) when it has none.
//
// # Services
//
// A service is started by re-executing /init as a small launcher (argv[0] is
// ServiceLauncher, argv[1] the service's name) that applies the service's
// policy to itself and then execve()s the service: Go cannot run code between
// fork and exec, and every layer of the policy survives execve.
package pid1
