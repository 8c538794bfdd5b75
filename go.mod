module github.com/cvmtrust/cvmtrust

go 1.26.8

require (
	github.com/google/go-sev-guest v0.15.0 // indirect
	github.com/hack-pad/safejs v0.1.0 // indirect
	github.com/syumai/workers v0.33.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
)
