package queued

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// statsd as nsqd's --statsd-address: every --statsd-interval the daemon
// sends its /stats counts to a statsd daemon over UDP, under nsqd's metric
// names, so that dashboards built on nsqd's keep working. Gauges carry the
// current value; counters carry what was added since the previous push.

// statsdPrevious is what the previous push reported, for the counters'
// deltas.
type statsdPrevious struct {
	topics map[string]topicStats
	gcRuns uint32
}

// statsdLoop pushes every interval until the daemon exits.
func (d *Daemon) statsdLoop() {
	o := d.opts()
	d.log.Logf("INFO", "STATSD: pushing to %s every %v, prefix %q", o.StatsdAddress, o.StatsdInterval, o.StatsdPrefix)
	ticker := time.NewTicker(o.StatsdInterval)
	defer ticker.Stop()
	var prev statsdPrevious
	for {
		select {
		case <-d.shell.Done():
			d.log.Logf("INFO", "STATSD: closing")
			return
		case <-ticker.C:
		}
		prev = d.pushStatsd(prev)
	}
}

// pushStatsd sends one round of metrics and returns what it reported. The
// socket is made anew each time, as nsqd does, so a statsd daemon whose
// name moved to another address is found again.
func (d *Daemon) pushStatsd(prev statsdPrevious) statsdPrevious {
	o := d.opts()
	conn, err := net.DialTimeout("udp", o.StatsdAddress, time.Second)
	if err != nil {
		d.log.Logf("ERROR", "STATSD: failed to create UDP socket to statsd(%s): %v", o.StatsdAddress, err)
		return prev
	}
	defer conn.Close()
	d.log.Logf("DEBUG", "STATSD: pushing stats to %s", o.StatsdAddress)
	p := &statsdPackets{prefix: o.StatsdPrefix, size: o.StatsdUDPPacketSize}
	next := statsdPrevious{topics: map[string]topicStats{}, gcRuns: prev.gcRuns}
	for _, t := range d.getStats("", "", false).Topics {
		if o.StatsdExcludeEphemeral && isEphemeral(t.TopicName) {
			continue
		}
		p.topic(t, prev.topics[t.TopicName], o.StatsdExcludeEphemeral)
		next.topics[t.TopicName] = t
	}
	if o.StatsdMemStats {
		ms := getMemStats()
		p.memory(ms, prev.gcRuns)
		next.gcRuns = ms.GCTotalRuns
	}
	sendSpread(conn, p.packets(), o.StatsdInterval-time.Second, d.shell.Done(), d.log.Logf)
	return next
}

// sendSpread writes the packets spread over the given time, as nsqd does,
// so that a statsd daemon receiving from many nodes gets no burst from
// each; with no time to spread over (an interval of a second or less), or
// once the daemon exits, the rest go at once.
func sendSpread(conn net.Conn, packets [][]byte, over time.Duration, done <-chan struct{}, logf func(level, format string, args ...any)) {
	var gap time.Duration
	if over > 0 && len(packets) > 0 {
		gap = over / time.Duration(len(packets))
	}
	for i, pkt := range packets {
		if _, err := conn.Write(pkt); err != nil {
			logf("DEBUG", "STATSD: write to %s: %v", conn.RemoteAddr(), err)
		}
		if gap == 0 || i == len(packets)-1 {
			continue
		}
		select {
		case <-time.After(gap):
		case <-done:
			gap = 0
		}
	}
}

// statsdPackets builds statsd lines into datagrams of at most size bytes,
// never splitting a line (a line longer than size goes alone), as nsqd's
// buffered writer does.
type statsdPackets struct {
	prefix string
	size   int
	done   [][]byte
	cur    []byte
}

func (p *statsdPackets) counter(stat string, delta uint64) { p.line(stat, int64(delta), "c") }
func (p *statsdPackets) gauge(stat string, v int64)        { p.line(stat, v, "g") }

func (p *statsdPackets) line(stat string, v int64, kind string) {
	l := p.prefix + stat + ":" + strconv.FormatInt(v, 10) + "|" + kind + "\n"
	if len(p.cur) > 0 && len(p.cur)+len(l) > p.size {
		p.done = append(p.done, p.cur)
		p.cur = nil
	}
	p.cur = append(p.cur, l...)
}

