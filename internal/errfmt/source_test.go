//go:build !js

package errfmt

import (
	"encoding/json"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	module  = "github.com/cvmtrust/cvmtrust"
	errfmtP = module + "/internal/errfmt"
)

// TestBrowserCallSites type-checks the module's packages that the browser
// build links (as built for js/wasm) and checks every call of Sprintf and
// Errorf, and of every function that forwards a format and its arguments to
// them: the format is a constant, its verbs and flags are ones errfmt
// formats like fmt, each verb's argument has a static type errfmt handles
// for that verb, %w appears only where the format reaches Errorf, and the
// argument count matches. With this, no marker can appear in a message the
// verifier writes, and the table test's equality with fmt holds for all of
// them.
func TestBrowserCallSites(t *testing.T) {
	pkgs := browserPackages(t)
	fset := token.NewFileSet()
	exports := map[string]string{}
	for _, p := range pkgs {
		exports[p.ImportPath] = p.Export
	}
	var checked, callSites int
	for _, p := range pkgs {
		if !strings.HasPrefix(p.ImportPath, module+"/") || p.ImportPath == errfmtP {
			continue
		}
		files := make([]*ast.File, 0, len(p.GoFiles))
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
			if m, ok := p.ImportMap[path]; ok {
				path = m
			}
			return os.Open(exports[path])
		})
		info := &types.Info{
			Types: map[ast.Expr]types.TypeAndValue{},
			Defs:  map[*ast.Ident]types.Object{},
			Uses:  map[*ast.Ident]types.Object{},
		}
		conf := types.Config{Importer: imp, GoVersion: "go1.26"}
		if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
			t.Fatalf("type-checking %s: %v", p.ImportPath, err)
		}
		for _, imp := range p.Imports {
			if imp == "fmt" {
				t.Errorf("%s imports fmt in the browser build", p.ImportPath)
			}
		}
		c := &checker{t: t, fset: fset, info: info, wrappers: map[types.Object]string{}}
		c.findWrappers(files)
		callSites += c.checkCalls(files)
		checked++
	}
	if checked < 8 || callSites < 150 {
		t.Fatalf("checked %d packages and %d call sites: the browser build's package list looks wrong", checked, callSites)
	}
	t.Logf("%d packages, %d call sites", checked, callSites)
}

type listedPackage struct {
	ImportPath, Dir, Export string
	GoFiles, Imports        []string
	ImportMap               map[string]string
}

// browserPackages lists what ./wasm links for js/wasm, with export data.
func browserPackages(t *testing.T) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-export", "-json=ImportPath,Dir,Export,GoFiles,Imports,ImportMap", "../../wasm")
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	for dec := json.NewDecoder(strings.NewReader(string(out))); dec.More(); {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

type checker struct {
	t        *testing.T
	fset     *token.FileSet
	info     *types.Info
	wrappers map[types.Object]string // function or closure variable → "Errorf" or "Sprintf"
	params   []types.Object          // the wrappers' format parameters
}

// formatParam returns the object of a func type's `format string` parameter
// when the type ends in (format string, args ...any): the shape of a
// function that forwards a format.
func (c *checker) formatParam(ft *ast.FuncType) types.Object {
	list := ft.Params.List
	if len(list) < 2 {
		return nil
	}
	last, prev := list[len(list)-1], list[len(list)-2]
	if _, ok := last.Type.(*ast.Ellipsis); !ok {
		return nil
	}
	name := prev.Names[len(prev.Names)-1]
	if name.Name != "format" {
		return nil
	}
	return c.info.Defs[name]
}

// findWrappers records the functions (declared, or function literals bound
// to a variable) that pass their format on to Sprintf or Errorf, and with
// which of the two.
func (c *checker) findWrappers(files []*ast.File) {
	var changed bool
	unresolved := map[types.Object]string{}
	record := func(obj types.Object, ft *ast.FuncType, body *ast.BlockStmt) {
		param := c.formatParam(ft)
		if param == nil || body == nil {
			return
		}
		kind := ""
		ast.Inspect(body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if k, fi := c.callee(call); k != "" && fi < len(call.Args) && mentions(c.info, call.Args[fi], param) {
				kind = k
			}
			return true
		})
		if kind == "" {
			unresolved[obj] = c.fset.Position(ft.Pos()).String()
			return
		}
		delete(unresolved, obj)
		if _, ok := c.wrappers[obj]; !ok {
			c.wrappers[obj] = kind
			c.params = append(c.params, param)
			changed = true
		}
	}
	// A wrapper may forward to another wrapper: repeat until nothing new.
	for changed = true; changed; {
		changed = false
		c.recordAll(files, record)
	}
	for obj, pos := range unresolved {
		c.t.Errorf("%s: %s takes a format but does not pass it to errfmt.Sprintf or Errorf", pos, obj.Name())
	}
}

