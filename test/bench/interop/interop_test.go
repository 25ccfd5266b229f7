package interop

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nsqio/go-nsq"
)

func TestUpstreamNsqdRegistersWithOurLookupd(t *testing.T) {
	t.Parallel()
	ours := lookupd(t, "lookupd")
	nsqd := queueDaemon(t, "upstream/nsqd", ours.tcp)
	mustDo(t, "POST", "http://"+nsqd.http+"/topic/create?topic=orders")
	mustDo(t, "POST", "http://"+nsqd.http+"/channel/create?topic=orders&channel=billing")
	tcpPort := `"tcp_port":` + port(nsqd.tcp)
	bodyHas(t, "http://"+ours.http+"/lookup?topic=orders", `"channels":["billing"]`, tcpPort)
	bodyHas(t, "http://"+ours.http+"/nodes", tcpPort, `"topics":["orders"]`, `"tombstones":[false]`)
	bodyHas(t, "http://"+ours.http+"/topics", `"orders"`)
	// nsqd unregisters what it deletes.
	mustDo(t, "POST", "http://"+nsqd.http+"/topic/delete?topic=orders")
	waitFor(t, "nsqd gone from /lookup", 10*time.Second, func() bool {
		_, body := httpDo("GET", "http://"+ours.http+"/lookup?topic=orders")
		// Channels stay registered without producers, as in nsqlookupd.
		return strings.HasSuffix(body, `"producers":[]}`)
	})
}

func TestQueuedRegistersWithUpstreamNsqlookupd(t *testing.T) {
	t.Parallel()
	theirs := lookupd(t, "upstream/nsqlookupd")
	q := queueDaemon(t, "queued", theirs.tcp)
	mustDo(t, "POST", "http://"+q.http+"/topic/create?topic=orders")
	mustDo(t, "POST", "http://"+q.http+"/channel/create?topic=orders&channel=billing")
	bodyHas(t, "http://"+theirs.http+"/lookup?topic=orders", `"billing"`, `"tcp_port":`+port(q.tcp))
	bodyHas(t, "http://"+theirs.http+"/nodes", `"tcp_port":`+port(q.tcp), `"orders"`)
}

// A go-nsq consumer finds an upstream nsqd and a queued through our lookupd
// and consumes from both at once.
func TestConsumerThroughOurLookupd(t *testing.T) {
	t.Parallel()
	ours := lookupd(t, "lookupd")
	nsqd := queueDaemon(t, "upstream/nsqd", ours.tcp)
	q := queueDaemon(t, "queued", ours.tcp)
	for _, d := range []*proc{nsqd, q} {
		mustDo(t, "POST", "http://"+d.http+"/topic/create?topic=mixed")
		mustDo(t, "POST", "http://"+d.http+"/channel/create?topic=mixed&channel=c")
	}
	bodyHas(t, "http://"+ours.http+"/lookup?topic=mixed",
		`"tcp_port":`+port(nsqd.tcp), `"tcp_port":`+port(q.tcp))

	cfg := nsq.NewConfig()
	cfg.LookupdPollInterval = time.Second
	cfg.MaxInFlight = 10 // one RDY per connection: with 1, go-nsq serves one daemon at a time
	consumer, err := nsq.NewConsumer("mixed", "c", cfg)
	if err != nil {
		t.Fatal(err)
	}
	consumer.SetLoggerLevel(nsq.LogLevelError)
	var mu sync.Mutex
	got := map[string]bool{}
	consumer.AddHandler(nsq.HandlerFunc(func(m *nsq.Message) error {
		mu.Lock()
		defer mu.Unlock()
		got[string(m.Body)] = true
		return nil
	}))
	if err := consumer.ConnectToNSQLookupd(ours.http); err != nil {
		t.Fatal(err)
	}
	defer consumer.Stop()
	publish(t, nsqd.http, "from-nsqd")
	publish(t, q.http, "from-queued")
	defer func() { t.Logf("got %v, stats %+v", got, consumer.Stats()) }()
	waitFor(t, "messages from both daemons", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got["from-nsqd"] && got["from-queued"]
	})
	if n := consumer.Stats().Connections; n != 2 {
		t.Fatalf("consumer has %d connections, want 2", n)
	}
}

func publish(t *testing.T, httpAddr, body string) {
	t.Helper()
	code, resp := httpDoBody("POST", "http://"+httpAddr+"/pub?topic=mixed", body)
	if code != 200 {
		t.Fatalf("pub to %s: %d %s", httpAddr, code, resp)
	}
}

// nsqadmin, pointed at our lookupd, shows the topics and nodes.
func TestNsqadminOnOurLookupd(t *testing.T) {
	t.Parallel()
	ours := lookupd(t, "lookupd")
	nsqd := queueDaemon(t, "upstream/nsqd", ours.tcp)
	q := queueDaemon(t, "queued", ours.tcp)
	for _, d := range []*proc{nsqd, q} {
		mustDo(t, "POST", "http://"+d.http+"/topic/create?topic=shown")
		mustDo(t, "POST", "http://"+d.http+"/channel/create?topic=shown&channel=c")
	}
	bodyHas(t, "http://"+ours.http+"/lookup?topic=shown",
		`"tcp_port":`+port(nsqd.tcp), `"tcp_port":`+port(q.tcp))
	admin := start(t, "upstream/nsqadmin", false, "--lookupd-http-address="+ours.http)
	base := "http://" + admin.http
	bodyHas(t, base+"/api/topics", `"topics":["shown"]`)
	bodyHas(t, base+"/api/nodes", `"tcp_port":`+port(nsqd.tcp), `"tcp_port":`+port(q.tcp))
	bodyHas(t, base+"/api/topics/shown", `"topic_name":"shown"`, `"channel_name":"c"`)
}
