package queued

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// GET /metrics: Prometheus text exposition format 0.0.4, written by hand.
// Series are labelled topic and channel, named queued_*.

type metricKind struct{ name, typ, help string }

var (
	mTopicDepth    = metricKind{"queued_topic_depth", "gauge", "Messages in the topic not yet copied to its channels, in memory and on disk."}
	mTopicBackend  = metricKind{"queued_topic_backend_depth", "gauge", "Messages of the topic on disk."}
	mTopicMessages = metricKind{"queued_topic_messages_total", "counter", "Messages published to the topic."}
	mTopicBytes    = metricKind{"queued_topic_message_bytes_total", "counter", "Bytes of message bodies published to the topic."}
	mTopicPaused   = metricKind{"queued_topic_paused", "gauge", "1 if the topic is paused."}
	mTopicDisk     = metricKind{"queued_topic_disk_bytes", "gauge", "Bytes of the topic's disk queue files."}
	mChanDepth     = metricKind{"queued_channel_depth", "gauge", "Messages waiting in the channel for a consumer, in memory and on disk."}
	mChanBackend   = metricKind{"queued_channel_backend_depth", "gauge", "Messages of the channel on disk."}
	mChanInFlight  = metricKind{"queued_channel_in_flight", "gauge", "Messages delivered to a consumer and not yet finished."}
	mChanDeferred  = metricKind{"queued_channel_deferred", "gauge", "Messages deferred (DPUB, REQ with a delay) and not yet due."}
	mChanMessages  = metricKind{"queued_channel_messages_total", "counter", "Messages the channel received from its topic."}
	mChanRequeues  = metricKind{"queued_channel_requeues_total", "counter", "Messages requeued by consumers (REQ)."}
	mChanTimeouts  = metricKind{"queued_channel_timeouts_total", "counter", "In-flight messages that timed out and were requeued."}
	mChanClients   = metricKind{"queued_channel_clients", "gauge", "Consumers subscribed to the channel."}
	mChanPaused    = metricKind{"queued_channel_paused", "gauge", "1 if the channel is paused."}
	mChanDisk      = metricKind{"queued_channel_disk_bytes", "gauge", "Bytes of the channel's disk queue files."}
	mDiskBytes     = metricKind{"queued_disk_bytes", "gauge", "Bytes of all disk queue files of this daemon."}
	mDiskDamaged   = metricKind{"queued_disk_damaged_records_total", "counter", "Runs of damaged bytes skipped by the disk queues (torn writes, bit rot)."}
	mDiskDmgBytes  = metricKind{"queued_disk_damaged_bytes_total", "counter", "Bytes skipped by the disk queues as damaged."}
	mClients       = metricKind{"queued_clients", "gauge", "Connected TCP clients."}
	mTopics        = metricKind{"queued_topics", "gauge", "Topics on this daemon."}
	mDraining      = metricKind{"queued_draining", "gauge", "1 while the daemon drains and refuses publishes."}
	mStartTime     = metricKind{"queued_start_time_seconds", "gauge", "When the daemon started, in Unix seconds."}
)

// metricSample is one series of a metric.
type metricSample struct {
	labels string
	value  float64
}

// metricsWriter groups samples by metric, each group under its HELP and
// TYPE lines, in the order metrics are first used.
type metricsWriter struct {
	order   []metricKind
	samples map[string][]metricSample
}

func (m *metricsWriter) add(k metricKind, labels string, v float64) {
	if m.samples == nil {
		m.samples = map[string][]metricSample{}
	}
	if _, ok := m.samples[k.name]; !ok {
		m.order = append(m.order, k)
	}
	m.samples[k.name] = append(m.samples[k.name], metricSample{labels, v})
}

func (m *metricsWriter) bytes() []byte {
	var b bytes.Buffer
	for _, k := range m.order {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", k.name, k.help, k.name, k.typ)
		for _, s := range m.samples[k.name] {
			fmt.Fprintf(&b, "%s%s %s\n", k.name, s.labels, formatValue(s.value))
		}
	}
	return b.Bytes()
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// metricLabels renders name="value" pairs, values escaped as the format wants.
func metricLabels(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+`="`+labelEscaper.Replace(kv[i+1])+`"`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func boolMetric(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *httpServer) serveMetrics(w http.ResponseWriter, r *http.Request) {
	st := s.d.getStats("", "", false)
	var m metricsWriter
	var disk, damaged, damagedBytes int64
	for _, t := range st.Topics {
		tl := metricLabels("topic", t.TopicName)
		m.add(mTopicDepth, tl, float64(t.Depth))
		m.add(mTopicBackend, tl, float64(t.BackendDepth))
		m.add(mTopicMessages, tl, float64(t.MessageCount))
		m.add(mTopicBytes, tl, float64(t.MessageBytes))
		m.add(mTopicPaused, tl, boolMetric(t.Paused))
		m.add(mTopicDisk, tl, float64(t.disk.DiskBytes))
		disk, damaged, damagedBytes = disk+t.disk.DiskBytes, damaged+t.disk.DamagedRecords, damagedBytes+t.disk.DamagedBytes
		for _, c := range t.Channels {
			addChannelMetrics(&m, t.TopicName, c)
			disk, damaged, damagedBytes = disk+c.disk.DiskBytes, damaged+c.disk.DamagedRecords, damagedBytes+c.disk.DamagedBytes
		}
	}
	m.add(mDiskBytes, "", float64(disk))
	m.add(mDiskDamaged, "", float64(damaged))
	m.add(mDiskDmgBytes, "", float64(damagedBytes))
	m.add(mClients, "", float64(s.d.clients.count()))
	m.add(mTopics, "", float64(len(st.Topics)))
	m.add(mDraining, "", boolMetric(s.d.drain.draining()))
	m.add(mStartTime, "", float64(s.d.startTime.Unix()))
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(m.bytes())
}

func addChannelMetrics(m *metricsWriter, topic string, c channelStats) {
	cl := metricLabels("topic", topic, "channel", c.ChannelName)
	m.add(mChanDepth, cl, float64(c.Depth))
	m.add(mChanBackend, cl, float64(c.BackendDepth))
	m.add(mChanInFlight, cl, float64(c.InFlightCount))
	m.add(mChanDeferred, cl, float64(c.DeferredCount))
	m.add(mChanMessages, cl, float64(c.MessageCount))
	m.add(mChanRequeues, cl, float64(c.RequeueCount))
	m.add(mChanTimeouts, cl, float64(c.TimeoutCount))
	m.add(mChanClients, cl, float64(c.ClientCount))
	m.add(mChanPaused, cl, boolMetric(c.Paused))
	m.add(mChanDisk, cl, float64(c.disk.DiskBytes))
}
