package strictjson

import (
	"errors"
	"strings"
	"testing"
)

func TestRejects(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`{"a":1,"a":2}`, ErrDuplicateKey},
		{`{"a":{"b":1,"b":1}}`, ErrDuplicateKey},
		{"\"\xff\"", ErrUTF8},
		{`"\ud800"`, ErrSurrogate},
		{`"\udc00\ud800"`, ErrSurrogate},
		{`{} {}`, ErrSyntax},
		{`{"a":1}x`, ErrSyntax},
		{`[1,]`, ErrSyntax},
		{`{"a":1,}`, ErrSyntax},
		{`01`, ErrSyntax},
		{`1.`, ErrSyntax},
		{`-`, ErrSyntax},
		{`"a` + "\n" + `"`, ErrSyntax},
		{`'a'`, ErrSyntax},
		{`nul`, ErrSyntax},
		{``, ErrSyntax},
		{strings.Repeat("[", 33) + strings.Repeat("]", 33), ErrLimit},
	} {
		if _, err := Parse([]byte(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("Parse(%q) = %v, want %v", tc.in, err, tc.want)
		}
	}
	if _, err := ParseLimits([]byte(`"0123456789"`), Limits{MaxBytes: 8}); !errors.Is(err, ErrLimit) {
		t.Errorf("size limit: %v", err)
	}
}

func TestAccepts(t *testing.T) {
	v, err := Parse([]byte(` {"z":null,"s":"a\u00e9\ud83d\ude00\n","n":-1.5e+3,"i":"42","a":[true,false,null],"o":{}} `))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Get("s").Text; got != "aé😀\n" {
		t.Errorf("string = %q", got)
	}
	if got := v.Get("n").Text; got != "-1.5e+3" {
		t.Errorf("number = %q", got)
	}
	if n, err := v.Get("i").Int64(); err != nil || n != 42 {
		t.Errorf("Int64 = %d, %v", n, err)
	}
	if a := v.Get("a"); len(a.Items) != 3 || !a.Items[0].Bool || a.Items[2].Kind != Null {
		t.Errorf("array = %+v", a)
	}
	if v.Get("missing") != nil || v.Get("z") != nil || v.Get("o").Kind != Object {
		t.Error("Get")
	}
}

func TestAppendString(t *testing.T) {
	got := string(AppendString(nil, "a\"\\\n\x01é/<"))
	if want := `"a\"\\\n\u0001é/<"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
