package measure

import (
	"strconv"

	"github.com/cvmtrust/cvmtrust/internal/strictjson"
)

// ParseManifest decodes a manifest strictly: unknown or misspelt keys (key
// names are matched exactly, not case-insensitively as encoding/json does),
// a key twice in one object, trailing data and another format are errors.
// A null value is read as an absent one. It does not recompute the
// measurement; call Verify.
//
// It decodes with internal/strictjson rather than encoding/json so that the
// browser build, which links this package, reads a manifest exactly as the
// native build does without linking encoding/json's decoder; encoding/json
// stays the differential oracle in the tests (TestParseManifestAgreesWithEncodingJSON).
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > maxManifestSize {
		return nil, errorf(ErrMalformedManifest, "%d bytes, at most %d", len(data), maxManifestSize)
	}
	doc, err := strictjson.ParseLimits(data, strictjson.Limits{MaxBytes: maxManifestSize, MaxDepth: 8})
	if err != nil {
		return nil, errorf(ErrMalformedManifest, "%v", err)
	}
	r := &jsonReader{}
	var m Manifest
	r.object("manifest", doc, func(key string, v *strictjson.Value) bool {
		switch key {
		case "format":
			m.Format = r.string(key, v)
		case "release":
			m.Release = r.string(key, v)
		case "source_commit":
			m.SourceCommit = r.string(key, v)
		case "ovmf":
			r.ovmf(v, &m.OVMF)
		case "kernel":
			m.Kernel = r.artifact(key, v)
		case "initrd":
			m.Initrd = r.artifact(key, v)
		case "cmdline":
			m.Cmdline = r.string(key, v)
		case "cmdline_sha256":
			m.CmdlineSHA256 = nil
			if v != nil {
				h := r.sha256(key, v)
				m.CmdlineSHA256 = &h
			}
		case "vcpus":
			m.VCPUs = int(r.int(key, v, -1<<63, 1<<63-1))
		case "vcpu_type":
			m.VCPUType = r.string(key, v)
		case "vcpu_sig":
			m.VCPUSig = nil
			if v != nil {
				sig := uint32(r.uint(key, v, 32))
				m.VCPUSig = &sig
			}
		case "vmm_type":
			m.VMMType = VMMType(r.string(key, v))
		case "guest_features":
			m.GuestFeatures = r.uint(key, v, 64)
		case "measurement":
			m.Measurement = r.digest(key, v)
		default:
			return false
		}
		return true
	})
	if r.err != nil {
		return nil, r.err
	}
	if m.Format != ManifestFormat {
		return nil, errorf(ErrMalformedManifest, "format %q, want %q", truncate(m.Format), ManifestFormat)
	}
	return &m, nil
}

// jsonReader reads typed fields from a strictjson tree and keeps the first
// error; later reads are no-ops.
type jsonReader struct{ err error }

func (r *jsonReader) fail(key, format string, args ...any) {
	if r.err == nil {
		r.err = errorf(ErrMalformedManifest, "%s: "+format, append([]any{key}, args...)...)
	}
}

// object calls member for each non-null member of v, an object; member
// returns false for a key it does not know.
func (r *jsonReader) object(name string, v *strictjson.Value, member func(key string, v *strictjson.Value) bool) {
	if r.err != nil {
		return
	}
	if v.Kind != strictjson.Object {
		r.fail(name, "a %v, want an object", v.Kind)
		return
	}
	for _, mem := range v.Members {
		if mem.Value.Kind == strictjson.Null {
			if !member(mem.Key, nil) {
				r.fail(name, "unknown key %q", truncate(mem.Key))
			}
			continue
		}
		if !member(mem.Key, mem.Value) {
			r.fail(name, "unknown key %q", truncate(mem.Key))
		}
		if r.err != nil {
			return
		}
	}
}

func (r *jsonReader) kind(key string, v *strictjson.Value, want strictjson.Kind) bool {
	if r.err != nil || v == nil {
		return false
	}
	if v.Kind != want {
		r.fail(key, "a %v, want a %v", v.Kind, want)
		return false
	}
	return true
}

