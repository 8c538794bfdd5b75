package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"syscall"

	seccomp "github.com/elastic/go-seccomp-bpf"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// Descriptors the launcher inherits.
const (
	fdLauncher = 3
	fdMatcher  = 4
	fdStatus   = 5
)

// RunLauncherIfRequested turns this process into the sandbox launcher when
// it was started as one (argv[0] is LauncherName) and never returns then;
// otherwise it returns at once. Call it first thing in main (or TestMain).
func RunLauncherIfRequested() {
	if len(os.Args) != 2 || os.Args[0] != LauncherName {
		return
	}
	runtime.LockOSThread()
	status := os.NewFile(fdStatus, "status")
	fail := func(layer string, err error) {
		fmt.Fprintf(status, "%s: %v", layer, err)
		os.Exit(launchFail)
	}
	var sp spec
	if err := json.Unmarshal([]byte(os.Args[1]), &sp); err != nil {
		fail("launcher", err)
	}
	// The descriptors of the launcher and the matcher binaries, and the
	// status pipe, must not reach the matcher: close them on its execve.
	for _, fd := range []int{fdLauncher, fdMatcher, fdStatus} {
		syscall.CloseOnExec(fd)
	}
	if !sp.SkipRlimits {
		if err := setRlimits(sp); err != nil {
			fail("rlimits", err)
		}
	}
	if !sp.SkipLandlock {
		if err := restrictLandlock(sp); err != nil {
			fail("landlock", err)
		}
	}
	if sp.SkipSeccomp {
		if err := seccomp.SetNoNewPrivs(); err != nil {
			fail("no_new_privs", err)
		}
	} else if err := seccomp.LoadFilter(seccomp.Filter{
		NoNewPrivs: true,
		Policy:     matcherPolicy(),
	}); err != nil {
		fail("seccomp", err)
	}
	err := syscall.Exec(fmt.Sprintf("/proc/self/fd/%d", fdMatcher), sp.Args, os.Environ())
	fail("execve", err)
}

func setRlimits(sp spec) error {
	for _, l := range []struct {
		name     string
		resource int
		value    uint64
	}{
		// DATA counts the memory a process writes (heap, anonymous
		// mappings); AS, which also counts the address space a Go runtime
		// only reserves, is a looser backstop.
		{"DATA", syscall.RLIMIT_DATA, sp.Memory},
		{"AS", syscall.RLIMIT_AS, sp.Memory + 3<<30},
		{"CPU", syscall.RLIMIT_CPU, sp.CPUSeconds},
		{"NOFILE", syscall.RLIMIT_NOFILE, sp.OpenFiles},
		{"NPROC", 6 /* RLIMIT_NPROC */, sp.Threads},
		{"FSIZE", syscall.RLIMIT_FSIZE, 0},
		{"CORE", syscall.RLIMIT_CORE, 0},
	} {
		if err := syscall.Setrlimit(l.resource, &syscall.Rlimit{Cur: l.value, Max: l.value}); err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
	}
	return nil
}

