//go:build linux

package pid1

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// underPolicy is set in a test process re-executed to run with the
// gateway's policy applied.
const underPolicy = "CVMTRUST_PID1_TEST_UNDER_POLICY"

func TestMain(m *testing.M) {
	if os.Getenv(underPolicy) == "1" {
		os.Exit(probePolicy())
	}
	os.Exit(m.Run())
}

// probePolicy applies the gateway's policy to this process, tries what it
// takes away and what it leaves, and prints one line per probe.
func probePolicy() int {
	s, _ := ServiceByName("gateway")
	if err := ApplyPolicy(s); err != nil {
		fmt.Println("apply:", err)
		return 1
	}
	status, _ := os.ReadFile("/proc/self/status")
	for line := range strings.SplitSeq(string(status), "\n") {
		if strings.HasPrefix(line, "CapBnd:") || strings.HasPrefix(line, "CapEff:") || strings.HasPrefix(line, "NoNewPrivs:") {
			fmt.Println(strings.Join(strings.Fields(line), " "))
		}
	}
	try := func(name string, err error) { fmt.Printf("%s: %v\n", name, errnoName(err)) }
	_, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE)
	try("socket AF_NETLINK", err)
	_, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	try("socket AF_PACKET", err)
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	try("socket AF_INET", err)
	unix.Close(fd)
	fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	try("socket AF_UNIX", err)
	unix.Close(fd)
	// Calls that need no capability, so that only the filter refuses them.
	_, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, 1, 0, 0)
	try("io_uring_setup", errnoOrNil(e))
	local := []unix.Iovec{{Base: &status[0], Len: 1}}
	_, err = unix.ProcessVMReadv(os.Getpid(), local, []unix.RemoteIovec{{Base: uintptr(0), Len: 1}}, 0)
	try("process_vm_readv", err)
	try("init_module", unix.InitModule(nil, ""))
	try("reboot", unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF))
	_, err = unix.PtraceGetEventMsg(os.Getppid())
	try("ptrace", err)
	return 0
}

func errnoOrNil(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func errnoName(err error) string {
	var e unix.Errno
	if errors.As(err, &e) {
		return unix.ErrnoName(e)
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// TestGatewayPolicyHolds starts a process under the gateway's policy and
// checks each layer in it: the bounding set, no_new_privs, the denied
// system calls and the socket families.
func TestGatewayPolicyHolds(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED LOUDLY: dropping capabilities from the bounding set needs root; run as root (CI does)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), underPolicy+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	got := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		k, v = strings.TrimSuffix(k, ":"), strings.TrimSpace(v)
		if strings.HasPrefix(line, "Cap") || strings.HasPrefix(line, "NoNewPrivs") {
			k, v, _ = strings.Cut(line, " ")
			k = strings.TrimSuffix(k, ":")
		}
		got[k] = v
	}
	s, _ := ServiceByName("gateway")
	var want uint64
	for _, c := range s.Capabilities {
		want |= 1 << c.Number
	}
	for _, k := range []string{"CapBnd", "CapEff"} {
		v, err := strconv.ParseUint(got[k], 16, 64)
		if err != nil || v != want {
			t.Errorf("%s = %s, want %016x (%d capabilities)", k, got[k], want, len(s.Capabilities))
		}
	}
	for k, v := range map[string]string{
		"NoNewPrivs":        "1",
		"socket AF_NETLINK": "EAFNOSUPPORT",
		"socket AF_PACKET":  "EAFNOSUPPORT",
		"socket AF_INET":    "ok",
		"socket AF_UNIX":    "ok",
		"io_uring_setup":    "EPERM",
		"process_vm_readv":  "EPERM",
		"init_module":       "EPERM",
		"reboot":            "EPERM",
		"ptrace":            "EPERM",
	} {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if t.Failed() {
		t.Logf("probe output:\n%s", out)
	}
}

func TestServiceTable(t *testing.T) {
	for _, s := range Services {
		if _, err := seccompPolicy(s); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		for _, c := range s.Capabilities {
			if c.Why == "" || c.Number < 0 || c.Number > unix.CAP_LAST_CAP {
				t.Errorf("%s: capability %+v", s.Name, c)
			}
		}
	}
	if _, err := seccompPolicy(Service{Name: "empty"}); err == nil {
		t.Error("a service with no denied system call is accepted")
	}
	if Sysctls[len(Sysctls)-1].Key != "kernel.modules_disabled" {
		t.Error("kernel.modules_disabled is not the last setting written")
	}
}