func (r *jsonReader) string(key string, v *strictjson.Value) string {
	if !r.kind(key, v, strictjson.String) {
		return ""
	}
	return v.Text
}

func (r *jsonReader) uint(key string, v *strictjson.Value, bits int) uint64 {
	if !r.kind(key, v, strictjson.Number) {
		return 0
	}
	n, err := strconv.ParseUint(v.Text, 10, bits)
	if err != nil {
		r.fail(key, "%s is not an unsigned %d-bit integer", truncate(v.Text), bits)
	}
	return n
}

func (r *jsonReader) int(key string, v *strictjson.Value, min, max int64) int64 {
	if !r.kind(key, v, strictjson.Number) {
		return 0
	}
	n, err := strconv.ParseInt(v.Text, 10, 64)
	if err != nil || n < min || n > max {
		r.fail(key, "%s is not an integer from %d to %d", truncate(v.Text), min, max)
	}
	return n
}

func (r *jsonReader) sha256(key string, v *strictjson.Value) SHA256 {
	var h SHA256
	if s := r.string(key, v); r.err == nil && v != nil {
		if err := h.UnmarshalText([]byte(s)); err != nil {
			r.fail(key, "%v", err)
		}
	}
	return h
}

func (r *jsonReader) digest(key string, v *strictjson.Value) Digest {
	var d Digest
	if s := r.string(key, v); r.err == nil && v != nil {
		if err := d.UnmarshalText([]byte(s)); err != nil {
			r.fail(key, "%v", err)
		}
	}
	return d
}

func (r *jsonReader) artifact(key string, v *strictjson.Value) *ArtifactDigest {
	if v == nil {
		return nil
	}
	a := &ArtifactDigest{}
	r.object(key, v, func(k string, f *strictjson.Value) bool {
		if k != "sha256" {
			return false
		}
		a.SHA256 = r.sha256(key+".sha256", f)
		return true
	})
	return a
}

func (r *jsonReader) ovmf(v *strictjson.Value, o *ManifestOVMF) {
	if v == nil {
		return
	}
	r.object("ovmf", v, func(key string, f *strictjson.Value) bool {
		switch key {
		case "sha256":
			o.SHA256 = nil
			if f != nil {
				h := r.sha256("ovmf.sha256", f)
				o.SHA256 = &h
			}
		case "size":
			o.Size = r.int("ovmf.size", f, -1<<63, 1<<63-1)
		case "snp_ovmf_hash":
			o.SNPOVMFHash = r.digest("ovmf.snp_ovmf_hash", f)
		case "sev_es_reset_eip":
			o.ResetEIP = uint32(r.uint("ovmf.sev_es_reset_eip", f, 32))
		case "sev_hashes_table_gpa":
			o.HashesTableGPA = uint32(r.uint("ovmf.sev_hashes_table_gpa", f, 32))
		case "sections":
			r.sections(f, o)
		default:
			return false
		}
		return true
	})
}

func (r *jsonReader) sections(v *strictjson.Value, o *ManifestOVMF) {
	if v == nil {
		o.Sections = nil
		return
	}
	if !r.kind("ovmf.sections", v, strictjson.Array) {
		return
	}
	o.Sections = make([]Section, 0, len(v.Items))
	for i, item := range v.Items {
		key := "ovmf.sections[" + strconv.Itoa(i) + "]"
		var s Section
		if item.Kind != strictjson.Null {
			r.object(key, item, func(k string, f *strictjson.Value) bool {
				switch k {
				case "gpa":
					s.GPA = uint32(r.uint(key+".gpa", f, 32))
				case "size":
					s.Size = uint32(r.uint(key+".size", f, 32))
				case "type":
					if name := r.string(key+".type", f); r.err == nil && f != nil {
						if err := s.Type.UnmarshalText([]byte(name)); err != nil {
							r.fail(key+".type", "%v", err)
						}
					}
				default:
					return false
				}
				return true
			})
		}
		o.Sections = append(o.Sections, s)
	}
}
