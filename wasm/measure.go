//go:build js && wasm

package main

import (
	"errors"
	"math"
	"slices"
	"strings"

	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/measure"
	"github.com/cvmtrust/cvmtrust/wasm/internal/jsval"
)

// maxSafeInteger is the largest whole number a JavaScript number holds
// exactly (Number.MAX_SAFE_INTEGER).
const maxSafeInteger = 1<<53 - 1

// Keys of a release manifest (format measure.ManifestFormat, documented in
// measure/README.md) and of its nested objects. As measure.ParseManifest
// does, any other key is an error: a manifest the page does not fully
// understand is not trusted.
var (
	manifestKeys = []string{
		"format", "release", "source_commit", "ovmf", "kernel", "initrd", "cmdline", "cmdline_sha256",
		"vcpus", "vcpu_type", "vcpu_sig", "vmm_type", "guest_features", "measurement",
	}
	manifestOVMFKeys    = []string{"sha256", "size", "snp_ovmf_hash", "sev_es_reset_eip", "sev_hashes_table_gpa", "sections"}
	manifestSectionKeys = []string{"gpa", "size", "type"}
	manifestDigestKeys  = []string{"sha256"}
)

// measureJS implements cvmtrust.measure(manifest): it recomputes the launch
// digest from the manifest's OVMF hash, layout, artifact digests and launch
// settings, and resolves only when that equals the manifest's measurement.
func measureJS(args []jsval.Value) (any, error) {
	if len(args) != 1 {
		return nil, errfmt.Errorf("want 1 argument (manifest), got %d", len(args))
	}
	m, err := decodeManifest(args[0])
	if err != nil {
		return nil, err
	}
	if err := m.Verify(); err != nil {
		name := m.Release
		if len(name) > 64 {
			name = name[:64] + "…"
		}
		return nil, errfmt.Errorf("manifest %q: %w", name, err)
	}
	out := map[string]any{
		"measurement": m.Measurement.String(),
		"release":     m.Release,
		"vcpus":       m.VCPUs,
		"vmmType":     string(m.VMMType),
		"ovmfHash":    m.OVMF.SNPOVMFHash.String(),
		"recomputed":  true,
	}
	if m.SourceCommit != "" {
		out["sourceCommit"] = m.SourceCommit
	}
	if m.VCPUType != "" {
		out["vcpuType"] = m.VCPUType
	}
	return jsval.ValueOf(out)
}

// decodeManifest reads a release manifest, a JSON string or the object
// JSON.parse makes of it, field by field into a measure.Manifest.
func decodeManifest(v jsval.Value) (*measure.Manifest, error) {
	obj, err := objectArg("manifest", v)
	if err != nil {
		return nil, err
	}
	r := &reader{obj: obj, path: "manifest"}
	r.onlyKeys(manifestKeys)
	m := &measure.Manifest{
		Format:       r.string("format"),
		Release:      r.string("release"),
		SourceCommit: r.string("source_commit"),
		Cmdline:      r.string("cmdline"),
		VCPUs:        int(r.uint("vcpus", math.MaxInt32)),
		VCPUType:     r.string("vcpu_type"),
		VMMType:      measure.VMMType(r.string("vmm_type")),
	}
	if r.err == nil && m.Format != measure.ManifestFormat {
		return nil, errfmt.Errorf("manifest format %q, want %q", m.Format, measure.ManifestFormat)
	}
	if r.has("vcpu_sig") {
		sig := uint32(r.uint("vcpu_sig", math.MaxUint32))
		m.VCPUSig = &sig
	}
	m.GuestFeatures = r.uint("guest_features", maxSafeInteger)
	r.text("measurement", m.Measurement.UnmarshalText, true)
	if r.has("cmdline_sha256") {
		m.CmdlineSHA256 = new(measure.SHA256)
		r.text("cmdline_sha256", m.CmdlineSHA256.UnmarshalText, true)
	}
	m.Kernel = r.artifactDigest("kernel")
	m.Initrd = r.artifactDigest("initrd")

	ovmf := r.object("ovmf")
	if r.err == nil && ovmf.obj.IsUndefined() {
		return nil, errors.New("manifest.ovmf is required")
	}
	ovmf.onlyKeys(manifestOVMFKeys)
	if ovmf.has("sha256") {
		m.OVMF.SHA256 = new(measure.SHA256)
		ovmf.text("sha256", m.OVMF.SHA256.UnmarshalText, true)
	}
	m.OVMF.Size = int64(ovmf.uint("size", maxSafeInteger))
	ovmf.text("snp_ovmf_hash", m.OVMF.SNPOVMFHash.UnmarshalText, true)
	m.OVMF.ResetEIP = uint32(ovmf.uint("sev_es_reset_eip", math.MaxUint32))
	m.OVMF.HashesTableGPA = uint32(ovmf.uint("sev_hashes_table_gpa", math.MaxUint32))
	for i, s := range ovmf.objects("sections") {
		s.path = errfmt.Sprintf("%s.sections[%d]", ovmf.path, i)
		s.onlyKeys(manifestSectionKeys)
		sec := measure.Section{
			GPA:  uint32(s.uint("gpa", math.MaxUint32)),
			Size: uint32(s.uint("size", math.MaxUint32)),
		}
		s.text("type", sec.Type.UnmarshalText, true)
		if s.err != nil {
			return nil, s.err
		}
		m.OVMF.Sections = append(m.OVMF.Sections, sec)
	}
	return m, errors.Join(r.err, ovmf.err)
}

// artifactDigest reads {"sha256": hex} at key, or nil when it is absent.
func (r *reader) artifactDigest(key string) *measure.ArtifactDigest {
	if !r.has(key) {
		return nil
	}
	d := r.object(key)
	d.onlyKeys(manifestDigestKeys)
	a := &measure.ArtifactDigest{}
	d.text("sha256", a.SHA256.UnmarshalText, true)
	if d.err != nil && r.err == nil {
		r.err = d.err
	}
	return a
}

// text decodes a string field with the value's own UnmarshalText (hex
// digests, section type names), so the checks are measure's. It takes the
// method value rather than an interface: a call of UnmarshalText through an
// interface keeps every UnmarshalText the binary's types have, time.Time's
// (and with it time.Parse) among them.
func (r *reader) text(key string, unmarshalText func([]byte) error, required bool) {
	s := r.string(key)
	if r.err != nil {
		return
	}
	if s == "" {
		if required {
			r.fail(key, "is required")
		}
		return
	}
	if err := unmarshalText([]byte(s)); err != nil {
		r.fail(key, "%v", err)
	}
}

// onlyKeys fails on a key of the object not in known.
func (r *reader) onlyKeys(known []string) {
	if r.err != nil || r.obj.IsUndefined() {
		return
	}
	keys, err := objectKeys(r.obj)
	if err != nil {
		r.err = err
		return
	}
	for _, k := range keys {
		if !slices.Contains(known, k) {
			r.fail(k, "is not a known key (known: %s)", strings.Join(known, ", "))
			return
		}
	}
}

// objects reads an array of objects; each comes back as a reader of its own.
func (r *reader) objects(key string) []*reader {
	v, n, ok := r.array(key, "an array of objects")
	if !ok {
		return nil
	}
	out := make([]*reader, 0, n)
	for i := range n {
		e, err := v.OwnIndex(i)
		if err != nil || e.Type() != jsval.TypeObject || e.IsNull() {
			r.fail(key, "must be an array of objects")
			return nil
		}
		out = append(out, &reader{obj: e, path: r.path + "." + key})
	}
	return out
}
