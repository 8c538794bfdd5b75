//go:build linux

package pid1

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/u-root/u-root/pkg/dhclient"
	"golang.org/x/sys/unix"
)

// RunDir is where PID 1 writes the files the gateway reads (from Config):
// memory only, readable by root alone.
const RunDir = "/run/cvmtrust"

// fwCfgFile is where the qemu_fw_cfg module shows the operator's settings.
const fwCfgFile = "/sys/firmware/qemu_fw_cfg/by_name/" + ConfigName + "/raw"

// How long the network may take to come up before the guest gives up.
const (
	dhcpAttempt  = 10 * time.Second
	dhcpRetries  = 5
	linkUpWithin = 20 * time.Second
)

// Main is the first process's whole life. It returns only by powering the
// machine off.
func Main() {
	say("starting")
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "cvmtrust-init runs only as the guest's first process (PID 1)")
		os.Exit(2)
	}
	gateway, err := boot()
	if err != nil {
		say("the gateway cannot run: %v", err)
		powerOff()
	}
	status := reapUntil(gateway)
	say("the gateway ended (%s)", status)
	powerOff()
}

// say logs one line to the serial console.
func say(format string, args ...any) {
	fmt.Fprintf(os.Stdout, "cvmtrust-init: "+format+"\n", args...)
}

func boot() (gatewayPID int, err error) {
	for _, m := range Mounts {
		if err := mount(m); err != nil {
			return 0, err
		}
	}
	// Nothing reads the console: standard input is /dev/null for PID 1 and
	// everything it starts.
	if err := stdinFromDevNull(); err != nil {
		return 0, err
	}
	snp, err := loadModules()
	if err != nil {
		return 0, err
	}
	if err := mount(configfsMount); err != nil {
		return 0, err
	}
	cfg, err := readConfig()
	if err != nil {
		return 0, err
	}
	for _, s := range Sysctls {
		if err := writeSysctl(s); err != nil {
			return 0, err
		}
	}
	say("kernel locked: %d settings written, module loading off", len(Sysctls))
	if err := networkUp(); err != nil {
		return 0, err
	}
	simulated := !snp
	if simulated {
		say("NO SEV-SNP: this guest has no AMD Secure Processor interface; the gateway runs SIMULATED and proves nothing")
	} else if cfg.Simulated != nil {
		say("SEV-SNP guest: the simulated settings in the operator's configuration are ignored")
	}
	_, err = os.Stat(VendorMatcherPath)
	args, files := cfg.GatewayArgs(Guest{Simulated: simulated, VendorMatcher: err == nil, RunDir: RunDir})
	if err := os.MkdirAll(RunDir, 0o700); err != nil {
		return 0, err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(RunDir, name), b, 0o600); err != nil {
			return 0, err
		}
	}
	s, _ := ServiceByName("gateway")
	cmd := serviceCommand(s, args)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting the gateway: %w", err)
	}
	say("gateway started (pid %d): %s", cmd.Process.Pid, strings.Join(args, " "))
	return cmd.Process.Pid, nil
}

func mount(m Mount) error {
	if err := os.MkdirAll(m.Target, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(m.Source, m.Target, m.Type, m.Flags, m.Data); err != nil {
		return fmt.Errorf("mounting %s on %s: %w", m.Type, m.Target, err)
	}
	return nil
}

func stdinFromDevNull() error {
	null, err := os.Open("/dev/null")
	if err != nil {
		return err
	}
	defer null.Close()
	return unix.Dup3(int(null.Fd()), 0, 0)
}

// loadModules loads Modules in order and says whether the SEV-SNP guest
// driver found its device.
func loadModules() (snp bool, err error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return false, err
	}
	release := unix.ByteSliceToString(uts.Release[:])
	for _, m := range Modules {
		err := loadModule(filepath.Join("/lib/modules", release, m.Path))
		switch {
		case err == nil:
			if m.OnlyOn == "SEV-SNP" {
				snp = true
			}
		case m.OnlyOn != "" && (errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO)):
			say("%s: not loaded, this machine has no %s", m.Name, m.OnlyOn)
		default:
			return false, fmt.Errorf("loading module %s: %w", m.Name, err)
		}
	}
	return snp, nil
}

func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// The kernel decompresses the module itself (CONFIG_MODULE_DECOMPRESS)
	// and checks Debian's signature on it.
	return unix.FinitModule(int(f.Fd()), "", unix.MODULE_INIT_COMPRESSED_FILE)
}

// readConfig reads the operator's settings; without any, the defaults hold.
func readConfig() (*Config, error) {
	b, err := os.ReadFile(fwCfgFile)
	if errors.Is(err, os.ErrNotExist) {
		say("no operator settings (fw_cfg %s): plain HTTP on port %d", ConfigName, HTTPPort)
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading fw_cfg %s: %w", ConfigName, err)
	}
	return ParseConfig(b)
}

func writeSysctl(s Sysctl) error {
	path := "/proc/sys/" + strings.ReplaceAll(s.Key, ".", "/")
	if err := os.WriteFile(path, []byte(s.Value), 0); err != nil {
		return fmt.Errorf("setting %s = %s: %w", s.Key, s.Value, err)
	}
	return nil
}

// networkUp brings the loopback up and every Ethernet interface by DHCP;
// one lease is enough.
func networkUp() error {
	if _, err := dhclient.IfUp("lo", linkUpWithin); err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	links, err := dhclient.Interfaces("^e")
	if err != nil {
		return fmt.Errorf("no network interface: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dhclient.ResolvConfPath), 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), linkUpWithin+dhcpRetries*dhcpAttempt)
	defer cancel()
	cfg := dhclient.Config{Timeout: dhcpAttempt, Retries: dhcpRetries, LogLevel: dhclient.LogInfo}
	var errs []error
	for r := range dhclient.SendRequests(ctx, links, true, false, cfg, linkUpWithin) {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Interface.Attrs().Name, r.Err))
			continue
		}
		if err := r.Lease.Configure(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Interface.Attrs().Name, err))
			continue
		}
		say("network: %s on %s", r.Lease, r.Interface.Attrs().Name)
		return nil
	}
	return fmt.Errorf("no DHCP lease: %w", errors.Join(errs...))
}

// reapUntil waits for every child that ends (orphans become PID 1's) and
// returns when the gateway does, with how it ended.
func reapUntil(gateway int) string {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Sprintf("waiting failed: %v", err)
		}
		if pid != gateway {
			continue
		}
		switch {
		case ws.Exited():
			return fmt.Sprintf("exit status %d", ws.ExitStatus())
		case ws.Signaled():
			return fmt.Sprintf("killed by %v", ws.Signal())
		default:
			return fmt.Sprintf("wait status %#x", uint32(ws))
		}
	}
}

func powerOff() {
	say("powering off")
	unix.Sync()
	err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	// Only reached if the kernel refused; PID 1 exiting panics the kernel,
	// which the command line's panic=-1 turns into a reset.
	say("power off failed: %v", err)
	os.Exit(1)
}
