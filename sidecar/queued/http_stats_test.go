package queued

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Key sets of nsqd v1.3.0's /stats objects (omitempty fields left out).
var (
	statsKeys   = []string{"version", "health", "start_time", "topics", "memory", "producers"}
	topicKeys   = []string{"topic_name", "channels", "depth", "backend_depth", "message_count", "message_bytes", "paused", "e2e_processing_latency"}
	channelKeys = []string{"channel_name", "depth", "backend_depth", "in_flight_count", "deferred_count", "message_count",
		"requeue_count", "timeout_count", "client_count", "clients", "paused", "e2e_processing_latency"}
	clientKeys = []string{"client_id", "hostname", "version", "remote_address", "state", "ready_count", "in_flight_count",
		"message_count", "finish_count", "requeue_count", "connect_ts", "sample_rate", "deflate", "snappy", "user_agent",
		"tls", "tls_cipher_suite", "tls_version", "tls_negotiated_protocol", "tls_negotiated_protocol_is_mutual"}
	memKeys = []string{"heap_objects", "heap_idle_bytes", "heap_in_use_bytes", "heap_released_bytes",
		"gc_pause_usec_100", "gc_pause_usec_99", "gc_pause_usec_95", "next_gc_bytes", "gc_total_runs"}
)

type jsonObj = map[string]any

func checkKeys(t *testing.T, what string, o jsonObj, want []string, extra ...string) {
	t.Helper()
	var got []string
	for k := range o {
		got = append(got, k)
	}
	want = append(slices.Clone(want), extra...)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s keys %v, want %v", what, got, want)
	}
}

// statsScenario: a producer published 2 messages to t and 1 to u; a
// consumer of t/c got both and finished one.
func statsScenario(t *testing.T, d *Daemon) {
	pub := dial(t, d)
	pub.identify(map[string]any{"client_id": "pubber", "hostname": "h1", "user_agent": "pub/1"})
	sub := dial(t, d)
	sub.identify(map[string]any{"client_id": "subber", "hostname": "h2", "user_agent": "sub/1"})
	sub.cmd("SUB t c")
	sub.expectOK()
	for _, c := range []string{"PUB t", "PUB t", "PUB u"} {
		pub.cmd(c, []byte("ab"))
		pub.expectOK()
	}
	sub.cmd("RDY 5")
	m := sub.message()
	sub.message()
	sub.cmd("FIN " + m.id)
	ch := mustChannel(t, d, "t", "c")
	waitFor(t, "one finished", func() bool { return ch.inFlightCount() == 1 })
}

