package pins

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Paragraph is one stanza of a Debian index (Packages or Sources): field
// names as written, values with continuation lines joined by "\n".
type Paragraph map[string]string

// ReadIndex reads every paragraph of a Packages or Sources file.
func ReadIndex(r io.Reader) ([]Paragraph, error) {
	var out []Paragraph
	p := Paragraph{}
	last := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(p) > 0 {
				out = append(out, p)
				p, last = Paragraph{}, ""
			}
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return nil, fmt.Errorf("pins: index: continuation line before any field")
			}
			p[last] += "\n" + strings.TrimSpace(line)
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("pins: index: line %q has no field name", line)
			}
			last = k
			p[k] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(p) > 0 {
		out = append(out, p)
	}
	return out, nil
}

// BinaryInput finds package name at version (architecture arch or all) in
// the Packages paragraphs and returns it as an input of kind.
func BinaryInput(packages []Paragraph, kind, name, version, arch string) (Input, error) {
	for _, p := range packages {
		if p["Package"] != name || p["Version"] != version || (p["Architecture"] != arch && p["Architecture"] != "all") {
			continue
		}
		size, err := strconv.ParseInt(p["Size"], 10, 64)
		if err != nil || p["SHA256"] == "" || p["Filename"] == "" {
			return Input{}, fmt.Errorf("pins: %s %s: the index has no usable Filename, Size and SHA256", name, version)
		}
		return Input{Kind: kind, Name: name, Version: version, SHA256: p["SHA256"], Size: size, Path: p["Filename"]}, nil
	}
	return Input{}, fmt.Errorf("pins: %s %s (%s) is not in the index", name, version, arch)
}

// SourceInputs returns the files (.orig and .debian tarballs, not the .dsc,
// whose checksums they already are) of source package name at version.
func SourceInputs(sources []Paragraph, name, version string) ([]Input, error) {
	for _, p := range sources {
		if p["Package"] != name || p["Version"] != version {
			continue
		}
		var ins []Input
		for line := range strings.SplitSeq(p["Checksums-Sha256"], "\n") {
			w := strings.Fields(line)
			if len(w) != 3 || strings.HasSuffix(w[2], ".dsc") {
				continue
			}
			size, err := strconv.ParseInt(w[1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("pins: source %s: size %q", name, w[1])
			}
			ins = append(ins, Input{Kind: Source, Name: name, Version: version, SHA256: w[0], Size: size, Path: path.Join(p["Directory"], w[2])})
		}
		if len(ins) == 0 {
			return nil, fmt.Errorf("pins: source %s %s lists no files", name, version)
		}
		return ins, nil
	}
	return nil, fmt.Errorf("pins: source %s %s is not in the index", name, version)
}

// OnlyVersion returns the version of the package (binary or source) name in
// the index, which must list exactly one: a suite does.
func OnlyVersion(index []Paragraph, name string) (string, error) {
	versions := map[string]bool{}
	for _, p := range index {
		if p["Package"] == name {
			versions[p["Version"]] = true
		}
	}
	if len(versions) != 1 {
		return "", fmt.Errorf("pins: the index lists %d versions of %s, not one", len(versions), name)
	}
	var only string
	for v := range versions {
		only = v
	}
	return only, nil
}

// MetapackageTarget returns the one package a metapackage such as
// linux-image-cloud-amd64 depends on: the current kernel of the suite.
func MetapackageTarget(packages []Paragraph, meta string) (string, error) {
	version, err := OnlyVersion(packages, meta)
	if err != nil {
		return "", err
	}
	for _, p := range packages {
		if p["Package"] != meta || p["Version"] != version {
			continue
		}
		deps := strings.Split(p["Depends"], ",")
		if len(deps) != 1 || strings.TrimSpace(deps[0]) == "" {
			return "", fmt.Errorf("pins: %s depends on %q, not on one package", meta, p["Depends"])
		}
		name, _, _ := strings.Cut(strings.TrimSpace(deps[0]), " ")
		return name, nil
	}
	return "", fmt.Errorf("pins: %s is not in the index", meta)
}
