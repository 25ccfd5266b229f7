package queued

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sidequeue/sidequeue/internal/cli"
	"github.com/sidequeue/sidequeue/internal/flagconfig"
	"github.com/sidequeue/sidequeue/internal/logging"
)

// stringList is a repeatable flag, like nsqd's --lookupd-tcp-address.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// configKeys are nsqd's config file keys that are not the flag's name.
var configKeys = map[string]string{
	"lookupd-tcp-address": "nsqlookupd_tcp_addresses",
	"auth-http-address":   "auth_http_addresses",

	"e2e-processing-latency-percentile": "e2e_processing_latency_percentiles",
}

// ParseFlags takes nsqd v1.3.0's flags, names and defaults, so a script
// written for nsqd runs queued unchanged; the bool is --version. The
// injection webhook calls it too, to refuse a pod whose sidecar flags would
// crash-loop, so a bad flag returns an error that names it and prints
// nothing (-h returns flag.ErrHelp; cmd/queued prints Usage): only keys a
// --config file names in vain are warned about.
func ParseFlags(args []string) (*Options, bool, error) {
	o := NewOptions()
	fs, v := defineFlags(o)
	if err := fs.Parse(args); err != nil {
		return nil, false, err
	}
	if fs.NArg() > 0 {
		return nil, false, fmt.Errorf("unexpected argument %q: every option is a --flag", fs.Arg(0))
	}
	if *v.config != "" {
		unknown, err := flagconfig.Apply(fs, *v.config, configKeys)
		if err != nil {
			return nil, false, err
		}
		for _, key := range unknown {
			fmt.Fprintf(os.Stderr, "queued: ignoring %q in --config %s: no such option\n", key, *v.config)
		}
	}
	var err error
	if o.TLSRequired, err = parseTLSRequired(*v.tlsRequired); err != nil {
		return nil, false, err
	}
	if o.TLSMinVersion, err = parseTLSVersion(*v.tlsMin); err != nil {
		return nil, false, err
	}
	if _, err := logging.ParseLevel(o.LogLevel); err != nil {
		return nil, false, err
	}
	if err := validateStatsOptions(o); err != nil {
		return nil, false, err
	}
	return o, *v.version, nil
}

// About is the first line of queued's --help: what the binary is.
const About = "queued is sidequeue's queue daemon: nsqd v1.3.0's protocols and flags, run beside its publishers, keeping every acknowledged message and draining its backlog before it stops."

// Usage writes queued's --help.
func Usage(w io.Writer) {
	fs, _ := defineFlags(NewOptions())
	cli.Usage(w, About, fs)
}

// flagVars are the flags that set no option directly.
type flagVars struct {
	version                     *bool
	config, tlsRequired, tlsMin *string
}

