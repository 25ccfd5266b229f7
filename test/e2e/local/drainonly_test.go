package local

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gonsq "github.com/nsqio/go-nsq"

	"github.com/sidequeue/sidequeue/sidecar/queued"
)

// The drain Job's daemon: --drain-only on the volume a sidecar left with a
// backlog registers with lookupd as the sidecar did, so consumers that find
// producers through lookupd (go-nsq's ConnectToNSQLookupd) come to it; it
// refuses publishes, exits 0 once they have had everything, says so in its
// summary, and leaves lookupd.
func TestDrainOnlyServesConsumersThatFindItThroughLookupd(t *testing.T) {
	t.Parallel()
	l := startLookupd(t)
	o := queuedOptions(t, nil)
	sidecar := runQueued(t, o)
	createTopic(t, sidecar, "orders", "billing")
	for i := range 100 {
		publish(t, sidecar, fmt.Sprintf("m%03d", i))
	}
	sidecar.Exit()

	logPath := filepath.Join(t.TempDir(), "termination-log")
	job := queuedOptions(t, nil, l.TCPAddr().String())
	job.DataPath, job.DrainOnly, job.TerminationLog = o.DataPath, true, logPath
	d, err := queued.New(job)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Exit)
	exited := make(chan error, 1)
	go func() { exited <- d.Main() }()
	waitFor(t, "the drain-only daemon in /lookup", 5*time.Second, func() bool { return finds(l, d, "orders") })
	resp, err := http.Post("http://"+d.HTTPAddr().String()+"/pub?topic=orders", "", strings.NewReader("late"))
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("publish to a drain-only daemon: %v %v, want 503", resp, err)
	}
	resp.Body.Close()

	got := consumeThroughLookupd(t, l.HTTPAddr().String(), exited)
	if len(got) != 100 {
		t.Fatalf("%d distinct messages consumed, want 100", len(got))
	}
	if b, _ := os.ReadFile(logPath); string(b) != `{"drained":true,"depth":0}`+"\n" {
		t.Fatalf("summary %q", b)
	}
	waitFor(t, "the drained daemon gone from /lookup", 5*time.Second, func() bool { return !finds(l, d, "orders") })
}

func publish(t *testing.T, d *queued.Daemon, body string) {
	t.Helper()
	resp, err := http.Post("http://"+d.HTTPAddr().String()+"/pub?topic=orders", "", strings.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("publish: %v %v", resp, err)
	}
	resp.Body.Close()
}

// consumeThroughLookupd consumes orders/billing from the producers lookupd
// names until the daemon's Main returns (on exited), and returns the
// bodies seen.
func consumeThroughLookupd(t *testing.T, lookupdHTTP string, exited chan error) map[string]bool {
	t.Helper()
	cfg := gonsq.NewConfig()
	cfg.MaxInFlight = 100
	c, err := gonsq.NewConsumer("orders", "billing", cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetLogger(nil, gonsq.LogLevelError)
	var mu sync.Mutex
	got := map[string]bool{}
	c.AddHandler(gonsq.HandlerFunc(func(m *gonsq.Message) error {
		mu.Lock()
		defer mu.Unlock()
		got[string(m.Body)] = true
		return nil
	}))
	if err := c.ConnectToNSQLookupd(lookupdHTTP); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("drain-only Main: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the drain-only daemon did not exit once consumed")
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}