// restrictLandlock allows reading the libraries and the --matcher-ro trees,
// reading and executing the binary and its ELF interpreter, and nothing
// else: every file-system access right this kernel's Landlock knows is
// handled, as are TCP bind/connect and the signal and abstract-socket
// scopes. It restricts the calling thread, the one that execs the matcher
// (Landlock domains pass through execve); the library's all-threads
// enforcement is not needed for that, and it would need the kernel's TSYNC
// flag (ABI 8) or libpsx.
func restrictLandlock(sp spec) error {
	abi, err := llsys.LandlockGetABIVersion()
	if err != nil {
		return fmt.Errorf("not available: %w", err)
	}
	if abi < MinLandlockABI {
		return fmt.Errorf("ABI %d, need %d", abi, MinLandlockABI)
	}
	attr := llsys.RulesetAttr{
		HandledAccessFS:  llsys.AccessFSIoctlDev<<1 - 1, // ABI 5: Execute … IoctlDev
		HandledAccessNet: llsys.AccessNetBindTCP | llsys.AccessNetConnectTCP,
		Scoped:           llsys.ScopeAbstractUnixSocket | llsys.ScopeSignal,
	}
	if abi >= 9 {
		attr.HandledAccessFS |= llsys.AccessFSResolveUnix
	}
	fd, err := llsys.LandlockCreateRuleset(&attr, 0)
	if err != nil {
		return fmt.Errorf("creating the ruleset: %w", err)
	}
	defer syscall.Close(fd)
	add := func(path string, access uint64, optional bool) error {
		f, err := syscall.Open(path, unix.O_PATH|syscall.O_CLOEXEC, 0)
		if err != nil {
			if optional {
				return nil
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		defer syscall.Close(f)
		var st syscall.Stat_t
		if err := syscall.Fstat(f, &st); err != nil {
			return err
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
			access &^= llsys.AccessFSReadDir // not a right on a file
		}
		if err := llsys.LandlockAddPathBeneathRule(fd, &llsys.PathBeneathAttr{AllowedAccess: access, ParentFd: f}, 0); err != nil {
			return fmt.Errorf("rule for %s: %w", path, err)
		}
		return nil
	}
	for _, p := range sp.Exec {
		if err := add(p, llsys.AccessFSExecute|llsys.AccessFSReadFile, false); err != nil {
			return err
		}
	}
	for _, p := range sp.ReadFiles {
		if err := add(p, llsys.AccessFSReadFile, true); err != nil {
			return err
		}
	}
	for _, p := range sp.ReadTrees {
		if err := add(p, llsys.AccessFSReadFile|llsys.AccessFSReadDir, false); err != nil {
			return err
		}
	}
	// no_new_privs first: Landlock requires it of an unprivileged process.
	if err := seccomp.SetNoNewPrivs(); err != nil {
		return err
	}
	return llsys.LandlockRestrictSelf(fd, 0)
}

// matcherPolicy is the seccomp allow-list: what a Go or C program that reads
// and writes pipes, allocates, runs threads and keeps time needs, and no
// more. Everything else fails with EPERM.
func matcherPolicy() seccomp.Policy {
	return seccomp.Policy{
		DefaultAction: seccomp.ActionErrno,
		Syscalls: []seccomp.SyscallGroup{
			{
				Action: seccomp.ActionAllow,
				Names: []string{
					// I/O on inherited pipes and the files Landlock allows.
					"read", "write", "readv", "writev", "pread64", "pwrite64", "close", "close_range", "lseek",
					"openat", "newfstatat", "fstat", "statx", "readlinkat", "faccessat", "faccessat2", "access",
					"getdents64", "fcntl", "dup", "dup3", "pipe2", "ioctl",
					"epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "epoll_wait", "eventfd2",
					"poll", "ppoll", "pselect6",
					// Memory.
					"mmap", "munmap", "mprotect", "madvise", "mremap", "brk", "mincore", "membarrier",
					// Threads, signals, time.
					"futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "gettid", "getpid",
					"getppid", "tgkill", "tkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
					"sched_yield", "sched_getaffinity", "nanosleep", "clock_nanosleep", "clock_gettime",
					"clock_getres", "gettimeofday", "setitimer", "getitimer", "timer_create", "timer_settime",
					"timer_delete", "restart_syscall",
					// Process identity and limits (read only; prlimit64 can only lower them).
					"getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
					"prlimit64", "getrlimit", "getrusage", "uname", "sysinfo", "arch_prctl", "getrandom", "getcwd",
					"prctl",
					// The launcher's one execve of the matcher. Landlock lets
					// only the matcher's own binary be executed.
					"execve",
					"exit", "exit_group",
				},
			},
			{
				// Threads only: a clone without CLONE_THREAD would be a new
				// process. clone3 (flags behind a pointer) is refused; Go and
				// glibc fall back to clone.
				Action: seccomp.ActionAllow,
				NamesWithCondtions: []seccomp.NameWithConditions{{
					Name: "clone",
					Conditions: []seccomp.Condition{{
						Argument: 0, Operation: seccomp.BitsSet, Value: syscall.CLONE_THREAD,
					}},
				}},
			},
			{
				// ENOSYS, not EPERM, so that glibc falls back to clone.
				Action: seccomp.Action(uint32(seccomp.ActionErrno) | uint32(syscall.ENOSYS)),
				Names:  []string{"clone3"},
			},
		},
	}
}