func (c *checker) recordAll(files []*ast.File, record func(types.Object, *ast.FuncType, *ast.BlockStmt)) {
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				record(c.info.Defs[n.Name], n.Type, n.Body)
			case *ast.AssignStmt:
				for i, rhs := range n.Rhs {
					if lit, ok := rhs.(*ast.FuncLit); ok && i < len(n.Lhs) {
						if id, ok := n.Lhs[i].(*ast.Ident); ok {
							obj := c.info.Defs[id]
							if obj == nil {
								obj = c.info.Uses[id]
							}
							record(obj, lit.Type, lit.Body)
						}
					}
				}
			}
			return true
		})
	}
}

func mentions(info *types.Info, e ast.Expr, obj types.Object) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == obj {
			found = true
		}
		return !found
	})
	return found
}

// errfmtFunc returns "Errorf" or "Sprintf" when call calls that function of
// this package.
func (c *checker) errfmtFunc(call *ast.CallExpr) string {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	obj := c.info.Uses[sel.Sel]
	if obj == nil || obj.Pkg() == nil || obj.Pkg().Path() != errfmtP {
		return ""
	}
	if obj.Name() == "Errorf" || obj.Name() == "Sprintf" {
		return obj.Name()
	}
	return ""
}

func (c *checker) callee(call *ast.CallExpr) (kind string, formatIndex int) {
	if k := c.errfmtFunc(call); k != "" {
		return k, 0
	}
	var id *ast.Ident
	switch f := call.Fun.(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return "", 0
	}
	obj := c.info.Uses[id]
	kind, ok := c.wrappers[obj]
	if !ok {
		return "", 0
	}
	sig, _ := obj.Type().(*types.Signature)
	if sig == nil {
		return "", 0
	}
	return kind, sig.Params().Len() - 2
}

func (c *checker) checkCalls(files []*ast.File) int {
	n := 0
	for _, f := range files {
		ast.Inspect(f, func(node ast.Node) bool {
			call, ok := node.(*ast.CallExpr)
			if !ok {
				return true
			}
			kind, fi := c.callee(call)
			if kind == "" {
				return true
			}
			pos := c.fset.Position(call.Pos())
			if fi >= len(call.Args) {
				c.t.Errorf("%s: too few arguments", pos)
				return true
			}
			// A call that forwards a wrapper's format is checked where
			// the wrapper is called.
			for _, p := range c.params {
				if mentions(c.info, call.Args[fi], p) {
					return true
				}
			}
			tv := c.info.Types[call.Args[fi]]
			if tv.Value == nil || tv.Value.Kind() != constant.String {
				c.t.Errorf("%s: the format is not a constant string", pos)
				return true
			}
			if call.Ellipsis.IsValid() {
				c.t.Errorf("%s: arguments passed with ... cannot be checked", pos)
				return true
			}
			args := call.Args[fi+1:]
			argTypes := make([]types.Type, len(args))
			for i, a := range args {
				argTypes[i] = c.info.Types[a].Type
			}
			if msg := checkFormat(constant.StringVal(tv.Value), argTypes, kind == "Errorf"); msg != "" {
				c.t.Errorf("%s: %s", pos, msg)
			}
			n++
			return true
		})
	}
	return n
}

var (
	errorType    = types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	stringerType = types.NewInterfaceType([]*types.Func{
		types.NewFunc(token.NoPos, nil, "String", types.NewSignatureType(nil, nil, nil, nil,
			types.NewTuple(types.NewVar(token.NoPos, nil, "", types.Typ[types.String])), false)),
	}, nil).Complete()
	byteSlice = types.NewSlice(types.Typ[types.Byte])
)

