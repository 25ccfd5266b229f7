// Package queued is the queue daemon: wire-compatible with nsqd v1.3.0 (TCP
// protocol V2, HTTP API, lookupd registration), and losing nothing it has
// acknowledged. cmd/queued is a thin main around it; tests start it in-process.
package queued

import (
	"crypto/md5"
	"hash/crc32"
	"io"
	"os"
	"time"

	"github.com/sidequeue/sidequeue/sidecar/registrar"
)

// Options are nsqd v1.3.0's, with its defaults, plus sidequeue's own
// (drain, disk budget, lookupd re-resolution).
type Options struct {
	NodeID    int64
	LogLevel  string
	LogPrefix string                                  // before every log line, as nsqd's --log-prefix
	Logf      func(level, format string, args ...any) // nil: standard error

	TCPAddress        string
	HTTPAddress       string
	HTTPSAddress      string // served only with a TLS cert and key, as nsqd
	BroadcastAddress  string
	BroadcastTCPPort  int
	BroadcastHTTPPort int

	LookupdTCPAddresses   []string
	LookupResolveInterval time.Duration
	LookupResolver        registrar.Resolver // nil: DNS; tests point one name at several lookupds
	AuthHTTPAddresses     []string

	DataPath        string
	MemQueueSize    int64
	MaxBytesPerFile int64
	SyncEvery       int64
	SyncTimeout     time.Duration
	MaxDiskBytes    int64

	QueueScanInterval time.Duration

	MsgTimeout    time.Duration
	MaxMsgTimeout time.Duration
	MaxMsgSize    int64
	MaxBodySize   int64
	MaxReqTimeout time.Duration
	ClientTimeout time.Duration

	MaxHeartbeatInterval   time.Duration
	MaxRdyCount            int64
	MaxOutputBufferSize    int64
	MaxOutputBufferTimeout time.Duration
	MinOutputBufferTimeout time.Duration
	OutputBufferTimeout    time.Duration
	MaxChannelConsumers    int

	TLSCert             string
	TLSKey              string
	TLSClientAuthPolicy string
	TLSRootCAFile       string
	TLSRequired         int // TLSNotRequired, TLSRequiredExceptHTTP or TLSRequired
	TLSMinVersion       uint16

	DeflateEnabled  bool
	MaxDeflateLevel int
	SnappyEnabled   bool

	// E2EProcessingLatencyPercentiles are the quantiles, in (0,1], of the
	// publish-to-FIN latency that /stats reports per topic and channel over
	// the last E2EProcessingLatencyWindowTime; none, nsqd's default, keeps
	// no latencies at all.
	E2EProcessingLatencyPercentiles []float64
	E2EProcessingLatencyWindowTime  time.Duration

	// statsd, as nsqd's: off unless StatsdAddress is set. New puts the
	// node's name in StatsdPrefix's %s.
	StatsdAddress          string
	StatsdPrefix           string
	StatsdInterval         time.Duration
	StatsdMemStats         bool
	StatsdUDPPacketSize    int
	StatsdExcludeEphemeral bool

	DrainTimeout   time.Duration
	TerminationLog string
	DrainOnly      bool // serve the data path's backlog to consumers, accept no publishes, exit when empty
	// DrainSummaryInterval is how often a drain rewrites the termination
	// summary while its depth changes (no flag: the operator needs it only
	// near-true, after a SIGKILL).
	DrainSummaryInterval time.Duration
}

// TLS policies, as nsqd's --tls-required takes them.
const (
	TLSNotRequired = iota
	TLSRequiredExceptHTTP
	TLSRequired
)

// NewOptions returns nsqd v1.3.0's defaults.
func NewOptions() *Options {
	hostname, _ := os.Hostname()
	return &Options{
		NodeID:           defaultNodeID(hostname),
		LogLevel:         "info",
		LogPrefix:        "[queued] ",
		TCPAddress:       "0.0.0.0:4150",
		HTTPAddress:      "0.0.0.0:4151",
		HTTPSAddress:     "0.0.0.0:4152",
		BroadcastAddress: hostname,

		LookupResolveInterval: 5 * time.Second,

		MemQueueSize:    10000,
		MaxBytesPerFile: 100 * 1024 * 1024,
		SyncEvery:       2500,
		SyncTimeout:     2 * time.Second,

		QueueScanInterval: 100 * time.Millisecond,

		MsgTimeout:    60 * time.Second,
		MaxMsgTimeout: 15 * time.Minute,
		MaxMsgSize:    1024 * 1024,
		MaxBodySize:   5 * 1024 * 1024,
		MaxReqTimeout: time.Hour,
		ClientTimeout: 60 * time.Second,

		MaxHeartbeatInterval:   60 * time.Second,
		MaxRdyCount:            2500,
		MaxOutputBufferSize:    64 * 1024,
		MaxOutputBufferTimeout: 30 * time.Second,
		MinOutputBufferTimeout: 25 * time.Millisecond,
		OutputBufferTimeout:    250 * time.Millisecond,

		DeflateEnabled:  true,
		MaxDeflateLevel: 6,
		SnappyEnabled:   true,

		E2EProcessingLatencyWindowTime: 10 * time.Minute,

		StatsdPrefix:        "nsq.%s",
		StatsdInterval:      60 * time.Second,
		StatsdMemStats:      true,
		StatsdUDPPacketSize: 508,

		DrainTimeout:         30 * time.Second,
		DrainSummaryInterval: 2 * time.Second,
	}
}

// defaultNodeID is nsqd's: a hash of the host name, in [0, 1024).
func defaultNodeID(hostname string) int64 {
	h := md5.New()
	io.WriteString(h, hostname)
	return int64(crc32.ChecksumIEEE(h.Sum(nil)) % 1024)
}
