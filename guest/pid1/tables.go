package pid1

import "golang.org/x/sys/unix"

// Mount is one file system PID 1 mounts.
type Mount struct {
	Source, Target, Type string
	Flags                uintptr
	Data                 string
}

const (
	nodevNosuid = unix.MS_NODEV | unix.MS_NOSUID
	noexec      = nodevNosuid | unix.MS_NOEXEC
)

// Mounts are mounted in order at boot. The initrd itself is the root file
// system (the kernel's rootfs, in memory); nothing is mounted from a disk:
// the image has none.
var Mounts = []Mount{
	{"proc", "/proc", "proc", noexec, "hidepid=invisible"},
	{"sysfs", "/sys", "sysfs", noexec, ""},
	{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID | unix.MS_NOEXEC, "mode=0755"},
	{"tmpfs", "/run", "tmpfs", noexec, "mode=0755,size=16m"},
	{"tmpfs", "/tmp", "tmpfs", noexec, "mode=1777,size=64m"},
}

// configfsMount is mounted once the configfs module is loaded: the SEV-SNP
// report interface (configfs-tsm) lives there.
var configfsMount = Mount{"configfs", "/sys/kernel/config", "configfs", noexec, ""}

// Module is one kernel module the image loads at boot, from the kernel
// package's own file (compressed and signed by Debian) under
// /lib/modules/$(uname -r)/.
type Module struct {
	Name string
	// Path is relative to /lib/modules/RELEASE/.
	Path string
	// OnlyOn names the hardware without which loading fails and that is
	// fine; empty means the module is required.
	OnlyOn string
	Why    string
}

// Modules are loaded in this order (each after the modules it depends on).
// The initrd holds exactly these files (guest/initrd.list).
var Modules = []Module{
	{"configfs", "kernel/fs/configfs/configfs.ko.xz", "", "configfs-tsm, the SEV-SNP report interface, lives in configfs"},
	{"tsm", "kernel/drivers/virt/coco/tsm.ko.xz", "", "configfs-tsm: attestation reports through /sys/kernel/config/tsm/report"},
	{"sev-guest", "kernel/drivers/virt/coco/sev-guest/sev-guest.ko.xz", "SEV-SNP", "the AMD Secure Processor's guest interface: the reports the gateway serves"},
	{"failover", "kernel/net/core/failover.ko.xz", "", "needed by net_failover"},
	{"net_failover", "kernel/drivers/net/net_failover.ko.xz", "", "needed by virtio_net"},
	{"virtio_net", "kernel/drivers/net/virtio_net.ko.xz", "", "the network card QEMU gives the guest"},
	{"qemu_fw_cfg", "kernel/drivers/firmware/qemu_fw_cfg.ko.xz", "", "the operator's settings (Config), read from fw_cfg"},
}

// Sysctl is one kernel setting PID 1 writes before it starts any service.
type Sysctl struct {
	Key, Value, Why string
}

// Sysctls are written in order; kernel.modules_disabled comes last, once
// every module is loaded, and cannot be undone until the machine powers off.
var Sysctls = []Sysctl{
	{"kernel.kexec_load_disabled", "1", "no other kernel can be started from this one"},
	{"kernel.sysrq", "0", "no magic SysRq keys from the serial console"},
	{"kernel.kptr_restrict", "2", "kernel addresses are not shown"},
	{"kernel.dmesg_restrict", "1", "only PID 1 reads the kernel log"},
	{"kernel.perf_event_paranoid", "3", "no perf events"},
	{"kernel.unprivileged_bpf_disabled", "1", "no BPF programs but root's, and the services have no CAP_BPF"},
	{"net.core.bpf_jit_harden", "2", "BPF JIT output hardened against spraying"},
	{"kernel.yama.ptrace_scope", "3", "no process can ptrace another, root included"},
	{"vm.unprivileged_userfaultfd", "0", "no userfaultfd for unprivileged processes"},
	{"fs.protected_symlinks", "1", "symlinks in sticky directories followed only by their owner"},
	{"fs.protected_hardlinks", "1", "no hard links to files one cannot write"},
	{"fs.suid_dumpable", "0", "no core dumps of processes that changed credentials"},
	{"kernel.core_pattern", "|/bin/false", "no core files anywhere"},
	{"kernel.modules_disabled", "1", "no kernel module can be loaded from now on: the kernel runs only the measured image's code"},
}

// Service is one program PID 1 runs, with the policy it runs under.
type Service struct {
	Name string
	Path string
	// Capabilities is the bounding set the service keeps (it runs as root,
	// so it has these and no others after execve).
	Capabilities []Capability
	// DeniedSyscalls fail with EPERM.
	DeniedSyscalls []string
	// SocketFamilies are the address families socket(2) may open; any other
	// fails with EAFNOSUPPORT.
	SocketFamilies []SocketFamily
}

// Capability is a Linux capability number with its name.
type Capability struct {
	Number int
	Name   string
	Why    string
}

// SocketFamily is an address family with its name.
type SocketFamily struct {
	Number int
	Name   string
}

// GatewayPath is where the image holds the cvmtrust binary (gateway and
// reference matcher).
const GatewayPath = "/usr/bin/cvmtrust"

// Services lists what the image runs: the gateway alone. Which layer holds:
// the gateway is open source and measured, so its policy is defence in depth
// (a bug in it cannot load a module, trace the matcher or open a raw socket);
// the vendor's matcher, which nobody can audit, is confined by the gateway's
// sandbox (gateway/sandbox.Layers), and that sandbox is the load-bearing
// layer for it. The deny list leaves clone and unshare alone: the sandbox
// makes the matcher's namespaces with them.
var Services = []Service{{
	Name: "gateway",
	Path: GatewayPath,
	Capabilities: []Capability{
		{unix.CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE", "listens on ports 80 and 443"},
		{unix.CAP_SETUID, "CAP_SETUID", "maps the matcher to uid 65534 in its user namespace"},
		{unix.CAP_SETGID, "CAP_SETGID", "maps the matcher to gid 65534"},
		{unix.CAP_KILL, "CAP_KILL", "kills a matcher (uid 65534) that breaks the protocol or runs late"},
	},
	DeniedSyscalls: []string{
		"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
		"mount", "umount2", "pivot_root", "chroot", "swapon", "swapoff", "acct", "quotactl",
		"bpf", "perf_event_open", "ptrace", "process_vm_readv", "process_vm_writev", "userfaultfd",
		"iopl", "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
		"keyctl", "add_key", "request_key", "syslog", "vhangup", "kcmp",
		"open_by_handle_at", "name_to_handle_at", "fanotify_init",
		"io_uring_setup", "io_uring_enter", "io_uring_register",
	},
	SocketFamilies: []SocketFamily{
		{unix.AF_UNIX, "AF_UNIX"}, {unix.AF_INET, "AF_INET"}, {unix.AF_INET6, "AF_INET6"},
	},
}}
