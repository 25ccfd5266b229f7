package queued

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// statsdSink is a statsd daemon for tests: it reads datagrams, checks that
// each holds whole lines under the prefix, and adds them up.
type statsdSink struct {
	t          *testing.T
	conn       net.PacketConn
	prefix     string
	packetSize int
	line       *regexp.Regexp

	counters map[string][]int64 // every delta received, in order
	gauges   map[string]int64   // the latest value
}

func newStatsdSink(t *testing.T) *statsdSink {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &statsdSink{t: t, conn: conn, counters: map[string][]int64{}, gauges: map[string]int64{}}
}

func (s *statsdSink) addr() string { return s.conn.LocalAddr().String() }

// readUntil reads datagrams until done says the metrics are in, failing
// after a deadline.
func (s *statsdSink) readUntil(what string, done func() bool) {
	s.t.Helper()
	s.line = regexp.MustCompile(`^` + regexp.QuoteMeta(s.prefix) + `([a-z0-9_.#]+):(-?\d+)\|(c|g)$`)
	deadline := time.Now().Add(15 * time.Second)
	s.conn.SetReadDeadline(deadline)
	buf := make([]byte, 65536)
	for !done() {
		n, _, err := s.conn.ReadFrom(buf)
		if err != nil {
			s.t.Fatalf("statsd: %s not seen (%v); counters %v gauges %v", what, err, s.counters, s.gauges)
		}
		s.datagram(string(buf[:n]))
	}
}

func (s *statsdSink) datagram(d string) {
	s.t.Helper()
	if len(d) > s.packetSize || !strings.HasSuffix(d, "\n") {
		s.t.Fatalf("datagram of %d bytes (limit %d), not whole lines: %q", len(d), s.packetSize, d)
	}
	for _, l := range strings.Split(strings.TrimSuffix(d, "\n"), "\n") {
		m := s.line.FindStringSubmatch(l)
		if m == nil {
			s.t.Fatalf("statsd line %q is not <prefix %q><name>:<int>|<c or g>", l, s.prefix)
		}
		v, _ := strconv.ParseInt(m[2], 10, 64)
		if m[3] == "c" {
			s.counters[m[1]] = append(s.counters[m[1]], v)
		} else {
			s.gauges[m[1]] = v
		}
	}
}

// total is a counter's deltas added up; settled says the last push added
// nothing, which a counter sent as a running total would never say.
func (s *statsdSink) total(name string) (total int64, settled bool) {
	deltas := s.counters[name]
	for _, d := range deltas {
		total += d
	}
	return total, len(deltas) > 0 && deltas[len(deltas)-1] == 0
}

// Published, consumed and finished messages arrive as nsqd's metrics:
// counters as deltas, gauges as values, e2e percentiles and memory, in
// packets no larger than --statsd-udp-packet-size, named under the prefix
// with the node's broadcast address and HTTP port.
func TestStatsdPushesNsqdMetrics(t *testing.T) {
	t.Parallel()
	sink := newStatsdSink(t)
	sink.packetSize = 200
	d := startDaemon(t, func(o *Options) {
		o.BroadcastAddress = "queued.test"
		o.StatsdAddress = sink.addr()
		o.StatsdInterval = 20 * time.Millisecond
		o.StatsdUDPPacketSize = sink.packetSize
		o.E2EProcessingLatencyPercentiles = []float64{0.99, 0.5}
	})
	sink.prefix = fmt.Sprintf("nsq.queued_test_%d.", d.HTTPAddr().Port)
	sub := subscribe(t, d, "t", "c")
	pub := dial(t, d)
	for range 3 {
		pub.cmd("PUB t", []byte("four"))
		pub.expectOK()
	}
	sub.cmd("RDY 1")
	m := sub.message()
	sub.cmd("RDY 0") // before the FIN: the other two stay queued
	sub.cmd("FIN " + m.id)

	sink.readUntil("3 messages, 1 finished", func() bool {
		msgs, settled := sink.total("topic.t.message_count")
		chanMsgs, chanSettled := sink.total("topic.t.channel.c.message_count")
		return msgs == 3 && settled && chanMsgs == 3 && chanSettled &&
			sink.gauges["topic.t.channel.c.depth"] == 2 && sink.gauges["topic.t.channel.c.in_flight_count"] == 0 &&
			sink.gauges["topic.t.channel.c.e2e_processing_latency_99"] > 0 && sink.gauges["mem.heap_objects"] > 0
	})
	if bytes, _ := sink.total("topic.t.message_bytes"); bytes != 12 {
		t.Errorf("topic.t.message_bytes adds up to %d, want 12", bytes)
	}
	for name, want := range map[string]int64{"topic.t.depth": 0, "topic.t.backend_depth": 0,
		"topic.t.channel.c.clients": 1, "topic.t.channel.c.deferred_count": 0, "topic.t.channel.c.backend_depth": 0} {
		if got, ok := sink.gauges[name]; !ok || got != want {
			t.Errorf("gauge %s = %d (sent: %v), want %d", name, got, ok, want)
		}
	}
	for _, name := range []string{"topic.t.e2e_processing_latency_99", "topic.t.e2e_processing_latency_50",
		"topic.t.channel.c.e2e_processing_latency_50", "mem.heap_idle_bytes", "mem.heap_in_use_bytes",
		"mem.heap_released_bytes", "mem.gc_pause_usec_100", "mem.gc_pause_usec_99", "mem.gc_pause_usec_95", "mem.next_gc_bytes"} {
		if _, ok := sink.gauges[name]; !ok {
			t.Errorf("gauge %s never sent", name)
		}
	}
	for _, name := range []string{"topic.t.channel.c.requeue_count", "topic.t.channel.c.timeout_count", "mem.gc_runs"} {
		if len(sink.counters[name]) == 0 {
			t.Errorf("counter %s never sent", name)
		}
	}
}

