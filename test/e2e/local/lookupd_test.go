// Package local runs the daemons together in one process, as a laptop or a
// pod would run them, to test what neither package can test alone: queued
// registering with lookupd, and lookupd replicas coming and going.
package local

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/testutil"
	"github.com/sidequeue/sidequeue/lookup"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

func startLookupd(t *testing.T) *lookup.Lookupd {
	t.Helper()
	o := lookup.NewOptions()
	o.TCPAddress, o.HTTPAddress = "127.0.0.1:0", "127.0.0.1:0"
	o.BroadcastAddress = "127.0.0.1"
	o.LogLevel = "error"
	l, err := lookup.New(o)
	if err != nil {
		t.Fatal(err)
	}
	go l.Main()
	t.Cleanup(l.Exit)
	return l
}

// resolver answers one name with "IP:port" entries the test changes, as a
// headless Service's DNS answers change when lookupd pods are replaced.
type resolver struct {
	mu    sync.Mutex
	addrs []string
}

func (r *resolver) set(ls ...*lookup.Lookupd) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addrs = nil
	for _, l := range ls {
		r.addrs = append(r.addrs, l.TCPAddr().String())
	}
}

func (r *resolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if host != "lookupd.test" {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return slices.Clone(r.addrs), nil
}

func startQueued(t *testing.T, res *resolver, lookupds ...string) *queued.Daemon {
	t.Helper()
	return runQueued(t, queuedOptions(t, res, lookupds...))
}

// queuedOptions are startQueued's: loopback ports, a fresh data path,
// registration with lookupds (names resolved by res, if given).
func queuedOptions(t *testing.T, res *resolver, lookupds ...string) *queued.Options {
	t.Helper()
	o := queued.NewOptions()
	o.TCPAddress, o.HTTPAddress = "127.0.0.1:0", "127.0.0.1:0"
	o.BroadcastAddress = "127.0.0.1"
	o.DataPath = t.TempDir()
	o.LogLevel = "error"
	o.LookupdTCPAddresses = lookupds
	o.LookupResolveInterval = 50 * time.Millisecond
	if res != nil {
		o.LookupResolver = res
	}
	return o
}

func runQueued(t *testing.T, o *queued.Options) *queued.Daemon {
	t.Helper()
	d, err := queued.New(o)
	if err != nil {
		t.Fatal(err)
	}
	go d.Main()
	t.Cleanup(d.Exit)
	return d
}

type lookupAnswer struct {
	Channels  []string `json:"channels"`
	Producers []struct {
		BroadcastAddress string `json:"broadcast_address"`
		TCPPort          int    `json:"tcp_port"`
	} `json:"producers"`
}

// lookupOf asks l for topic; ok is false unless the answer is a 200.
func lookupOf(l *lookup.Lookupd, topic string) (a lookupAnswer, ok bool) {
	resp, err := http.Get("http://" + l.HTTPAddr().String() + "/lookup?topic=" + topic)
	if err != nil {
		return a, false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return a, resp.StatusCode == 200 && json.Unmarshal(body, &a) == nil
}

// finds reports whether l's /lookup for topic lists d.
func finds(l *lookup.Lookupd, d *queued.Daemon, topic string) bool {
	a, ok := lookupOf(l, topic)
	if !ok {
		return false
	}
	for _, p := range a.Producers {
		if p.TCPPort == d.TCPAddr().Port && p.BroadcastAddress == "127.0.0.1" {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, what, d, cond)
}

// post calls queued's HTTP API: topics are made over HTTP, as clients
// make them.
func post(t *testing.T, d *queued.Daemon, path string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Post("http://"+d.HTTPAddr().String()+path, "", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("POST %s: %s", path, resp.Status)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("POST %s: %v", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func createTopic(t *testing.T, d *queued.Daemon, topic, channel string) {
	t.Helper()
	post(t, d, "/topic/create?topic="+topic)
	if channel != "" {
		post(t, d, "/channel/create?topic="+topic+"&channel="+channel)
	}
}

func TestQueuedRegistersWithLookupd(t *testing.T) {
	t.Parallel()
	l := startLookupd(t)
	d := startQueued(t, nil, l.TCPAddr().String())
	createTopic(t, d, "orders", "billing")
	waitFor(t, "queued in /lookup", 5*time.Second, func() bool { return finds(l, d, "orders") })
	waitFor(t, "channel in /lookup", 5*time.Second, func() bool {
		a, _ := lookupOf(l, "orders")
		return slices.Equal(a.Channels, []string{"billing"})
	})
	post(t, d, "/topic/delete?topic=orders")
	waitFor(t, "queued gone from /lookup", 5*time.Second, func() bool { return !finds(l, d, "orders") })
}

// Two lookupd replicas behind one name; one is replaced by a new pod at a
// new address. queued, which re-resolves the name, registers everything
// with the new one within its re-resolve interval.
func TestLookupdReplicaReplaced(t *testing.T) {
	t.Parallel()
	a, b := startLookupd(t), startLookupd(t)
	res := &resolver{}
	res.set(a, b)
	d := startQueued(t, res, "lookupd.test:4160")
	for i := range 3 {
		createTopic(t, d, "t"+strconv.Itoa(i), "c")
	}
	for _, l := range []*lookup.Lookupd{a, b} {
		waitFor(t, "queued on both replicas", 5*time.Second, func() bool { return finds(l, d, "t2") })
	}
	c := startLookupd(t)
	res.set(a, c)
	b.Exit()
	start := time.Now()
	waitFor(t, "queued's topics on the new replica", 5*time.Second, func() bool {
		var topics struct{ Topics []string }
		resp, err := http.Get("http://" + c.HTTPAddr().String() + "/topics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&topics)
		return slices.Equal(topics.Topics, []string{"t0", "t1", "t2"})
	})
	if !finds(c, d, "t1") {
		t.Fatal("new replica's /lookup does not find queued")
	}
	t.Logf("new replica had queued's topics %s after the switch", time.Since(start))
	if !finds(a, d, "t0") {
		t.Fatal("the replica that stayed lost queued")
	}
}