// packets returns every datagram built.
func (p *statsdPackets) packets() [][]byte {
	if len(p.cur) > 0 {
		p.done = append(p.done, p.cur)
		p.cur = nil
	}
	return p.done
}

// topic writes nsqd's topic metrics, then its channels'. Counters are
// differences from prev, the zero value for a topic new since then; as in
// nsqd, a count that went down (a topic deleted and made again) wraps.
func (p *statsdPackets) topic(t, prev topicStats, excludeEphemeral bool) {
	base := "topic." + t.TopicName
	p.counter(base+".message_count", t.MessageCount-prev.MessageCount)
	p.counter(base+".message_bytes", t.MessageBytes-prev.MessageBytes)
	p.gauge(base+".depth", t.Depth)
	p.gauge(base+".backend_depth", t.BackendDepth)
	p.latency(base, t.E2eProcessingLatency)
	prevChannels := map[string]channelStats{}
	for _, c := range prev.Channels {
		prevChannels[c.ChannelName] = c
	}
	for _, c := range t.Channels {
		if excludeEphemeral && isEphemeral(c.ChannelName) {
			continue
		}
		p.channel(base+".channel."+c.ChannelName, c, prevChannels[c.ChannelName])
	}
}

func (p *statsdPackets) channel(base string, c, prev channelStats) {
	p.counter(base+".message_count", c.MessageCount-prev.MessageCount)
	p.gauge(base+".depth", c.Depth)
	p.gauge(base+".backend_depth", c.BackendDepth)
	p.gauge(base+".in_flight_count", int64(c.InFlightCount))
	p.gauge(base+".deferred_count", int64(c.DeferredCount))
	p.counter(base+".requeue_count", c.RequeueCount-prev.RequeueCount)
	p.counter(base+".timeout_count", c.TimeoutCount-prev.TimeoutCount)
	p.gauge(base+".clients", int64(c.ClientCount))
	p.latency(base, c.E2eProcessingLatency)
}

// latency writes one gauge per e2e percentile (none when the option is
// off), named by the percentile rounded: 0.99 is e2e_processing_latency_99.
// Whole nanoseconds lose nothing: that is the measurements' resolution.
func (p *statsdPackets) latency(base string, r *latencyResult) {
	for _, q := range r.Percentiles {
		p.gauge(fmt.Sprintf("%s.e2e_processing_latency_%.0f", base, q["quantile"]*100), int64(q["value"]))
	}
}

// memory writes nsqd's --statsd-mem-stats metrics.
func (p *statsdPackets) memory(ms memStats, prevGCRuns uint32) {
	p.gauge("mem.heap_objects", int64(ms.HeapObjects))
	p.gauge("mem.heap_idle_bytes", int64(ms.HeapIdleBytes))
	p.gauge("mem.heap_in_use_bytes", int64(ms.HeapInUseBytes))
	p.gauge("mem.heap_released_bytes", int64(ms.HeapReleasedBytes))
	p.gauge("mem.gc_pause_usec_100", int64(ms.GCPauseUsec100))
	p.gauge("mem.gc_pause_usec_99", int64(ms.GCPauseUsec99))
	p.gauge("mem.gc_pause_usec_95", int64(ms.GCPauseUsec95))
	p.gauge("mem.next_gc_bytes", int64(ms.NextGCBytes))
	p.counter("mem.gc_runs", uint64(ms.GCTotalRuns-prevGCRuns))
}

// expandStatsdPrefix is --statsd-prefix as nsqd uses it: %s becomes the
// node's name (the broadcast address and HTTP port, with "." and ":" made
// "_", so that the name is one statsd path element), and a non-empty
// prefix ends with ".".
func expandStatsdPrefix(prefix, broadcastAddress string, httpPort int) string {
	if prefix == "" {
		return ""
	}
	host := net.JoinHostPort(broadcastAddress, strconv.Itoa(httpPort))
	prefix = strings.ReplaceAll(prefix, "%s", strings.NewReplacer(".", "_", ":", "_").Replace(host))
	if !strings.HasSuffix(prefix, ".") {
		prefix += "."
	}
	return prefix
}
