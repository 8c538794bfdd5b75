// Command testmatcher is a matcher for the gateway's tests: it speaks matcher
// protocol v1 (written here from the contract, without the gateway's code)
// and, depending on its first argument, breaks the protocol or attacks the
// sandbox before answering.
//
//	testmatcher honest             answer enrolled, or already_enrolled for an image seen before
//	testmatcher MODE [ARG]         see attack below
//
// For an attack, the answer's status says whether the attack worked
// ("enrolled") or was blocked ("bad_image"); the tests also check its effect
// from outside (the listener, the file, the logs).
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type request struct {
	Version     int    `json:"version"`
	ID          uint64 `json:"id"`
	ContentType string `json:"content_type"`
	Image       []byte `json:"image"`
}

func readFrame() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(os.Stdin, hdr[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	_, err := io.ReadFull(os.Stdin, b)
	return b, err
}

func writeRaw(b []byte) {
	os.Stdout.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
	os.Stdout.Write(b)
}

func answer(id uint64, status string) {
	b, _ := json.Marshal(map[string]any{"version": 1, "id": id, "status": status})
	writeRaw(b)
}

func main() {
	mode, arg := "honest", ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if len(os.Args) > 2 {
		arg = os.Args[2]
	}
	seen := map[[32]byte]bool{}
	for {
		b, err := readFrame()
		if err != nil {
			os.Exit(0)
		}
		var req request
		if err := json.Unmarshal(b, &req); err != nil {
			os.Exit(3)
		}
		switch mode {
		case "honest":
			h := sha256.Sum256(req.Image)
			if seen[h] {
				answer(req.ID, "already_enrolled")
			} else {
				seen[h] = true
				answer(req.ID, "enrolled")
			}
			continue
		case "wrong-id":
			answer(req.ID+1, "enrolled")
		case "unknown-field":
			writeRaw([]byte(fmt.Sprintf(`{"version":1,"id":%d,"status":"enrolled","note":"x"}`, req.ID)))
		case "unknown-status":
			answer(req.ID, "enrolled; name=Alice")
		case "bad-version":
			writeRaw([]byte(fmt.Sprintf(`{"version":2,"id":%d,"status":"enrolled"}`, req.ID)))
		case "trailing":
			writeRaw([]byte(fmt.Sprintf(`{"version":1,"id":%d,"status":"enrolled"} {}`, req.ID)))
		case "bad-frame":
			writeRaw([]byte("not json"))
		case "oversized":
			writeRaw([]byte(fmt.Sprintf(`{"version":1,"id":%d,"status":"enrolled","pad":"%s"}`, req.ID, strings.Repeat("A", 5000))))
		case "timeout", "loop":
			for {
			}
		case "crash":
			os.Exit(1)
		case "stderr-text":
			fmt.Fprintln(os.Stderr, "name=Alice Example, template=0badc0de")
			os.Exit(7)
		case "stdout-flood":
			// 1 GB on stdout, in a frame that claims to be 1 GB.
			chunk := make([]byte, 1<<20)
			os.Stdout.Write([]byte{0x40, 0, 0, 0})
			for range 1024 {
				if _, err := os.Stdout.Write(chunk); err != nil {
					os.Exit(4)
				}
			}
		case "stderr-image":
			os.Stderr.Write(req.Image)
			answer(req.ID, "enrolled")
		default:
			status := "bad_image"
			if attack(mode, arg, req.Image) {
				status = "enrolled"
			}
			answer(req.ID, status)
			// One attack, then an honest matcher.
			mode = "honest"
		}
	}
}

// attack tries one escape and reports whether it worked.
func attack(mode, arg string, image []byte) bool {
	switch mode {
	case "tcp":
		c, err := net.DialTimeout("tcp", arg, 2*time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		_, err = c.Write(image)
		return err == nil
	case "udp":
		c, err := net.Dial("udp", arg)
		if err != nil {
			return false
		}
		defer c.Close()
		_, err = c.Write(image[:min(len(image), 512)])
		return err == nil
	case "dns":
		_, err := net.LookupHost("example.com")
		return err == nil
	case "unix":
		c, err := net.Dial("unix", arg)
		if err != nil {
			return false
		}
		defer c.Close()
		_, err = c.Write(image)
		return err == nil
	case "write":
		return os.WriteFile(arg, image, 0o644) == nil
	case "environ":
		b, err := os.ReadFile("/proc/" + arg + "/environ")
		if err != nil {
			return false
		}
		os.Stderr.Write(append([]byte("ENVIRON "), b...))
		return true
	case "mem":
		f, err := os.Open("/proc/" + arg + "/mem")
		if err != nil {
			return false
		}
		defer f.Close()
		_, err = f.ReadAt(make([]byte, 16), 0x400000)
		return err == nil
	case "ptrace":
		pid, _ := strconv.Atoi(arg)
		if err := syscall.PtraceAttach(pid); err != nil {
			return false
		}
		syscall.PtraceDetach(pid)
		return true
	case "fork":
		// A raw fork: a new process, not a thread.
		pid, _, errno := syscall.RawSyscall(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0)
		if errno != 0 {
			return false
		}
		if pid == 0 {
			os.Exit(0)
		}
		return true
	case "exec":
		return exec.Command("/bin/sh", "-c", "true").Run() == nil
	case "execve":
		// Replace itself: if this works, the protocol breaks.
		err := syscall.Exec("/bin/sh", []string{"sh", "-c", "sleep 1"}, nil)
		return err == nil
	case "env":
		return len(os.Environ()) > 0
	case "alloc":
		// 2 GiB, touched page by page.
		var keep [][]byte
		for range 2048 {
			b := make([]byte, 1<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			keep = append(keep, b)
		}
		return len(keep) == 2048
	}
	fmt.Fprintln(os.Stderr, "unknown mode", mode)
	os.Exit(2)
	return false
}
