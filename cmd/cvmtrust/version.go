package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

func init() {
	register("version", "print the module version, VCS revision and Go version of this binary", runVersion)
}

const versionUsage = `usage: cvmtrust version

Prints what this binary was built from: the module and its version, the
VCS revision and time (and whether the tree had uncommitted changes), and
the Go toolchain. A binary built by "go install module@version" names the
version; one built from a checkout names the revision.

`

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", versionUsage, stderr)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(stderr, "cvmtrust version: this binary carries no build information")
		return exitUsage
	}
	printVersion(stdout, info)
	return exitOK
}

// printVersion writes one "name value" line each for the module, its
// version, the VCS revision and the Go version; "unknown" where the build
// did not record it.
func printVersion(w io.Writer, info *debug.BuildInfo) {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	orUnknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	revision := orUnknown(settings["vcs.revision"])
	if t := settings["vcs.time"]; t != "" {
		revision += " (" + t + ")"
	}
	if settings["vcs.modified"] == "true" {
		revision += ", with uncommitted changes"
	}
	fmt.Fprintf(w, "module    %s\n", orUnknown(info.Main.Path))
	fmt.Fprintf(w, "version   %s\n", orUnknown(info.Main.Version))
	fmt.Fprintf(w, "revision  %s\n", revision)
	fmt.Fprintf(w, "go        %s\n", orUnknown(info.GoVersion))
}