// --statsd-mem-stats=false sends no mem.* metrics, and
// --statsd-exclude-ephemeral no ephemeral topic or channel; a prefix
// without %s is used as given, with a final dot.
func TestStatsdMemStatsOffAndEphemeralExcluded(t *testing.T) {
	t.Parallel()
	sink := newStatsdSink(t)
	sink.packetSize = 508
	sink.prefix = "app.queued."
	d := startDaemon(t, func(o *Options) {
		o.StatsdAddress = sink.addr()
		o.StatsdInterval = 20 * time.Millisecond
		o.StatsdPrefix = "app.queued"
		o.StatsdMemStats = false
		o.StatsdExcludeEphemeral = true
	})
	httpPost(t, d, "/topic/create?topic=a%23ephemeral", nil).expect(t, 200, "")
	httpPost(t, d, "/topic/create?topic=t", nil).expect(t, 200, "")
	subscribe(t, d, "t", "c#ephemeral")
	subscribe(t, d, "t", "d")
	// Topics and channels go in name order and memory last: d's first
	// line seen twice means a whole push with every topic and channel (and
	// the start of the next) was read.
	sink.readUntil("two pushes", func() bool { return len(sink.counters["topic.t.channel.d.message_count"]) >= 2 })
	for name := range sink.gauges {
		if strings.HasPrefix(name, "mem.") || strings.Contains(name, "ephemeral") {
			t.Errorf("sent %s", name)
		}
	}
	if _, ok := sink.gauges["topic.t.channel.d.depth"]; !ok {
		t.Errorf("topic.t.channel.d.depth not sent")
	}
}

func TestStatsdPrefix(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		prefix, addr string
		port         int
		want         string
	}{
		{"nsq.%s", "10.0.0.7", 4151, "nsq.10_0_0_7_4151."},
		{"nsq.%s.", "pod.ns.svc", 4151, "nsq.pod_ns_svc_4151."},
		{"%s.queue", "::1", 80, "[__1]_80.queue."},
		{"plain", "h", 1, "plain."},
		{"", "h", 1, ""},
	} {
		if got := expandStatsdPrefix(c.prefix, c.addr, c.port); got != c.want {
			t.Errorf("prefix %q for %s:%d: %q, want %q", c.prefix, c.addr, c.port, got, c.want)
		}
	}
	d := startDaemon(t, func(o *Options) { o.BroadcastAddress, o.BroadcastHTTPPort = "node", 4151 })
	httpGet(t, d, "/config/statsd_prefix").expect(t, 200, "nsq.node_4151.")
}

// Lines are never split across datagrams; one longer than the limit goes
// alone.
func TestStatsdPackets(t *testing.T) {
	t.Parallel()
	p := &statsdPackets{prefix: "p.", size: 20}
	p.gauge("a", 1)                        // "p.a:1|g\n", 8 bytes
	p.gauge("b", 2)                        // 16
	p.counter("c", 3)                      // 24: next packet
	p.gauge("a_very_long_metric_name", 42) // longer than 20: alone
	p.gauge("d", 4)
	var got []string
	for _, pkt := range p.packets() {
		got = append(got, string(pkt))
	}
	want := []string{"p.a:1|g\np.b:2|g\n", "p.c:3|c\n", "p.a_very_long_metric_name:42|g\n", "p.d:4|g\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("packets %q, want %q", got, want)
	}
}

func TestStatsdFlags(t *testing.T) {
	t.Parallel()
	o, _, err := ParseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.StatsdAddress != "" || o.StatsdPrefix != "nsq.%s" || o.StatsdInterval != time.Minute || !o.StatsdMemStats ||
		o.StatsdUDPPacketSize != 508 || o.StatsdExcludeEphemeral {
		t.Fatalf("defaults %+v, want nsqd's", o)
	}
	if _, _, err := ParseFlags([]string{"--statsd-interval=0s", "--statsd-udp-packet-size=0"}); err != nil {
		t.Fatalf("without --statsd-address the other statsd flags are not used, as in nsqd: %v", err)
	}
	for _, arg := range []string{"--statsd-address=statsd", "--statsd-interval=0s", "--statsd-udp-packet-size=0",
		"--statsd-udp-packet-size=70000"} {
		_, _, err := ParseFlags([]string{"--statsd-address=127.0.0.1:8125", arg})
		flagName := strings.SplitN(arg, "=", 2)[0]
		if err == nil || !strings.Contains(err.Error(), flagName) {
			t.Errorf("%s: error %v does not name %s", arg, err, flagName)
		}
	}
}
