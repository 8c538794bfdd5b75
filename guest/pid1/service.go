//go:build linux

package pid1

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/sys/unix"
)

// ServiceLauncher is argv[0] of /init re-executed to start a service.
const ServiceLauncher = "cvmtrust-service"

// launcherFailed is the launcher's exit status when a layer of the policy
// could not be set: the service is then not started at all.
const launcherFailed = 126

// ServiceByName returns the service of that name.
func ServiceByName(name string) (Service, bool) {
	for _, s := range Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// serviceCommand returns the command that starts s with args under its
// policy: this binary again, as the launcher.
func serviceCommand(s Service, args []string) *exec.Cmd {
	return &exec.Cmd{
		Path: "/proc/self/exe",
		Args: append([]string{ServiceLauncher, s.Name}, args...),
		Env:  []string{"PATH=/usr/bin", "HOME=/run", "TZ=UTC"},
		Dir:  "/",
		SysProcAttr: &syscall.SysProcAttr{
			Setsid:    true,
			Pdeathsig: syscall.SIGKILL,
		},
	}
}

// RunServiceLauncherIfRequested turns this process into the launcher when it
// was started as one, and never returns then; otherwise it returns at once.
func RunServiceLauncherIfRequested() {
	if len(os.Args) < 2 || os.Args[0] != ServiceLauncher {
		return
	}
	s, ok := ServiceByName(os.Args[1])
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: no service %q\n", ServiceLauncher, os.Args[1])
		os.Exit(launcherFailed)
	}
	runtime.LockOSThread()
	if err := ApplyPolicy(s); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %s: %v\n", ServiceLauncher, s.Name, err)
		os.Exit(launcherFailed)
	}
	argv := append([]string{s.Path}, os.Args[2:]...)
	err := syscall.Exec(s.Path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "%s: %s: %v\n", ServiceLauncher, s.Name, err)
	os.Exit(launcherFailed)
}

// ApplyPolicy sets s's policy on the calling thread's process: the
// capability bounding set, no_new_privs and the seccomp filter. Each layer
// that cannot be set is an error naming it; the caller must not go on.
func ApplyPolicy(s Service) error {
	if err := dropCapabilities(s.Capabilities); err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	policy, err := seccompPolicy(s)
	if err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	if err := seccomp.LoadFilter(seccomp.Filter{NoNewPrivs: true, Flag: seccomp.FilterFlagTSync, Policy: policy}); err != nil {
		return fmt.Errorf("seccomp and no_new_privs: %w", err)
	}
	return nil
}

// dropCapabilities removes every capability but keep from the bounding set
// and from the inheritable and ambient sets, so that after execve the
// process has keep and nothing else.
func dropCapabilities(keep []Capability) error {
	last, err := lastCapability()
	if err != nil {
		return err
	}
	kept := map[int]bool{}
	for _, c := range keep {
		kept[c.Number] = true
	}
	for c := 0; c <= last; c++ {
		if kept[c] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clearing the ambient set: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	for i := range data {
		data[i].Inheritable = 0
		data[i].Permitted &= bits(kept, i)
		data[i].Effective &= bits(kept, i)
	}
	return unix.Capset(&hdr, &data[0])
}

// bits returns the mask of the kept capabilities in word i (0: 0–31, 1: 32–63).
func bits(kept map[int]bool, i int) uint32 {
	var m uint32
	for c := range kept {
		if c/32 == i {
			m |= 1 << (c % 32)
		}
	}
	return m
}

func lastCapability() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// seccompPolicy allows every system call but the service's denied ones and
// socket(2) of other families.
func seccompPolicy(s Service) (seccomp.Policy, error) {
	if len(s.DeniedSyscalls) == 0 {
		return seccomp.Policy{}, errors.New("the service denies no system call: its policy is missing")
	}
	// socket(2) fails when its family is none of the allowed ones: the
	// conditions of one entry must all hold.
	var notAllowed []seccomp.Condition
	for _, f := range s.SocketFamilies {
		notAllowed = append(notAllowed, seccomp.Condition{Argument: 0, Operation: seccomp.NotEqual, Value: uint64(f.Number)})
	}
	groups := []seccomp.SyscallGroup{{
		Action: seccomp.ActionErrno, // EPERM
		Names:  s.DeniedSyscalls,
	}}
	if len(notAllowed) > 0 {
		groups = append(groups, seccomp.SyscallGroup{
			Action:             seccomp.Action(uint32(seccomp.ActionErrno) | uint32(unix.EAFNOSUPPORT)),
			NamesWithCondtions: []seccomp.NameWithConditions{{Name: "socket", Conditions: notAllowed}},
		})
	}
	return seccomp.Policy{DefaultAction: seccomp.ActionAllow, Syscalls: groups}, nil
}
