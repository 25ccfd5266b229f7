package lookup

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
	"github.com/sidequeue/sidequeue/internal/version"
)

func TestHTTPShapes(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	a := newProducer(t, l, "a", 1001, 2001)
	a.mustOK(lookupwire.Register("t", "c2"))
	a.mustOK(lookupwire.Register("t", "c1"))
	a.mustOK(lookupwire.Register("u", ""))
	remote := a.conn.LocalAddr().String()
	want := map[string]string{
		"/ping":                "OK",
		"/info":                `{"version":"1.3.0","sidequeue_version":"` + version.String() + `"}`,
		"/topics":              `{"topics":["t","u"]}`,
		"/channels?topic=t":    `{"channels":["c1","c2"]}`,
		"/channels?topic=none": `{"channels":[]}`,
		"/lookup?topic=t": `{"channels":["c1","c2"],"producers":[{"remote_address":"` + remote +
			`","hostname":"a","broadcast_address":"a","tcp_port":1001,"http_port":2001,"version":"1.3.0"}]}`,
		"/nodes": `{"producers":[{"remote_address":"` + remote + `","hostname":"a","broadcast_address":"a",` +
			`"tcp_port":1001,"http_port":2001,"version":"1.3.0","tombstones":[false,false],"topics":["t","u"]}]}`,
	}
	for path, body := range want {
		code, got, hdr := get(t, l, "GET", path)
		if code != 200 || got != body {
			t.Errorf("GET %s: %d %s\nwant %s", path, code, got, body)
		}
		if path != "/ping" && hdr.Get("X-NSQ-Content-Type") != "nsq; version=1.0" {
			t.Errorf("GET %s: X-NSQ-Content-Type %q", path, hdr.Get("X-NSQ-Content-Type"))
		}
	}
}

func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	cases := []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/lookup?topic=none", 404, `{"message":"TOPIC_NOT_FOUND"}`},
		{"GET", "/lookup", 400, `{"message":"MISSING_ARG_TOPIC"}`},
		{"GET", "/lookup?topic=%zz", 400, `{"message":"INVALID_REQUEST"}`},
		{"GET", "/channels", 400, `{"message":"MISSING_ARG_TOPIC"}`},
		{"POST", "/topic/create?topic=a/b", 400, `{"message":"INVALID_ARG_TOPIC"}`},
		{"POST", "/channel/create?topic=t", 400, `{"message":"MISSING_ARG_CHANNEL"}`},
		{"POST", "/channel/create?topic=t&channel=c!", 400, `{"message":"INVALID_ARG_CHANNEL"}`},
		{"POST", "/channel/delete?topic=t&channel=c", 404, `{"message":"CHANNEL_NOT_FOUND"}`},
		{"POST", "/topic/tombstone?topic=t", 400, `{"message":"MISSING_ARG_NODE"}`},
		{"POST", "/lookup?topic=t", 405, `{"message":"METHOD_NOT_ALLOWED"}`},
		{"GET", "/nope", 404, `{"message":"NOT_FOUND"}`},
	}
	for _, tc := range cases {
		code, body, _ := get(t, l, tc.method, tc.path)
		if code != tc.code || body != tc.body {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, code, body, tc.code, tc.body)
		}
	}
}

func TestHTTPCreateDelete(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	for _, p := range []string{"/topic/create?topic=t", "/channel/create?topic=u&channel=c"} {
		if code, body, _ := get(t, l, "POST", p); code != 200 || body != "" {
			t.Fatalf("POST %s: %d %q", p, code, body)
		}
	}
	if _, got, _ := get(t, l, "GET", "/topics"); got != `{"topics":["t","u"]}` {
		t.Fatalf("topics %s", got)
	}
	if _, got, _ := get(t, l, "GET", "/lookup?topic=u"); got != `{"channels":["c"],"producers":[]}` {
		t.Fatalf("lookup %s", got)
	}
	get(t, l, "POST", "/channel/delete?topic=u&channel=c")
	get(t, l, "POST", "/topic/delete?topic=t")
	if _, got, _ := get(t, l, "GET", "/topics"); got != `{"topics":["u"]}` {
		t.Fatalf("topics after delete %s", got)
	}
}

func TestDebugShape(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	a := newProducer(t, l, "a", 1001, 2001)
	a.mustOK(lookupwire.Register("t", "c"))
	_, body, _ := get(t, l, "GET", "/debug")
	var d map[string][]map[string]any
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"client::", "topic:t:", "channel:t:c"} {
		if len(d[key]) != 1 || d[key][0]["tombstoned"] != false || d[key][0]["broadcast_address"] != "a" {
			t.Errorf("%s: %v", key, d[key])
		}
	}
}

// A tombstoned producer is hidden from /lookup for the lifetime, shown as
// tombstoned in /nodes, and comes back after.
func TestTombstoneHidesForLifetime(t *testing.T) {
	t.Parallel()
	l := start(t, func(o *Options) { o.TombstoneLifetime = 300 * time.Millisecond })
	a := newProducer(t, l, "a", 1001, 2001)
	b := newProducer(t, l, "b", 1002, 2002)
	a.mustOK(lookupwire.Register("t", ""))
	b.mustOK(lookupwire.Register("t", ""))
	if code, _, _ := get(t, l, "POST", "/topic/tombstone?topic=t&node=a:2001"); code != 200 {
		t.Fatal(code)
	}
	got := lookupPorts(t, l, "t")
	if len(got) != 1 || got[0] != 1002 {
		t.Fatalf("lookup while tombstoned: %v", got)
	}
	_, nodes, _ := get(t, l, "GET", "/nodes")
	if !strings.Contains(nodes, `"tombstones":[true]`) {
		t.Fatalf("nodes: %s", nodes)
	}
	waitFor(t, "tombstone to expire", 5*time.Second, func() bool {
		return len(lookupPorts(t, l, "t")) == 2
	})
}

// A producer that stops pinging drops out of /lookup and /nodes, keeping
// its registrations, and is back as soon as it pings.
func TestInactiveProducerHidden(t *testing.T) {
	t.Parallel()
	l := start(t, func(o *Options) { o.InactiveProducerTimeout = 200 * time.Millisecond })
	a := newProducer(t, l, "a", 1001, 2001)
	a.mustOK(lookupwire.Register("t", ""))
	if got := lookupPorts(t, l, "t"); len(got) != 1 {
		t.Fatalf("lookup: %v", got)
	}
	waitFor(t, "producer to go inactive", 5*time.Second, func() bool {
		return len(lookupPorts(t, l, "t")) == 0
	})
	if _, nodes, _ := get(t, l, "GET", "/nodes"); nodes != `{"producers":[]}` {
		t.Fatalf("nodes: %s", nodes)
	}
	a.mustOK(lookupwire.Ping())
	if got := lookupPorts(t, l, "t"); len(got) != 1 {
		t.Fatalf("lookup after PING: %v", got)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	l := start(t, nil)
	a := newProducer(t, l, "a", 1001, 2001)
	a.mustOK(lookupwire.Register("t", "c"))
	get(t, l, "GET", "/lookup?topic=t")
	_, body, _ := get(t, l, "GET", "/metrics")
	for _, line := range []string{"lookupd_producers 1", "lookupd_topics 1", "lookupd_channels 1",
		"lookupd_registrations 2", "lookupd_lookups_total 1", "# TYPE lookupd_lookups_total counter"} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, body)
		}
	}
}