// checkFormat returns what is wrong with format for arguments of these
// static types, or "".
func checkFormat(format string, args []types.Type, wrapping bool) string {
	argNum := 0
	for i := 0; i < len(format); {
		if format[i] != '%' {
			i++
			continue
		}
		i++
		flags := ""
		for i < len(format) && strings.IndexByte("#0+- ", format[i]) >= 0 {
			flags += format[i : i+1]
			i++
		}
		width := false
		for i < len(format) && format[i] >= '0' && format[i] <= '9' {
			width = true
			i++
		}
		if i >= len(format) {
			return "format ends in %"
		}
		verb, size := utf8.DecodeRuneInString(format[i:])
		i += size
		if verb == '%' && flags == "" && !width {
			continue
		}
		spec := "%" + flags + string(verb)
		if strings.ContainsAny(flags, "- ") || (strings.Contains(flags, "#") && verb != 'x' && verb != 'X') ||
			(strings.Contains(flags, "+") && verb != 'v') {
			return spec + ": unsupported flag"
		}
		if argNum >= len(args) {
			return spec + ": missing argument"
		}
		typ := args[argNum]
		argNum++
		if !supports(verb, typ, wrapping) {
			return spec + ": errfmt does not format a " + typ.String() + " with it"
		}
	}
	if argNum != len(args) {
		return "more arguments than verbs"
	}
	return ""
}

func supports(verb rune, typ types.Type, wrapping bool) bool {
	basic, _ := typ.(*types.Basic) // only predeclared types: named ones need reflect
	integer := basic != nil && basic.Info()&types.IsInteger != 0 && basic.Kind() != types.UntypedRune
	str := basic != nil && basic.Kind() == types.String
	isErr := types.Implements(typ, errorType)
	method := isErr || types.Implements(typ, stringerType)
	switch verb {
	case 'd':
		return integer
	case 'x', 'X':
		return integer || str || types.Identical(typ, byteSlice)
	case 'v':
		return integer || str || method || (basic != nil && (basic.Kind() == types.Bool || basic.Kind() == types.UntypedNil))
	case 's':
		return str || method || types.Identical(typ, byteSlice)
	case 'q':
		return integer || str || method || types.Identical(typ, byteSlice)
	case 'w':
		return wrapping && isErr
	}
	return false
}

// TestCheckFormat: the source check rejects what errfmt does not format.
func TestCheckFormat(t *testing.T) {
	intT, strT, boolT := types.Typ[types.Int], types.Typ[types.String], types.Typ[types.Bool]
	named := types.NewNamed(types.NewTypeName(token.NoPos, nil, "Kind", nil), types.Typ[types.Uint8], nil)
	for _, c := range []struct {
		format   string
		args     []types.Type
		wrapping bool
		ok       bool
	}{
		{"%d %s %q %x %#x %04x %v %+v", []types.Type{intT, strT, strT, strT, intT, intT, boolT, intT}, false, true},
		{"%w: %v", []types.Type{errorType, errorType}, true, true},
		{"%w", []types.Type{errorType}, false, false},
		{"%w", []types.Type{strT}, true, false},
		{"%d", []types.Type{named}, false, false},
		{"%v", []types.Type{named}, false, false},
		{"%s", []types.Type{intT}, false, false},
		{"%d", []types.Type{types.Typ[types.Float64]}, false, false},
		{"%d %d", []types.Type{intT}, false, false},
		{"%d", []types.Type{intT, intT}, false, false},
		{"%-4d", []types.Type{intT}, false, false},
		{"%#v", []types.Type{intT}, false, false},
		{"%.2f", []types.Type{types.Typ[types.Float64]}, false, false},
		{"%v", []types.Type{types.NewSlice(intT)}, false, false},
		{"%v", []types.Type{byteSlice}, false, false},
		{"100%%", nil, false, true},
	} {
		if got := checkFormat(c.format, c.args, c.wrapping); (got == "") != c.ok {
			t.Errorf("checkFormat(%q, %v, %v) = %q, want ok=%v", c.format, c.args, c.wrapping, got, c.ok)
		}
	}
}