// defineFlags defines every flag of queued on a new, silent flag set, with
// o's fields as their values.
func defineFlags(o *Options) (*flag.FlagSet, flagVars) {
	fs := cli.NewFlagSet("queued")
	version := fs.Bool("version", false, "print version string")
	config := fs.String("config", "", "path to config file (TOML, nsqd's keys; flags win over it)")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "set log verbosity: debug, info, warn, error, or fatal")
	fs.StringVar(&o.LogPrefix, "log-prefix", o.LogPrefix, "log message prefix")
	fs.Int64Var(&o.NodeID, "node-id", o.NodeID, "unique part for message IDs, (int) in range [0,1024) (default is hash of hostname)")
	fs.StringVar(&o.TCPAddress, "tcp-address", o.TCPAddress, "<addr>:<port> to listen on for TCP clients")
	fs.StringVar(&o.HTTPAddress, "http-address", o.HTTPAddress, "<addr>:<port> to listen on for HTTP clients")
	fs.StringVar(&o.HTTPSAddress, "https-address", o.HTTPSAddress, "<addr>:<port> to listen on for HTTPS clients (served when --tls-cert and --tls-key are set)")
	fs.StringVar(&o.BroadcastAddress, "broadcast-address", o.BroadcastAddress, "address that will be registered with lookupd (defaults to the OS hostname)")
	fs.IntVar(&o.BroadcastTCPPort, "broadcast-tcp-port", 0, "TCP port that will be registered with lookupd (defaults to the TCP port that this daemon is listening on)")
	fs.IntVar(&o.BroadcastHTTPPort, "broadcast-http-port", 0, "HTTP port that will be registered with lookupd (defaults to the HTTP port that this daemon is listening on)")
	fs.Var((*stringList)(&o.LookupdTCPAddresses), "lookupd-tcp-address", "lookupd TCP address (may be given multiple times)")
	fs.DurationVar(&o.LookupResolveInterval, "lookupd-resolve-interval", o.LookupResolveInterval, "how often lookupd addresses that are DNS names are resolved again")
	fs.Var((*stringList)(&o.AuthHTTPAddresses), "auth-http-address", "<addr>:<port> or a full url to query auth server (may be given multiple times)")
	fs.StringVar(&o.DataPath, "data-path", "", "path to store disk-backed messages")
	fs.Int64Var(&o.MemQueueSize, "mem-queue-size", o.MemQueueSize, "number of messages to keep in memory (per topic/channel)")
	fs.Int64Var(&o.MaxBytesPerFile, "max-bytes-per-file", o.MaxBytesPerFile, "number of bytes per diskqueue file before rolling")
	fs.Int64Var(&o.SyncEvery, "sync-every", o.SyncEvery, "number of messages per diskqueue fsync (1: a PUB is answered only once its message is fsynced)")
	fs.DurationVar(&o.SyncTimeout, "sync-timeout", o.SyncTimeout, "duration of time per diskqueue fsync")
	fs.Int64Var(&o.MaxDiskBytes, "max-disk-bytes", 0, "bytes each topic or channel may hold on disk; publishes beyond fail (0: unlimited)")
	fs.DurationVar(&o.MsgTimeout, "msg-timeout", o.MsgTimeout, "default duration to wait before auto-requeing a message")
	fs.DurationVar(&o.MaxMsgTimeout, "max-msg-timeout", o.MaxMsgTimeout, "maximum duration before a message will timeout")
	fs.Int64Var(&o.MaxMsgSize, "max-msg-size", o.MaxMsgSize, "maximum size of a single message in bytes")
	fs.DurationVar(&o.MaxReqTimeout, "max-req-timeout", o.MaxReqTimeout, "maximum requeuing timeout for a message")
	fs.Int64Var(&o.MaxBodySize, "max-body-size", o.MaxBodySize, "maximum size of a single command body")
	fs.DurationVar(&o.MaxHeartbeatInterval, "max-heartbeat-interval", o.MaxHeartbeatInterval, "maximum client configurable duration of time between client heartbeats")
	fs.Int64Var(&o.MaxRdyCount, "max-rdy-count", o.MaxRdyCount, "maximum RDY count for a client")
	fs.Int64Var(&o.MaxOutputBufferSize, "max-output-buffer-size", o.MaxOutputBufferSize, "maximum client configurable size (in bytes) for a client output buffer")
	fs.DurationVar(&o.MaxOutputBufferTimeout, "max-output-buffer-timeout", o.MaxOutputBufferTimeout, "maximum client configurable duration of time between flushing to a client")
	fs.DurationVar(&o.MinOutputBufferTimeout, "min-output-buffer-timeout", o.MinOutputBufferTimeout, "minimum client configurable duration of time between flushing to a client")
	fs.DurationVar(&o.OutputBufferTimeout, "output-buffer-timeout", o.OutputBufferTimeout, "default duration of time between flushing data to clients")
	fs.IntVar(&o.MaxChannelConsumers, "max-channel-consumers", 0, "maximum channel consumer connection count per daemon (0: unlimited)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "path to certificate file")
	fs.StringVar(&o.TLSKey, "tls-key", "", "path to key file")
	fs.StringVar(&o.TLSClientAuthPolicy, "tls-client-auth-policy", "", "client certificate auth policy ('require' or 'require-verify')")
	fs.StringVar(&o.TLSRootCAFile, "tls-root-ca-file", "", "path to certificate authority file")
	tlsRequired := fs.String("tls-required", "false", "require TLS for client connections (true, false, tcp-https)")
	tlsMin := fs.String("tls-min-version", "tls1.0", "minimum TLS version acceptable ('tls1.0', 'tls1.1', 'tls1.2' or 'tls1.3')")
	fs.BoolVar(&o.DeflateEnabled, "deflate", o.DeflateEnabled, "enable deflate feature negotiation (client compression)")
	fs.IntVar(&o.MaxDeflateLevel, "max-deflate-level", o.MaxDeflateLevel, "max deflate compression level a client can negotiate")
	fs.BoolVar(&o.SnappyEnabled, "snappy", o.SnappyEnabled, "enable snappy feature negotiation (client compression)")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", o.DrainTimeout, "on SIGTERM, how long to keep serving consumers before exiting with a backlog")
	fs.BoolVar(&o.DrainOnly, "drain-only", false, "serve the data path's backlog to consumers, accept no publishes, and exit once it is empty")
	fs.StringVar(&o.TerminationLog, "termination-log", "", "file for the one-line JSON exit summary (default /dev/termination-log when it exists)")
	defineStatsFlags(fs, o)
	return fs, flagVars{version: version, config: config, tlsRequired: tlsRequired, tlsMin: tlsMin}
}

func parseTLSRequired(v string) (int, error) {
	switch v {
	case "true":
		return TLSRequired, nil
	case "tcp-https":
		return TLSRequiredExceptHTTP, nil
	case "false", "":
		return TLSNotRequired, nil
	}
	return 0, fmt.Errorf("--tls-required %q: use true, false or tcp-https", v)
}

func parseTLSVersion(v string) (uint16, error) {
	versions := map[string]uint16{"tls1.0": tls.VersionTLS10, "tls1.1": tls.VersionTLS11,
		"tls1.2": tls.VersionTLS12, "tls1.3": tls.VersionTLS13}
	if n, ok := versions[strings.ToLower(v)]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("--tls-min-version %q: use tls1.0, tls1.1, tls1.2 or tls1.3", v)
}
