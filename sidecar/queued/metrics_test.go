package queued

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// metricValue finds the value of one series in an exposition.
func metricValue(body, series string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	statsScenario(t, d)
	r := httpGet(t, d, "/metrics")
	if r.code != 200 || r.header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("/metrics: %d %v", r.code, r.header)
	}
	tc := `{topic="t",channel="c"}`
	for series, want := range map[string]float64{
		`queued_topic_depth{topic="t"}`:               0,
		`queued_topic_depth{topic="u"}`:               1,
		`queued_topic_backend_depth{topic="u"}`:       0,
		`queued_topic_messages_total{topic="t"}`:      2,
		`queued_topic_message_bytes_total{topic="t"}`: 4,
		`queued_topic_paused{topic="t"}`:              0,
		"queued_channel_depth" + tc:                   0,
		"queued_channel_in_flight" + tc:               1,
		"queued_channel_deferred" + tc:                0,
		"queued_channel_messages_total" + tc:          2,
		"queued_channel_requeues_total" + tc:          0,
		"queued_channel_timeouts_total" + tc:          0,
		"queued_channel_clients" + tc:                 1,
		"queued_clients":                              2,
		"queued_topics":                               2,
		"queued_draining":                             0,
	} {
		if got, ok := metricValue(r.body, series); !ok || got != want {
			t.Errorf("%s = %v (found %v), want %v", series, got, ok, want)
		}
	}
	for _, line := range []string{
		"# TYPE queued_topic_messages_total counter\n",
		"# TYPE queued_channel_in_flight gauge\n",
		"# HELP queued_channel_depth ",
	} {
		if !strings.Contains(r.body, line) {
			t.Errorf("no %q in\n%s", line, r.body)
		}
	}
	if strings.Count(r.body, "# TYPE queued_channel_depth ") != 1 {
		t.Error("TYPE line repeated")
	}
}

// With no memory queue every message goes through the disk queues, whose
// depth and size the metrics report.
func TestMetricsDisk(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.MemQueueSize = 0 })
	httpPost(t, d, "/topic/create?topic=t", nil).expect(t, 200, "")
	httpPost(t, d, "/channel/create?topic=t&channel=c", nil).expect(t, 200, "")
	httpPost(t, d, "/mpub?topic=t", []byte("a\nb\nc\nd")).expect(t, 200, "OK")
	tp, _ := d.GetExistingTopic("t")
	ch := mustChannel(t, d, "t", "c")
	var body string
	waitFor(t, "metrics matching the channel", func() bool {
		body = httpGet(t, d, "/metrics").body
		depth, _ := metricValue(body, `queued_channel_depth{topic="t",channel="c"}`)
		backend, _ := metricValue(body, `queued_channel_backend_depth{topic="t",channel="c"}`)
		return tp.Depth() == 0 && depth >= 2 && depth == float64(ch.Depth()) && backend == float64(ch.backend.Depth())
	})
	if v, _ := metricValue(body, `queued_channel_disk_bytes{topic="t",channel="c"}`); v <= 0 {
		t.Errorf("channel disk bytes %v", v)
	}
	total, _ := metricValue(body, "queued_disk_bytes")
	topic, _ := metricValue(body, `queued_topic_disk_bytes{topic="t"}`)
	channel, _ := metricValue(body, `queued_channel_disk_bytes{topic="t",channel="c"}`)
	if total != topic+channel {
		t.Errorf("queued_disk_bytes %v, want %v + %v", total, topic, channel)
	}
}

func TestMetricLabelsEscaped(t *testing.T) {
	t.Parallel()
	got := metricLabels("topic", "a\"b\\c\nd", "channel", "x")
	if want := `{topic="a\"b\\c\nd",channel="x"}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if s := formatValue(1e6); s != "1000000" {
		t.Fatal(fmt.Sprint("formatValue: ", s))
	}
}
