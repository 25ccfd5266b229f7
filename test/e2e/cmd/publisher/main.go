// Command publisher is the end-to-end tests' publishing app: it publishes
// numbered messages (msgs.Body: its pod's name and a sequence number) to
// the queue daemon at $NSQD_TCP_ADDRESS, which the injected sidecar
// serves, with go-nsq, as any NSQ app would, and records which publishes
// were acknowledged. GET /stats answers msgs.PublisherStats, so a test
// can tell exactly which acknowledged messages a consumer never received.
//
// On SIGTERM or SIGINT it stops publishing and exits 0. With -linger it
// first waits, up to that long, for one GET /stats that sees the final
// numbers: a pod being replaced by a rolling update is read to its end.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	gonsq "github.com/nsqio/go-nsq"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/test/e2e/msgs"
)

type options struct {
	nsqd, topic, source, httpAddr string
	count                         uint64
	rate                          float64
	retryWait, linger             time.Duration
}

func main() {
	o := parseFlags()
	if err := run(o); err != nil {
		log.Fatalf("publisher: %v", err)
	}
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.nsqd, "nsqd-tcp-address", envOr(v1alpha1.EnvQueueTCPAddress, "127.0.0.1:4150"), "the queue daemon to publish to")
	flag.StringVar(&o.topic, "topic", "e2e", "the topic to publish to")
	flag.StringVar(&o.source, "source", envOr("POD_NAME", hostname()), "the name in every body; distinct per publisher process")
	flag.StringVar(&o.httpAddr, "http-address", ":8080", "where GET /stats is served")
	flag.Uint64Var(&o.count, "count", 0, "publish this many messages, then idle until stopped; 0: publish until stopped")
	flag.Float64Var(&o.rate, "rate", 0, "publishes per second at most; 0: as fast as acknowledged")
	flag.DurationVar(&o.retryWait, "retry-wait", 100*time.Millisecond, "the pause after a failed publish, so a daemon that is down is not flooded")
	flag.DurationVar(&o.linger, "linger", 0, "after stopping, wait up to this long for GET /stats to read the final numbers")
	flag.Parse()
	return o
}

// publisher is the recorded state, read by /stats while it grows.
type publisher struct {
	mu    sync.Mutex
	stats msgs.PublisherStats
	// finalRead is closed once /stats has answered with Done set.
	finalRead chan struct{}
	readOnce  sync.Once
}

func run(o options) error {
	p := &publisher{stats: msgs.PublisherStats{Source: o.source, Topic: o.topic}, finalRead: make(chan struct{})}
	ln, err := net.Listen("tcp", o.httpAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(p.serveStats)}
	go srv.Serve(ln)
	// Shutdown, not Close: the reply that carried the final numbers may
	// still be on its way out when main returns.
	defer shutdown(srv)
	log.Printf("publisher %s: topic %s on %s, stats on http://%s/stats", o.source, o.topic, o.nsqd, ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := p.publish(ctx, o); err != nil {
		return err
	}
	p.finish()
	if o.count > 0 {
		// Done before being told to stop: serve the numbers until then,
		// since a container that exits is restarted and would publish again.
		<-ctx.Done()
	}
	if o.linger > 0 {
		select {
		case <-p.finalRead:
		case <-time.After(o.linger):
		}
	}
	s := p.snapshot()
	log.Printf("publisher %s: stopped: %d acknowledged, %d failed", o.source, s.Acked, s.Failed)
	return nil
}

// publish sends messages until ctx ends or the count is reached.
func (p *publisher) publish(ctx context.Context, o options) error {
	cfg := gonsq.NewConfig()
	prod, err := gonsq.NewProducer(o.nsqd, cfg)
	if err != nil {
		return err
	}
	defer prod.Stop()
	prod.SetLogger(log.New(os.Stderr, "", log.LstdFlags), gonsq.LogLevelWarning)
	var tick <-chan time.Time
	if o.rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / o.rate))
		defer t.Stop()
		tick = t.C
	}
	for seq := uint64(0); o.count == 0 || seq < o.count; seq++ {
		if tick != nil && !wait(ctx, tick) {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		err := prod.Publish(o.topic, msgs.Body(o.source, seq))
		p.record(seq, err)
		if err != nil && !pause(ctx, o.retryWait) {
			return nil
		}
	}
	return nil
}

func (p *publisher) record(seq uint64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		p.stats.AckedIDs.Add(seq)
		p.stats.Acked++
		return
	}
	p.stats.FailedIDs.Add(seq)
	p.stats.Failed++
	if p.stats.FirstError == "" {
		p.stats.FirstError = fmt.Sprintf("seq %d: %v", seq, err)
	}
}

func (p *publisher) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Done = true
}

// snapshot is a copy of the stats that /stats may encode unlocked.
func (p *publisher) snapshot() msgs.PublisherStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.AckedIDs, s.FailedIDs = s.AckedIDs.Clone(), s.FailedIDs.Clone()
	return s
}

func (p *publisher) serveStats(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/stats" {
		http.NotFound(w, r)
		return
	}
	s := p.snapshot()
	w.Header().Set("Content-Type", "application/json")
	// The final numbers count as read only once they left for the reader.
	if err := json.NewEncoder(w).Encode(s); err == nil && s.Done {
		w.(http.Flusher).Flush()
		p.readOnce.Do(func() { close(p.finalRead) })
	}
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close()
	}
}

// wait waits for a tick; false when ctx ended first.
func wait(ctx context.Context, tick <-chan time.Time) bool {
	select {
	case <-tick:
		return true
	case <-ctx.Done():
		return false
	}
}

// pause waits d; false when ctx ended first.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "publisher"
	}
	return h
}
