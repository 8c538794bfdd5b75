// Package sandbox runs the matcher, a program nobody outside can audit, so
// that it cannot send what it is given anywhere but back to the gateway.
//
// # Layers
//
// Layers is the one list of what the sandbox takes away, one line each. Every
// layer is set up for every matcher process; in real mode a layer the kernel
// cannot provide is a refusal to start (Start returns an error), never a
// silent downgrade. Only with Config.AllowMissing (simulated mode) is a
// missing layer skipped, and Missing names it so the gateway can warn.
//
// # How
//
// The gateway re-executes its own binary as a small launcher (argv[0] is
// LauncherName; nothing in the environment): the kernel creates the
// namespaces and maps the unprivileged uid at clone time (syscall.SysProcAttr),
// then the launcher, already inside them, sets the rlimits, Landlock and
// seccomp on itself and execve()s the matcher. Landlock, seccomp and
// no_new_privs survive execve, so the matcher starts with all of them. A
// program that links this package must call RunLauncherIfRequested first
// thing in main (cvmtrust does, in an init function).
//
// The launcher reports a failure to set up a layer on a separate pipe (its
// own words, not the matcher's), and that pipe closes on a successful
// execve: Start returns only once the matcher is running inside every layer.
package sandbox

import (
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	seccomp "github.com/elastic/go-seccomp-bpf"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// Layer is one thing the sandbox takes away.
type Layer struct {
	Name  string
	Takes string
}

// Layers is what the sandbox takes from the matcher, one line each. The
// tests in this package and in package gateway show each one holding
// against a hostile matcher.
var Layers = []Layer{
	{"user", "runs as uid/gid 65534 on the host (1000 in its own user namespace), with no capabilities"},
	{"network", "its own network namespace: no interface is up, there is no route anywhere"},
	{"mount", "its own mount namespace: mounts it could make are invisible to the gateway"},
	{"pid", "its own PID namespace: it sees no other process by pid and cannot signal one"},
	{"ipc", "its own IPC namespace: no System V or POSIX message queues shared with the gateway"},
	{"uts", "its own hostname namespace"},
	{"cgroup", "its own cgroup namespace: it does not see where the gateway sits in the cgroup tree"},
	{"no_new_privs", "execve can never grant privileges (set-uid files, file capabilities)"},
	{"seccomp", "an allow-list of system calls: no socket at all, no ptrace or process_vm_*, clone only for threads (no fork), no mount, bpf, keyring, io_uring, userfaultfd; anything else fails with EPERM"},
	{"landlock", "reads only its binary, its libraries and the --matcher-ro paths; executes only its binary; writes nowhere; no TCP bind or connect; no signals or abstract unix sockets outside its sandbox"},
	{"rlimits", "memory (RLIMIT_DATA = Config.Memory, AS 3 GiB more), CPU seconds, 64 open files, NPROC, no file growth (FSIZE 0), no core dumps"},
	{"environment", "an empty environment and / as its working directory: nothing of the gateway's"},
	{"pdeathsig", "killed when the gateway dies"},
}

// LauncherName is argv[0] of the launcher re-execution.
const LauncherName = "cvmtrust-matcher-sandbox"

// Unprivileged ids: the host's nobody/nogroup, and an id inside the
// matcher's user namespace that is not 0 (so that it has no capabilities
// there either).
const (
	HostUID    = 65534
	HostGID    = 65534
	InsideUID  = 1000
	InsideGID  = 1000
	launchFail = 125 // the launcher's exit status when a layer failed
)

// Defaults of Config's limits.
const (
	DefaultMemory     = 1 << 30 // RLIMIT_DATA
	DefaultCPUSeconds = 3600    // RLIMIT_CPU over the process's life; it is restarted after
	DefaultOpenFiles  = 64
	// DefaultThreads is RLIMIT_NPROC. It counts the threads of every
	// process of the host uid 65534, so it must leave room for a Go
	// matcher's threads; seccomp is what forbids new processes.
	DefaultThreads = 256
)

// MinLandlockABI is the Landlock ABI the real mode requires: 6 adds the
// signal and abstract-unix-socket scopes to network (4) and file rules.
const MinLandlockABI = 6

// Config is one matcher program and its limits.
type Config struct {
	// Path is the matcher's executable. Required.
	Path string
	// Args are its arguments (argv[1:]).
	Args []string
	// ReadOnly lists files and directories it may read (their contents,
	// recursively). They must be readable by uid 65534.
	ReadOnly []string
	// Limits; zero means the default.
	Memory     uint64
	CPUSeconds uint64
	OpenFiles  uint64
	Threads    uint64
	// AllowMissing skips the layers the kernel lacks instead of refusing.
	// Simulated mode only.
	AllowMissing bool
	// SkipLayersUnsafe leaves out the named layers (names of Layers). It
	// exists so that tests can show each layer holding on its own; never
	// set it in a gateway.
	SkipLayersUnsafe []string
}

// spec is what the launcher receives in argv[1].
type spec struct {
	Args         []string `json:"args"`
	Exec         []string `json:"exec"`     // binary and ELF interpreter: read and execute
	ReadFiles    []string `json:"read"`     // libraries: read
	ReadTrees    []string `json:"read_dir"` // --matcher-ro: read files and directories
	Memory       uint64   `json:"memory"`
	CPUSeconds   uint64   `json:"cpu"`
	OpenFiles    uint64   `json:"nofile"`
	Threads      uint64   `json:"nproc"`
	SkipLandlock bool     `json:"skip_landlock,omitempty"`
	SkipSeccomp  bool     `json:"skip_seccomp,omitempty"`
	SkipRlimits  bool     `json:"skip_rlimits,omitempty"`
}

// Missing returns the layers this kernel cannot set up.
func Missing() []string {
	var m []string
	if v, err := llsys.LandlockGetABIVersion(); err != nil || v < MinLandlockABI {
		m = append(m, fmt.Sprintf("landlock (ABI %d, need %d)", v, MinLandlockABI))
	}
	if !seccomp.Supported() {
		m = append(m, "seccomp")
	}
	for _, ns := range []string{"user", "net", "mnt", "pid", "ipc", "uts", "cgroup"} {
		if _, err := os.Stat("/proc/self/ns/" + ns); err != nil {
			m = append(m, ns+" namespace")
		}
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(b)) == "0" {
		m = append(m, "user namespace (max_user_namespaces is 0)")
	}
	if os.Geteuid() != 0 {
		m = append(m, notRoot)
	}
	return m
}

// notRoot is the missing layer of a gateway that does not run as root: it
// cannot give the matcher a uid of its own.
const notRoot = "user (the gateway is not root, so the matcher keeps the gateway's uid)"

// ErrLayer means the sandbox could not be set up: in real mode the matcher
// is not started at all.
var ErrLayer = errors.New("sandbox: a layer could not be set up")

// Start runs the matcher in the sandbox with the given standard streams and
// returns once it has been exec'd inside every layer, or with an error
// wrapping ErrLayer naming the layer that failed.
func Start(cfg Config, stdin, stdout, stderr *os.File) (*exec.Cmd, error) {
	sp, err := newSpec(cfg)
	if err != nil {
		return nil, err
	}
	hostUID, hostGID := HostUID, HostGID
	if os.Geteuid() != 0 {
		if !cfg.AllowMissing {
			return nil, fmt.Errorf("%w: user: the gateway must run as root to give the matcher a uid of its own", ErrLayer)
		}
		// Simulated mode: an unprivileged user namespace maps only our own
		// ids; every other layer still holds.
		hostUID, hostGID = os.Getuid(), os.Getgid()
	}

	namespaces := map[string]uintptr{
		"user": syscall.CLONE_NEWUSER, "network": syscall.CLONE_NEWNET, "mount": syscall.CLONE_NEWNS,
		"pid": syscall.CLONE_NEWPID, "ipc": syscall.CLONE_NEWIPC, "uts": syscall.CLONE_NEWUTS,
		"cgroup": syscall.CLONE_NEWCGROUP,
	}
	var ns uintptr
	for _, f := range namespaces {
		ns |= f
	}
	env := []string{}
	for _, l := range cfg.SkipLayersUnsafe {
		switch l {
		case "landlock":
			sp.SkipLandlock = true
		case "seccomp":
			sp.SkipSeccomp = true
		case "rlimits":
			sp.SkipRlimits = true
		case "environment":
			env = os.Environ()
		default:
			f, ok := namespaces[l]
			if !ok {
				return nil, fmt.Errorf("sandbox: cannot skip layer %q", l)
			}
			ns &^= f
		}
	}
	if cfg.AllowMissing {
		for _, m := range Missing() {
			switch {
			case strings.HasPrefix(m, "landlock"):
				sp.SkipLandlock = true
			case m == "seccomp":
				sp.SkipSeccomp = true
			case m == notRoot:
			case strings.Contains(m, "namespace"):
				ns = 0
			}
		}
	}
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("%w: opening the launcher: %v", ErrLayer, err)
	}
	defer self.Close()
	bin, err := os.Open(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("sandbox: the matcher: %w", err)
	}
	defer bin.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer statusR.Close()
	arg, _ := json.Marshal(sp)
	cmd := &exec.Cmd{
		// The launcher and the matcher are reached through descriptors the
		// gateway opened: the unprivileged uid need not be able to walk to
		// them (a test binary lives in a root-only directory).
		Path:       "/proc/self/fd/3",
		Args:       []string{LauncherName, string(arg)},
		Env:        env,
		Dir:        "/",
		Stdin:      stdin,
		Stdout:     stdout,
		Stderr:     stderr,
		ExtraFiles: []*os.File{self, bin, statusW}, // fds 3, 4, 5
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:                 ns,
			Pdeathsig:                  syscall.SIGKILL,
			GidMappingsEnableSetgroups: false,
		},
	}
	if ns&syscall.CLONE_NEWUSER != 0 {
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: InsideUID, HostID: hostUID, Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: InsideGID, HostID: hostGID, Size: 1}}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: InsideUID, Gid: InsideGID, NoSetGroups: true}
	} else {
		// The namespaces are made at clone time, with the gateway's
		// privileges; then the child drops to the unprivileged ids.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(hostUID), Gid: uint32(hostGID), NoSetGroups: true}
	}
	err = cmd.Start()
	statusW.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: starting the launcher: %v", ErrLayer, err)
	}
	// The status pipe closes on the launcher's execve of the matcher; before
	// that, the launcher writes why it failed.
	statusR.SetReadDeadline(time.Now().Add(10 * time.Second))
	msg, err := io.ReadAll(io.LimitReader(statusR, 512))
	if err != nil || len(msg) > 0 {
		cmd.Process.Kill()
		cmd.Wait()
		if err != nil {
			return nil, fmt.Errorf("%w: the launcher did not report: %v", ErrLayer, err)
		}
		return nil, fmt.Errorf("%w: %s", ErrLayer, msg)
	}
	return cmd, nil
}

