package sigstore

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestJSONValueMatchesEncodingJSON: JSONValue is what encoding/json gives
// for the Result's JSON, for a Result with every field set (filled by
// reflection, so a new field is covered without editing this test), one with
// the empty values omitempty drops, and the zero Result.
func TestJSONValueMatchesEncodingJSON(t *testing.T) {
	var full Result
	fill(reflect.ValueOf(&full).Elem(), 1)
	empty := full
	empty.Signer = Signer{KeyID: "ab"}
	empty.LogEntries, empty.VerifiedTimes, empty.Checks = []LogEntry{}, []VerifiedTime{{Source: "rekor"}}, []Check{{Name: "n"}}
	empty.Payload, empty.Statement = []byte{}, &Statement{Subjects: []Subject{{Name: "s"}}}
	for name, r := range map[string]*Result{"full": &full, "empty values": &empty, "zero": {}} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var want any
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if got := any(r.JSONValue()); !reflect.DeepEqual(got, want) {
			t.Errorf("%s Result:\nJSONValue     %v\nencoding/json %v", name, got, want)
		}
	}
}

// fill sets every exported field of v to a non-zero value, different per
// field, with slices and maps of one element.
func fill(v reflect.Value, seed int) int {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				seed = fill(v.Field(i), seed+1)
			}
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		seed = fill(v.Elem(), seed)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		seed = fill(v.Index(0), seed)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		seed = fill(k, seed)
		seed = fill(e, seed)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("s" + string(rune('a'+seed%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(seed))
	case reflect.Uint8:
		v.SetUint(uint64(seed))
	default:
		panic("fill: add " + v.Kind().String())
	}
	return seed
}
