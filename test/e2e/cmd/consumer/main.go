// Command consumer is the end-to-end tests' consuming app: a go-nsq
// consumer that finds the queue daemons through lookupd (the Lookup's
// Service), as any NSQ consumer does, and records every message it
// receives by its publisher and sequence number (msgs.Body), counting
// duplicates apart: NSQ delivers at least once. GET /stats answers
// msgs.ConsumerStats. SIGTERM or SIGINT stops it; it exits 0.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	gonsq "github.com/nsqio/go-nsq"

	"github.com/sidequeue/sidequeue/test/e2e/msgs"
)

type options struct {
	lookupds             []string
	topic, channel, addr string
	maxInFlight          int
	lookupdPollInterval  time.Duration
}

func main() {
	o := parseFlags()
	if err := run(o); err != nil {
		log.Fatalf("consumer: %v", err)
	}
}

func parseFlags() options {
	var o options
	flag.Func("lookupd-http-address", "a lookupd HTTP address (repeatable; comma-separated lists too), e.g. the Lookup's Service: default.<ns>.svc:4161", func(s string) error {
		for _, a := range strings.Split(s, ",") {
			if a = strings.TrimSpace(a); a != "" {
				o.lookupds = append(o.lookupds, a)
			}
		}
		return nil
	})
	flag.StringVar(&o.topic, "topic", "e2e", "the topic to consume")
	flag.StringVar(&o.channel, "channel", "e2e", "the channel to consume")
	flag.StringVar(&o.addr, "http-address", ":8080", "where GET /stats is served")
	flag.IntVar(&o.maxInFlight, "max-in-flight", 100, "go-nsq's MaxInFlight")
	// go-nsq's default (60 s) would leave a drain Job's daemon unseen for
	// a minute; a test wants it found within seconds.
	flag.DurationVar(&o.lookupdPollInterval, "lookupd-poll-interval", 5*time.Second, "how often lookupd is asked for the topic's daemons")
	flag.Parse()
	return o
}

// consumer is the recorded state, read by /stats while it grows.
type consumer struct {
	mu    sync.Mutex
	stats msgs.ConsumerStats
}

func run(o options) error {
	if len(o.lookupds) == 0 {
		return errMissing("-lookupd-http-address")
	}
	c := &consumer{stats: msgs.ConsumerStats{Topic: o.topic, Channel: o.channel, Received: map[string]msgs.Set{}}}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(c.serveStats)}
	go srv.Serve(ln)
	defer srv.Close()

	cfg := gonsq.NewConfig()
	cfg.MaxInFlight = o.maxInFlight
	cfg.LookupdPollInterval = o.lookupdPollInterval
	cons, err := gonsq.NewConsumer(o.topic, o.channel, cfg)
	if err != nil {
		return err
	}
	cons.SetLogger(log.New(os.Stderr, "", log.LstdFlags), gonsq.LogLevelWarning)
	cons.AddHandler(gonsq.HandlerFunc(c.handle))
	if err := cons.ConnectToNSQLookupds(o.lookupds); err != nil {
		return err
	}
	log.Printf("consumer: %s/%s through %v, stats on http://%s/stats", o.topic, o.channel, o.lookupds, ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
	cons.Stop()
	<-cons.StopChan
	s := c.snapshot()
	log.Printf("consumer: stopped: %d distinct, %d duplicates", s.Distinct, s.Duplicates)
	return nil
}

// handle records a message; it is finished (FIN) on return, malformed or not.
func (c *consumer) handle(m *gonsq.Message) error {
	source, seq, err := msgs.Parse(m.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.stats.Malformed++
		return nil
	}
	set := c.stats.Received[source]
	if set.Add(seq) {
		c.stats.Distinct++
	} else {
		c.stats.Duplicates++
	}
	c.stats.Received[source] = set
	return nil
}

// snapshot is a copy of the stats that /stats may encode unlocked.
func (c *consumer) snapshot() msgs.ConsumerStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Received = make(map[string]msgs.Set, len(c.stats.Received))
	for src, set := range c.stats.Received {
		s.Received[src] = set.Clone()
	}
	return s
}

func (c *consumer) serveStats(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/stats" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(c.snapshot())
}

type errMissing string

func (e errMissing) Error() string { return string(e) + " is required" }