func newSpec(cfg Config) (spec, error) {
	if cfg.Path == "" {
		return spec{}, errors.New("sandbox: Config.Path is required")
	}
	sp := spec{
		Args:       append([]string{filepath.Base(cfg.Path)}, cfg.Args...),
		Exec:       []string{"/proc/self/fd/4"},
		Memory:     or(cfg.Memory, DefaultMemory),
		CPUSeconds: or(cfg.CPUSeconds, DefaultCPUSeconds),
		OpenFiles:  or(cfg.OpenFiles, DefaultOpenFiles),
		Threads:    or(cfg.Threads, DefaultThreads),
	}
	for _, p := range cfg.ReadOnly {
		abs, err := filepath.Abs(p)
		if err != nil {
			return spec{}, err
		}
		if _, err := os.Stat(abs); err != nil {
			return spec{}, fmt.Errorf("sandbox: read-only path: %w", err)
		}
		sp.ReadTrees = append(sp.ReadTrees, abs)
	}
	interp, libs, err := elfDependencies(cfg.Path)
	if err != nil {
		return spec{}, fmt.Errorf("sandbox: the matcher %s: %w", cfg.Path, err)
	}
	if interp != "" {
		sp.Exec = append(sp.Exec, interp)
		sp.ReadFiles = append(sp.ReadFiles, "/etc/ld.so.cache")
	}
	sp.ReadFiles = append(sp.ReadFiles, libs...)
	return sp, nil
}

