//go:build js

package sigstore

// In the browser the wasm main passes the page's RegExp in Options.Patterns:
// Go's regexp would add its Unicode tables to the download.
func defaultPatterns() PatternCompiler { return nil }
