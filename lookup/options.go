// Package lookup is the lookup daemon, lookupd: a drop-in replacement for
// nsqlookupd v1.3.0 (TCP protocol V1 for the queue daemons that register,
// HTTP API for the consumers and tools that look up). cmd/lookupd is a thin
// main around it; tests start it in-process.
package lookup

import (
	"os"
	"time"
)

// Version is what lookupd reports (nsqlookupd's, for tools that compare).
const Version = "1.3.0"

// Options are nsqlookupd v1.3.0's, with its defaults.
type Options struct {
	LogLevel  string                                  // debug, info, warn, error or fatal
	LogPrefix string                                  // before every log line
	Logf      func(level, format string, args ...any) // nil: standard error

	TCPAddress       string
	HTTPAddress      string
	BroadcastAddress string

	// A producer that has not pinged for this long is left out of /lookup
	// and /nodes (but keeps its registrations, as in nsqlookupd).
	InactiveProducerTimeout time.Duration
	// A tombstoned producer is left out of /lookup for this long.
	TombstoneLifetime time.Duration
}

// NewOptions returns nsqlookupd v1.3.0's defaults.
func NewOptions() *Options {
	hostname, _ := os.Hostname()
	return &Options{
		LogLevel:                "info",
		LogPrefix:               "[lookupd] ",
		TCPAddress:              "0.0.0.0:4160",
		HTTPAddress:             "0.0.0.0:4161",
		BroadcastAddress:        hostname,
		InactiveProducerTimeout: 300 * time.Second,
		TombstoneLifetime:       45 * time.Second,
	}
}