func getJSON(t *testing.T, d *Daemon, path string) jsonObj {
	t.Helper()
	r := httpGet(t, d, path)
	if r.code != 200 || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%s: %d %q", path, r.code, r.body)
	}
	var o jsonObj
	if err := json.Unmarshal([]byte(r.body), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestHTTPStatsJSON(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	statsScenario(t, d)
	st := getJSON(t, d, "/stats?format=json")
	checkKeys(t, "stats", st, statsKeys)
	checkKeys(t, "memory", st["memory"].(jsonObj), memKeys)
	if st["version"] != "1.3.0" || st["health"] != "OK" || st["start_time"] != float64(d.startTime.Unix()) {
		t.Fatalf("header fields: %v %v %v", st["version"], st["health"], st["start_time"])
	}
	topics := st["topics"].([]any)
	if len(topics) != 2 || topics[0].(jsonObj)["topic_name"] != "t" || topics[1].(jsonObj)["topic_name"] != "u" {
		t.Fatalf("topics %v", topics)
	}
	tp := topics[0].(jsonObj)
	checkKeys(t, "topic", tp, topicKeys)
	expectFields(t, tp, jsonObj{"depth": 0.0, "backend_depth": 0.0, "message_count": 2.0, "message_bytes": 4.0, "paused": false})
	e2e, _ := json.Marshal(tp["e2e_processing_latency"])
	if string(e2e) != `{"count":0,"percentiles":null}` {
		t.Fatalf("e2e %s", e2e)
	}
	ch := tp["channels"].([]any)[0].(jsonObj)
	checkKeys(t, "channel", ch, channelKeys)
	expectFields(t, ch, jsonObj{"channel_name": "c", "depth": 0.0, "in_flight_count": 1.0, "deferred_count": 0.0,
		"message_count": 2.0, "requeue_count": 0.0, "timeout_count": 0.0, "client_count": 1.0, "paused": false})
	cl := ch["clients"].([]any)[0].(jsonObj)
	checkKeys(t, "client", cl, clientKeys)
	expectFields(t, cl, jsonObj{"client_id": "subber", "hostname": "h2", "version": "V2", "state": 3.0,
		"ready_count": 5.0, "in_flight_count": 1.0, "message_count": 2.0, "finish_count": 1.0, "requeue_count": 0.0,
		"sample_rate": 0.0, "deflate": false, "snappy": false, "user_agent": "sub/1", "tls": false, "tls_version": ""})
	prods := st["producers"].([]any)
	p := prods[0].(jsonObj)
	checkKeys(t, "producer", p, clientKeys, "pub_counts")
	if len(prods) != 1 || p["client_id"] != "pubber" || pubCounts(p) != "t=2,u=1" {
		t.Fatalf("producers %v", prods)
	}
}

// pubCounts renders a client's pub_counts as topic=count,...
func pubCounts(client jsonObj) string {
	var out []string
	for _, pc := range client["pub_counts"].([]any) {
		o := pc.(jsonObj)
		out = append(out, fmt.Sprintf("%s=%v", o["topic"], o["count"]))
	}
	return strings.Join(out, ",")
}

func expectFields(t *testing.T, o jsonObj, want jsonObj) {
	t.Helper()
	for k, v := range want {
		if o[k] != v {
			t.Errorf("%s = %v (%T), want %v", k, o[k], o[k], v)
		}
	}
}

func TestHTTPStatsFilters(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	statsScenario(t, d)
	httpPost(t, d, "/channel/create?topic=t&channel=d", nil).expect(t, 200, "")

	st := getJSON(t, d, "/stats?format=json&topic=t&channel=c&include_clients=false&include_mem=0")
	checkKeys(t, "stats", st, slices.DeleteFunc(slices.Clone(statsKeys), func(k string) bool { return k == "memory" }))
	raw, _ := json.Marshal(st["topics"])
	if st["producers"] != nil || !strings.Contains(string(raw), `"clients":null`) || strings.Count(string(raw), "channel_name") != 1 {
		t.Fatalf("filtered: %s producers %v", raw, st["producers"])
	}
	st = getJSON(t, d, "/stats?format=json&topic=t")
	p := st["producers"].([]any)[0].(jsonObj)
	if pc := pubCounts(p); pc != "t=2" {
		t.Fatalf("pub_counts for topic t: %s", pc)
	}
	if n := len(st["topics"].([]any)[0].(jsonObj)["channels"].([]any)); n != 2 {
		t.Fatalf("%d channels, want 2", n)
	}
	if st = getJSON(t, d, "/stats?format=json&topic=nope"); st["topics"] != nil {
		t.Fatalf("unknown topic: topics %v, want null as nsqd", st["topics"])
	}
	if st = getJSON(t, d, "/stats?format=json&topic=t&channel=nope"); len(st["topics"].([]any)) != 0 {
		t.Fatalf("unknown channel: topics %v, want []", st["topics"])
	}
}

func TestHTTPStatsText(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, nil)
	statsScenario(t, d)
	httpPost(t, d, "/topic/pause?topic=u", nil).expect(t, 200, "")
	r := httpGet(t, d, "/stats")
	if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/stats: %d %v", r.code, r.header)
	}
	for _, re := range []string{
		`^nsqd v1\.3\.0 \(built w/go.*\)\nstart_time \S+\nuptime \S+\n\nHealth: OK\n\nMemory:\n   heap_objects {13}\t\d+\n`,
		`\nTopics:\n   \[t              \] depth: 0     be-depth: 0     msgs: 2        e2e%: \n`,
		`\n      \[c                        \] depth: 0     be-depth: 0     inflt: 1    def: 0    re-q: 0     timeout: 0     msgs: 2        e2e%: \n`,
		`\n        \[V2 h2:\d+ sub/1\s*\] state: 3 inflt: 1    rdy: 5    fin: 1        re-q: 0        msgs: 2        connected: \d+s\n`,
		`\n\*P \[u              \] depth: 1 `,
		`\nProducers:\n   \[V2 h1:\d+ pub/1\s*\] msgs: 3        topics: t=2,u=1 connected: \d+s\n$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.body) {
			t.Errorf("text stats do not match %q:\n%s", re, r.body)
		}
	}
	r = httpGet(t, d, "/stats?topic=nope&include_mem=false&include_clients=false")
	if !strings.HasSuffix(r.body, "Health: OK\n\nTopics: None\n\nProducers: None\n") {
		t.Fatalf("empty text stats:\n%s", r.body)
	}
}
