package nsqapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/controllers/nsqapi"
	"github.com/sidequeue/sidequeue/internal/testutil"
	"github.com/sidequeue/sidequeue/lookup"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

// The client against the real daemons, in process: what the reconcilers
// will do to a Topic and a Channel, step by step.
func TestClientAgainstRealDaemons(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lookupAddr, daemonAddr := startDaemons(t)
	c := nsqapi.NewClient()
	must(t, c.Ping(ctx, lookupAddr))
	must(t, c.Ping(ctx, daemonAddr))
	if err := c.Ping(ctx, "127.0.0.1:1"); err == nil {
		t.Fatal("Ping of a closed port succeeded")
	}

	var nodes []nsqapi.Producer
	waitFor(t, "queued to register", func() bool {
		var err error
		nodes, err = c.Nodes(ctx, lookupAddr)
		return err == nil && len(nodes) == 1
	})
	if got := nodes[0].HTTPAddr(); got != daemonAddr {
		t.Fatalf("node's HTTP address %s, want %s", got, daemonAddr)
	}
	must(t, c.LookupTopic(ctx, lookupAddr, "orders", true))
	must(t, c.LookupChannel(ctx, lookupAddr, "orders", "billing", true))
	must(t, c.Topic(ctx, daemonAddr, "orders", nsqapi.Create))
	must(t, c.Channel(ctx, daemonAddr, "orders", "billing", nsqapi.Create))
	must(t, c.Channel(ctx, daemonAddr, "orders", "billing", nsqapi.Pause))
	publish(t, daemonAddr, "orders", 3)

	var st *nsqapi.TopicStats
	waitFor(t, "the channel to hold 3 messages", func() bool {
		var err error
		st, err = c.Stats(ctx, daemonAddr, "orders")
		return err == nil && st != nil && len(st.Channels) == 1 && st.Channels[0].Depth == 3
	})
	if st.MessageCount != 3 || !st.Channels[0].Paused {
		t.Fatalf("stats %+v", st)
	}
	waitFor(t, "the topic's producer to be looked up", func() bool {
		ps, err := c.Lookup(ctx, lookupAddr, "orders")
		return err == nil && len(ps) == 1 && ps[0].HTTPAddr() == daemonAddr
	})
	if held, err := c.Held(ctx, daemonAddr); err != nil || held != 3 {
		t.Fatalf("held %d, %v; want the channel's 3", held, err)
	}
	if st, err := c.Stats(ctx, daemonAddr, "absent"); err != nil || st != nil {
		t.Fatalf("stats of a topic the daemon lacks: %+v, %v", st, err)
	}
	must(t, c.Topic(ctx, daemonAddr, "orders", nsqapi.Delete))
	if err := c.Topic(ctx, daemonAddr, "orders", nsqapi.Delete); !nsqapi.IsNotFound(err) {
		t.Fatalf("deleting a deleted topic: %v, want not found", err)
	}
	must(t, c.LookupChannel(ctx, lookupAddr, "orders", "billing", false))
	must(t, c.LookupTopic(ctx, lookupAddr, "orders", false))
}

func startDaemons(t *testing.T) (lookupHTTP, daemonHTTP string) {
	lo := lookup.NewOptions()
	lo.TCPAddress, lo.HTTPAddress, lo.BroadcastAddress, lo.LogLevel = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1", "error"
	l, err := lookup.New(lo)
	if err != nil {
		t.Fatal(err)
	}
	go l.Main()
	t.Cleanup(l.Exit)

	qo := queued.NewOptions()
	qo.TCPAddress, qo.HTTPAddress, qo.BroadcastAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1"
	qo.DataPath, qo.LogLevel = t.TempDir(), "error"
	qo.LookupdTCPAddresses = []string{l.TCPAddr().String()}
	d, err := queued.New(qo)
	if err != nil {
		t.Fatal(err)
	}
	go d.Main()
	t.Cleanup(d.Exit)
	return l.HTTPAddr().String(), d.HTTPAddr().String()
}

func publish(t *testing.T, addr, topic string, n int) {
	for range n {
		resp, err := http.Post("http://"+addr+"/pub?topic="+topic, "text/plain", strings.NewReader("m"))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("publish: %v %v", resp, err)
		}
		resp.Body.Close()
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, what, 10*time.Second, cond)
}
