// Command cvmtrust checks that an AMD SEV-SNP Confidential VM can be trusted,
// computes launch measurements, and runs the reference gateway.
//
//	cvmtrust verify     --report FILE --vcek FILE --measurement HEX   verify evidence
//	cvmtrust verify     --gateway URL --measurement HEX               verify what a gateway serves
//	cvmtrust audit-page URL --build build.json                        check a page runs the published widget and nothing else
//	cvmtrust measure    --ovmf FILE --vcpus N --vcpu-type T           compute a launch digest
//	cvmtrust release    verify-bundle --bundle FILE ... FILE_OR_DIGEST verify a Sigstore bundle
//	cvmtrust gateway    --simulated                                   run the gateway
//	cvmtrust release verify-bundle --bundle FILE ... FILE_OR_DIGEST  verify a Sigstore bundle
//	cvmtrust matcher                                                  the reference matcher (run by the gateway)
//	cvmtrust version                                                  module, VCS revision, Go version
//
// Exit status: 0 success, 1 rejected, 2 unusable input.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// Exit codes shared by every subcommand.
const (
	exitOK       = 0
	exitRejected = 1
	exitUsage    = 2
)

type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{}

// register adds a subcommand; each lives in its own file.
func register(name, summary string, run func(args []string, stdout, stderr io.Writer) int) {
	commands[name] = command{summary: summary, run: run}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// commandStderr is the stderr a subcommand is given. It remembers stdout,
// so that help a person asked for (-h) goes to stdout while a usage error
// goes to stderr (see parseFlags).
type commandStderr struct {
	io.Writer
	stdout io.Writer
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "help":
		if len(rest) == 0 {
			usage(stdout)
			return exitOK
		}
		// cvmtrust help verify is cvmtrust verify -h.
		name, rest = rest[0], []string{"-h"}
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "cvmtrust: unknown command %q (try cvmtrust help)\n", name)
		return exitUsage
	}
	return cmd.run(rest, stdout, commandStderr{Writer: stderr, stdout: stdout})
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: cvmtrust <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun cvmtrust help <command> for its flags.")
	fmt.Fprintln(w, "Exit status: 0 success, 1 rejected, 2 unusable input.")
}
