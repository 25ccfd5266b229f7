package queued

import (
	"flag"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// The flags of what queued reports about itself beyond /stats' counts:
// nsqd's end-to-end latency percentiles, and statsd.

// defineStatsFlags defines them on fs, with o's fields as their values.
func defineStatsFlags(fs *flag.FlagSet, o *Options) {
	fs.Var((*percentileList)(&o.E2EProcessingLatencyPercentiles), "e2e-processing-latency-percentile",
		"message processing time percentiles (as float (0, 1.0]) to track (can be specified multiple times or comma separated '1.0,0.99,0.95', default none)")
	fs.DurationVar(&o.E2EProcessingLatencyWindowTime, "e2e-processing-latency-window-time", o.E2EProcessingLatencyWindowTime,
		"calculate end to end latency quantiles for this duration of time (ie: 60s would only show quantile calculations from the past 60 seconds)")
	fs.StringVar(&o.StatsdAddress, "statsd-address", o.StatsdAddress, "UDP <addr>:<port> of a statsd daemon for pushing stats")
	fs.DurationVar(&o.StatsdInterval, "statsd-interval", o.StatsdInterval, "duration between pushing to statsd")
	fs.BoolVar(&o.StatsdMemStats, "statsd-mem-stats", o.StatsdMemStats, "toggle sending memory and GC stats to statsd")
	fs.StringVar(&o.StatsdPrefix, "statsd-prefix", o.StatsdPrefix, "prefix used for keys sent to statsd (%s for host replacement)")
	fs.IntVar(&o.StatsdUDPPacketSize, "statsd-udp-packet-size", o.StatsdUDPPacketSize, "the size in bytes of statsd UDP packets")
	fs.BoolVar(&o.StatsdExcludeEphemeral, "statsd-exclude-ephemeral", o.StatsdExcludeEphemeral, "Skip ephemeral topics and channels when sending stats to statsd")
}

// validateStatsOptions refuses values these features cannot run with,
// naming the flag and what to give instead.
func validateStatsOptions(o *Options) error {
	for _, p := range o.E2EProcessingLatencyPercentiles {
		if err := checkPercentile(p); err != nil {
			return fmt.Errorf("--e2e-processing-latency-percentile: %w", err)
		}
	}
	if len(o.E2EProcessingLatencyPercentiles) > 0 && o.E2EProcessingLatencyWindowTime <= 0 {
		return fmt.Errorf("--e2e-processing-latency-window-time %v must be positive: it is how far back the percentiles reach, e.g. 10m",
			o.E2EProcessingLatencyWindowTime)
	}
	if o.StatsdAddress != "" {
		return validateStatsd(o)
	}
	return nil
}

// validateStatsd checks the statsd options, which matter only with an
// address. nsqd takes any value and fails later (a bad address at every
// push, a zero interval by panicking); queued says so at start.
func validateStatsd(o *Options) error {
	if _, _, err := net.SplitHostPort(o.StatsdAddress); err != nil {
		return fmt.Errorf("--statsd-address %q: want the <host>:<port> of a statsd daemon (UDP), e.g. 127.0.0.1:8125", o.StatsdAddress)
	}
	if o.StatsdInterval <= 0 {
		return fmt.Errorf("--statsd-interval %v must be positive, e.g. 60s", o.StatsdInterval)
	}
	if o.StatsdUDPPacketSize < 1 || o.StatsdUDPPacketSize > maxUDPPayload {
		return fmt.Errorf("--statsd-udp-packet-size %d must be in [1,%d]: 508 (the default) crosses any network unfragmented, 1432 an Ethernet one",
			o.StatsdUDPPacketSize, maxUDPPayload)
	}
	return nil
}

// maxUDPPayload is the largest datagram UDP over IPv4 can carry.
const maxUDPPayload = 65507

// percentileList is nsqd's --e2e-processing-latency-percentile: repeatable,
// each value a comma-separated list, kept sorted highest first as nsqd
// keeps it (the order /stats reports them in).
type percentileList []float64

func (l *percentileList) String() string {
	s := make([]string, len(*l))
	for i, v := range *l {
		s[i] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strings.Join(s, ",")
}

func (l *percentileList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		p, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number: give quantiles such as 0.99,0.95", part)
		}
		if err := checkPercentile(p); err != nil {
			return err
		}
		*l = append(*l, p)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(*l)))
	return nil
}

// checkPercentile is nsqd's rule: a quantile in (0,1], 1 being the maximum.
func checkPercentile(p float64) error {
	if !(p > 0 && p <= 1) { // also refuses NaN
		return fmt.Errorf("%v is not in (0,1]: give quantiles such as 0.99 for the 99th percentile", p)
	}
	return nil
}
