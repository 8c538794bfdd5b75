package sigstore

import "encoding/base64"

// JSONValue returns r as the value encoding/json's decoder would give for
// r's JSON (media type MediaType) read into an `any`: objects as
// map[string]any with exactly the keys and omissions of the json tags,
// arrays as []any, numbers as float64, []byte as standard base64, nil slices,
// maps and pointers as nil. The browser build hands it to JavaScript as the
// Result object; written out field by field because reflecting over the
// tags links reflect into the wasm. TestJSONValueMatchesEncodingJSON fills
// every field and compares with encoding/json, so a field added to the
// Result without a line here fails.
func (r *Result) JSONValue() map[string]any {
	m := map[string]any{
		"mediaType":     r.MediaType,
		"verified":      r.Verified,
		"simulated":     r.Simulated,
		"trustedRoot":   r.TrustedRoot,
		"signer":        r.Signer.jsonValue(),
		"logEntries":    nil,
		"verifiedTimes": nil,
		"checks":        nil,
	}
	omitEmpty(m, "bundleMediaType", r.BundleMediaType)
	omitEmpty(m, "artifactDigest", r.ArtifactDigest)
	omitEmpty(m, "signedAt", r.SignedAt)
	omitEmpty(m, "payloadType", r.PayloadType)
	if len(r.Payload) > 0 {
		m["payload"] = base64.StdEncoding.EncodeToString(r.Payload)
	}
	if r.Statement != nil {
		m["statement"] = r.Statement.jsonValue()
	}
	if r.LogEntries != nil {
		entries := make([]any, len(r.LogEntries))
		for i, e := range r.LogEntries {
			entries[i] = e.jsonValue()
		}
		m["logEntries"] = entries
	}
	if r.VerifiedTimes != nil {
		times := make([]any, len(r.VerifiedTimes))
		for i, t := range r.VerifiedTimes {
			v := map[string]any{"source": t.Source, "time": t.Time}
			omitEmpty(v, "uri", t.URI)
			times[i] = v
		}
		m["verifiedTimes"] = times
	}
	if r.Checks != nil {
		checks := make([]any, len(r.Checks))
		for i, c := range r.Checks {
			v := map[string]any{"name": c.Name, "outcome": string(c.Outcome)}
			omitEmpty(v, "field", c.Field)
			omitEmpty(v, "got", c.Got)
			omitEmpty(v, "want", c.Want)
			omitEmpty(v, "detail", c.Detail)
			checks[i] = v
		}
		m["checks"] = checks
	}
	return m
}

func omitEmpty(m map[string]any, key, value string) {
	if value != "" {
		m[key] = value
	}
}

func (s *Signer) jsonValue() map[string]any {
	m := map[string]any{"keyId": s.KeyID}
	for _, f := range []struct{ key, value string }{
		{"issuer", s.Issuer},
		{"subjectAlternativeName", s.SubjectAlternativeName},
		{"repository", s.Repository},
		{"repositoryUri", s.RepositoryURI},
		{"ref", s.Ref},
		{"commit", s.Commit},
		{"workflow", s.Workflow},
		{"buildSignerUri", s.BuildSignerURI},
		{"buildTrigger", s.BuildTrigger},
		{"runInvocationUri", s.RunInvocationURI},
		{"buildSignerDigest", s.BuildSignerDigest},
		{"runnerEnvironment", s.RunnerEnvironment},
		{"repositoryId", s.RepositoryID},
		{"ownerUri", s.OwnerURI},
		{"ownerId", s.OwnerID},
		{"buildConfigUri", s.BuildConfigURI},
		{"buildConfigDigest", s.BuildConfigDigest},
		{"repositoryVisibility", s.RepositoryVisibility},
		{"workflowName", s.WorkflowName},
	} {
		omitEmpty(m, f.key, f.value)
	}
	return m
}

func (e *LogEntry) jsonValue() map[string]any {
	m := map[string]any{
		"rekorVersion": float64(e.RekorVersion),
		"logId":        e.LogID,
		"logIndex":     float64(e.LogIndex),
		"kind":         e.Kind,
		"kindVersion":  e.KindVersion,
		"treeSize":     float64(e.TreeSize),
		"rootHash":     e.RootHash,
	}
	omitEmpty(m, "logUrl", e.LogURL)
	omitEmpty(m, "integratedTime", e.IntegratedTime)
	return m
}

func (s *Statement) jsonValue() map[string]any {
	m := map[string]any{"type": s.Type, "predicateType": s.PredicateType, "subjects": nil}
	if s.Subjects != nil {
		subjects := make([]any, len(s.Subjects))
		for i, sub := range s.Subjects {
			var digest any
			if sub.Digest != nil {
				d := make(map[string]any, len(sub.Digest))
				for k, v := range sub.Digest {
					d[k] = v
				}
				digest = d
			}
			subjects[i] = map[string]any{"name": sub.Name, "digest": digest}
		}
		m["subjects"] = subjects
	}
	return m
}
