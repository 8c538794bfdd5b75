//go:build !js

package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

// toAny converts a Value to what encoding/json decodes with UseNumber.
func toAny(v *Value) any {
	switch v.Kind {
	case Null:
		return nil
	case Bool:
		return v.Bool
	case Number:
		return json.Number(v.Text)
	case String:
		return v.Text
	case Array:
		out := []any{}
		for _, it := range v.Items {
			out = append(out, toAny(it))
		}
		return out
	}
	out := map[string]any{}
	for _, m := range v.Members {
		out[m.Key] = toAny(m.Value)
	}
	return out
}

// FuzzDifferential uses encoding/json as the oracle: whatever strictjson
// accepts, encoding/json accepts with the same value; whatever encoding/json
// accepts and strictjson refuses is refused for a documented reason.
func FuzzDifferential(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\ud83d\ude00"`, `{"a":1,"a":2}`, `[1e5,-0.1,true]`,
		`"\ud800"`, "\"\xff\"", `{"mediaType":"x","n":"1"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		var want any
		var oracleErr error
		if !json.Valid(data) {
			oracleErr = errors.New("encoding/json: not valid")
		} else {
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			oracleErr = dec.Decode(&want)
		}
		if err == nil {
			if oracleErr != nil {
				t.Fatalf("strictjson accepted %q, encoding/json: %v", data, oracleErr)
			}
			if got := toAny(v); !reflect.DeepEqual(got, want) {
				t.Fatalf("value differs for %q: %#v vs %#v", data, got, want)
			}
			return
		}
		if oracleErr == nil && utf8.Valid(data) && !errors.Is(err, ErrDuplicateKey) && !errors.Is(err, ErrSurrogate) &&
			!errors.Is(err, ErrLimit) {
			t.Fatalf("strictjson refused %q (%v) for no documented reason", data, err)
		}
	})
}
