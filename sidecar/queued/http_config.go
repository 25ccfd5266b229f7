package queued

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/sidequeue/sidequeue/internal/logging"
)

// configOptions maps nsqd's option names (a flag's name with "_" for "-",
// or its cfg name) to our Options, each read as the JSON type nsqd's
// option has: durations in nanoseconds, the log level as nsqd's number.
// Strings are answered as they are, not JSON-quoted, as nsqd does. Names
// nsqd has and queued does not are INVALID_OPTION.
var configOptions = map[string]func(*Options) any{
	"id":                        func(o *Options) any { return o.NodeID },
	"log_level":                 func(o *Options) any { return nsqdLogLevel(o.LogLevel) },
	"log_prefix":                func(o *Options) any { return o.LogPrefix },
	"tcp_address":               func(o *Options) any { return o.TCPAddress },
	"http_address":              func(o *Options) any { return o.HTTPAddress },
	"https_address":             func(o *Options) any { return o.HTTPSAddress },
	"broadcast_address":         func(o *Options) any { return o.BroadcastAddress },
	"broadcast_tcp_port":        func(o *Options) any { return o.BroadcastTCPPort },
	"broadcast_http_port":       func(o *Options) any { return o.BroadcastHTTPPort },
	"nsqlookupd_tcp_addresses":  func(o *Options) any { return nonNil(o.LookupdTCPAddresses) },
	"auth_http_addresses":       func(o *Options) any { return nonNil(o.AuthHTTPAddresses) },
	"data_path":                 func(o *Options) any { return o.DataPath },
	"mem_queue_size":            func(o *Options) any { return o.MemQueueSize },
	"max_bytes_per_file":        func(o *Options) any { return o.MaxBytesPerFile },
	"sync_every":                func(o *Options) any { return o.SyncEvery },
	"sync_timeout":              func(o *Options) any { return o.SyncTimeout },
	"msg_timeout":               func(o *Options) any { return o.MsgTimeout },
	"max_msg_timeout":           func(o *Options) any { return o.MaxMsgTimeout },
	"max_msg_size":              func(o *Options) any { return o.MaxMsgSize },
	"max_body_size":             func(o *Options) any { return o.MaxBodySize },
	"max_req_timeout":           func(o *Options) any { return o.MaxReqTimeout },
	"max_heartbeat_interval":    func(o *Options) any { return o.MaxHeartbeatInterval },
	"max_rdy_count":             func(o *Options) any { return o.MaxRdyCount },
	"max_output_buffer_size":    func(o *Options) any { return o.MaxOutputBufferSize },
	"max_output_buffer_timeout": func(o *Options) any { return o.MaxOutputBufferTimeout },
	"min_output_buffer_timeout": func(o *Options) any { return o.MinOutputBufferTimeout },
	"output_buffer_timeout":     func(o *Options) any { return o.OutputBufferTimeout },
	"max_channel_consumers":     func(o *Options) any { return o.MaxChannelConsumers },
	"tls_cert":                  func(o *Options) any { return o.TLSCert },
	"tls_key":                   func(o *Options) any { return o.TLSKey },
	"tls_client_auth_policy":    func(o *Options) any { return o.TLSClientAuthPolicy },
	"tls_root_ca_file":          func(o *Options) any { return o.TLSRootCAFile },
	"tls_required":              func(o *Options) any { return o.TLSRequired },
	"tls_min_version":           func(o *Options) any { return o.TLSMinVersion },
	"deflate":                   func(o *Options) any { return o.DeflateEnabled },
	"max_deflate_level":         func(o *Options) any { return o.MaxDeflateLevel },
	"snappy":                    func(o *Options) any { return o.SnappyEnabled },
	// nsqd's end-to-end latency and statsd options.
	"e2e_processing_latency_percentiles": func(o *Options) any { return nonNil(o.E2EProcessingLatencyPercentiles) },
	"e2e_processing_latency_window_time": func(o *Options) any { return o.E2EProcessingLatencyWindowTime },
	"statsd_address":                     func(o *Options) any { return o.StatsdAddress },
	"statsd_prefix":                      func(o *Options) any { return o.StatsdPrefix },
	"statsd_interval":                    func(o *Options) any { return o.StatsdInterval },
	"statsd_mem_stats":                   func(o *Options) any { return o.StatsdMemStats },
	"statsd_udp_packet_size":             func(o *Options) any { return o.StatsdUDPPacketSize },
	"statsd_exclude_ephemeral":           func(o *Options) any { return o.StatsdExcludeEphemeral },
	// sidequeue's own, named from their flags the same way.
	"lookupd_resolve_interval": func(o *Options) any { return o.LookupResolveInterval },
	"max_disk_bytes":           func(o *Options) any { return o.MaxDiskBytes },
	"drain_timeout":            func(o *Options) any { return o.DrainTimeout },
	"termination_log":          func(o *Options) any { return o.TerminationLog },
}

// nsqdLogLevel is nsqd's number for a log level (debug 1 ... fatal 5).
func nsqdLogLevel(s string) int {
	if l, err := logging.ParseLevel(s); err == nil {
		return int(l) + 1
	}
	return 0
}

// nonNil makes an unset list answer [] rather than null, as nsqd's do.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// doConfig answers GET and PUT /config/:opt. PUT changes
// nsqlookupd_tcp_addresses (a JSON array) or log_level (the bare name) and
// answers the new value.
func (s *httpServer) doConfig(w http.ResponseWriter, r *http.Request) (any, error) {
	opt := r.PathValue("opt")
	if r.Method == http.MethodPut {
		if err := s.putConfig(r, opt); err != nil {
			return nil, err
		}
	}
	get, ok := configOptions[opt]
	if !ok {
		return nil, apiErr(400, "INVALID_OPTION")
	}
	return get(s.d.opts()), nil
}

func (s *httpServer) putConfig(r *http.Request, opt string) error {
	readMax := s.d.opts().MaxMsgSize + 1
	body, err := io.ReadAll(io.LimitReader(r.Body, readMax))
	if err != nil {
		return apiErr(500, "INTERNAL_ERROR")
	}
	if int64(len(body)) == readMax || len(body) == 0 {
		return apiErr(413, "INVALID_VALUE")
	}
	o := *s.d.opts()
	switch opt {
	case "nsqlookupd_tcp_addresses":
		var addrs []string
		if err := json.Unmarshal(body, &addrs); err != nil {
			return apiErr(400, "INVALID_VALUE")
		}
		o.LookupdTCPAddresses = addrs
	case "log_level":
		level := strings.ToLower(string(body))
		if s.d.log.SetLevel(level) != nil {
			return apiErr(400, "INVALID_VALUE")
		}
		o.LogLevel = level
	default:
		return apiErr(400, "INVALID_OPTION")
	}
	s.d.options.Store(&o)
	if opt == "nsqlookupd_tcp_addresses" {
		s.d.lookup.registrar.SetAddresses(o.LookupdTCPAddresses)
	}
	return nil
}

// doDrain is PUT /config/drain: what SIGTERM does, for a preStop hook or
// an operator.
func (s *httpServer) doDrain(w http.ResponseWriter, r *http.Request) (any, error) {
	s.d.StartDrain(s.d.opts().DrainTimeout)
	return nil, nil
}
