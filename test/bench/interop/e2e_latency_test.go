package interop

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nsqio/go-nsq"
)

// adminLatency is the part of nsqadmin's /api/topics/<t>[/<c>] answer about
// end-to-end latency: the aggregate over nodes, and each node's own.
type adminLatency struct {
	Nodes []struct {
		Node    string    `json:"node"`
		Latency nodeStats `json:"e2e_processing_latency"`
	} `json:"nodes"`
	Latency nodeStats `json:"e2e_processing_latency"`
}

type nodeStats struct {
	Count       int                  `json:"count"`
	Percentiles []map[string]float64 `json:"percentiles"`
}

// nsqadmin shows the end-to-end latency percentiles of a topic and channel
// served by queued as it does nsqd's: per node, and aggregated over both.
func TestNsqadminShowsE2ELatency(t *testing.T) {
	t.Parallel()
	ours := lookupd(t, "lookupd")
	flags := []string{"--e2e-processing-latency-percentile=0.99,0.5"}
	nsqd := queueDaemon(t, "upstream/nsqd", ours.tcp, flags...)
	q := queueDaemon(t, "queued", ours.tcp, flags...)
	const perDaemon = 5
	for _, d := range []*proc{nsqd, q} {
		mustDo(t, "POST", "http://"+d.http+"/topic/create?topic=lat")
		mustDo(t, "POST", "http://"+d.http+"/channel/create?topic=lat&channel=c")
		for i := range perDaemon {
			if code, body := httpDoBody("POST", "http://"+d.http+"/pub?topic=lat", fmt.Sprint(i)); code != 200 {
				t.Fatalf("pub to %s: %d %s", d.http, code, body)
			}
		}
	}
	consumeAll(t, ours.http, "lat", "c", 2*perDaemon)
	admin := start(t, "upstream/nsqadmin", false, "--lookupd-http-address="+ours.http)
	for _, path := range []string{"/api/topics/lat", "/api/topics/lat/c"} {
		var got adminLatency
		waitFor(t, path+" to count every FIN", 15*time.Second, func() bool {
			code, body := httpDo("GET", "http://"+admin.http+path)
			got = adminLatency{}
			return code == 200 && json.Unmarshal([]byte(body), &got) == nil && got.Latency.Count == 2*perDaemon
		})
		checkLatency(t, path+" aggregate", got.Latency, 2*perDaemon, "average")
		if len(got.Nodes) != 2 {
			t.Fatalf("%s: %d nodes, want nsqd and queued", path, len(got.Nodes))
		}
		for _, n := range got.Nodes {
			checkLatency(t, path+" node "+n.Node, n.Latency, perDaemon, "value")
		}
	}
}

// checkLatency wants count FINs and both percentiles with a plausible
// latency under key: a node's "value", or the aggregate's "average" (of
// the nodes' values, weighted by their counts).
func checkLatency(t *testing.T, what string, l nodeStats, count int, key string) {
	t.Helper()
	if l.Count != count || len(l.Percentiles) != 2 {
		t.Fatalf("%s: count %d, %d percentiles; want %d and 2", what, l.Count, len(l.Percentiles), count)
	}
	for i, want := range []float64{0.99, 0.5} {
		p := l.Percentiles[i]
		if p["quantile"] != want || p[key] <= 0 || p[key] > float64(time.Minute) {
			t.Errorf("%s: percentile %d is %v, want quantile %v with a latency", what, i, p, want)
		}
	}
}

// consumeAll receives n messages of topic/channel from every daemon the
// lookupd knows, finishing each, and stops once all are in.
func consumeAll(t *testing.T, lookupdHTTP, topic, channel string, n int64) {
	t.Helper()
	cfg := nsq.NewConfig()
	cfg.MaxInFlight = 10
	consumer, err := nsq.NewConsumer(topic, channel, cfg)
	if err != nil {
		t.Fatal(err)
	}
	consumer.SetLoggerLevel(nsq.LogLevelError)
	var got atomic.Int64
	consumer.AddHandler(nsq.HandlerFunc(func(*nsq.Message) error { got.Add(1); return nil }))
	if err := consumer.ConnectToNSQLookupd(lookupdHTTP); err != nil {
		t.Fatal(err)
	}
	defer consumer.Stop()
	waitFor(t, fmt.Sprintf("%d messages", n), 15*time.Second, func() bool { return got.Load() >= n })
}
