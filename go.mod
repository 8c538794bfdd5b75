module github.com/cvmtrust/cvmtrust

go 1.26.8

require (
	github.com/google/go-sev-guest v0.15.0
	github.com/google/uuid v1.6.0
	github.com/hack-pad/safejs v0.1.0
	github.com/syumai/workers v0.33.0
	golang.org/x/crypto v0.58.0
	golang.org/x/net v0.62.0
)

require (
	github.com/google/go-configfs-tsm v0.2.2 // indirect
	github.com/google/logger v1.1.1 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	google.golang.org/protobuf v1.33.0 // indirect
)