func or(v, def uint64) uint64 {
	if v == 0 {
		return def
	}
	return v
}

// libDirs are where the dynamic loader finds the libraries of a Debian or
// Ubuntu amd64/arm64 system.
var libDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
	"/lib64", "/usr/lib64", "/lib", "/usr/lib",
}

// elfDependencies returns a dynamic executable's interpreter and the
// resolved paths of the libraries it needs, transitively. A static
// executable has neither.
func elfDependencies(path string) (interp string, libs []string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(io.LimitReader(p.Open(), 4096))
			if err != nil {
				return "", nil, err
			}
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	if interp == "" {
		return "", nil, nil
	}
	seen := map[string]bool{}
	queue, err := f.ImportedLibraries()
	if err != nil {
		return "", nil, err
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		found := ""
		for _, d := range libDirs {
			if _, err := os.Stat(filepath.Join(d, name)); err == nil {
				found = filepath.Join(d, name)
				break
			}
		}
		if found == "" {
			return "", nil, fmt.Errorf("library %s not found", name)
		}
		real, err := filepath.EvalSymlinks(found)
		if err != nil {
			return "", nil, err
		}
		libs = append(libs, found, real)
		if lf, err := elf.Open(real); err == nil {
			more, _ := lf.ImportedLibraries()
			lf.Close()
			queue = append(queue, more...)
		}
	}
	if real, err := filepath.EvalSymlinks(interp); err == nil && real != interp {
		libs = append(libs, real)
	}
	return interp, libs, nil
}
