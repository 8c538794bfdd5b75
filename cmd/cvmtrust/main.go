// Command cvmtrust checks that an AMD SEV-SNP Confidential VM can be trusted,
// computes launch measurements, and runs the reference gateway.
//
//	cvmtrust verify   --report FILE --vcek FILE --measurement HEX   verify evidence
//	cvmtrust measure  --ovmf FILE --vcpus N --vcpu-type T           compute a launch digest
//	cvmtrust gateway  --simulated                                   run the gateway
//	cvmtrust release verify-bundle --bundle FILE ... FILE_OR_DIGEST  verify a Sigstore bundle
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

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "cvmtrust: unknown command %q (try cvmtrust help)\n", args[0])
		return exitUsage
	}
	return cmd.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: cvmtrust <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun cvmtrust <command> -h for its flags.")
}
