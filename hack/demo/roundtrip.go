package main

import (
	"context"
	"fmt"
	"log"
	"strings"
	"sync"
	"time"

	"github.com/nsqio/go-nsq"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

const (
	perDaemon = 500 // messages published to each daemon
	batches   = 4   // published in this many steps, so that the depth rises visibly
	// consumePace slows the consumer down so that the depth falls over a few
	// seconds, which the status (refreshed every second) can show.
	consumePace = 4 * time.Millisecond
	maxInFlight = 10
)

// channelView is the part of the Channel's status that kubectl shows.
type channelView struct {
	depth     int64
	consumers int32
}

const showEvery = time.Second

func (d *demo) publish(ctx context.Context) error {
	per := perDaemon / batches
	fmt.Printf("==> publishing %d messages to topic %s: %d to each daemon, in %d batches of %d\n",
		perDaemon*len(d.daemons), topic, perDaemon, batches, per)
	d.tally = newTally(d.daemons)
	for _, q := range d.daemons {
		p, err := nsq.NewProducer(q.tcp, nsq.NewConfig())
		if err != nil {
			return fmt.Errorf("producer for %s: %w", q.name, err)
		}
		p.SetLogger(log.New(d.log, "go-nsq producer "+q.name+" ", log.LstdFlags), nsq.LogLevelInfo)
		d.producers = append(d.producers, p)
	}
	sent := 0
	for b := range batches {
		for i, p := range d.producers {
			q := d.daemons[i]
			bodies := make([][]byte, per)
			for j := range bodies {
				bodies[j] = []byte(fmt.Sprintf("order %d via %s", b*per+j+1, q.name))
				d.tally.expect(string(bodies[j]))
			}
			if err := p.MultiPublish(topic, bodies); err != nil {
				return withLogs(fmt.Errorf("publishing to %s: %w", q.name, err), q.name, "demo")
			}
			sent += per
		}
		err := d.watchDepth(ctx, fmt.Sprintf("channel depth %d", sent), func(s v1alpha1.ChannelStatus) error {
			if s.Depth != int64(sent) {
				return fmt.Errorf("channel depth is %d, want %d", s.Depth, sent)
			}
			return nil
		})
		if err != nil {
			return withLogs(err, "manager", "queued-1", "queued-2")
		}
	}
	return nil
}

func (d *demo) consume(ctx context.Context) error {
	fmt.Printf("==> consuming %s/%s through lookupd (ConnectToNSQLookupd %s)\n", topic, channel, lookupHTTP)
	start := time.Now()
	cfg := nsq.NewConfig()
	// Above one per daemon, or go-nsq would hand its single RDY from one
	// connection to the other only every few seconds.
	cfg.MaxInFlight = maxInFlight
	c, err := nsq.NewConsumer(topic, channel, cfg)
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	c.SetLogger(log.New(d.log, "go-nsq consumer ", log.LstdFlags), nsq.LogLevelInfo)
	c.AddHandler(d.tally)
	d.consumer = c
	if err := d.connectConsumer(ctx, c); err != nil {
		return withLogs(err, "demo", "lookupd")
	}
	err = d.watchDepth(ctx, "every message back", func(s v1alpha1.ChannelStatus) error {
		if err := d.tally.complete(); err != nil {
			return err
		}
		if s.Depth != 0 || s.InFlight != 0 {
			return fmt.Errorf("channel depth %d, in flight %d", s.Depth, s.InFlight)
		}
		return nil
	})
	if err == nil {
		err = d.tally.once()
	}
	if err != nil {
		return withLogs(err, "demo", "lookupd", "queued-1", "queued-2")
	}
	fmt.Printf("==> %s, in %.1fs\n", d.tally.summary(), time.Since(start).Seconds())
	return nil
}

// connectConsumer points the consumer at lookupd once lookupd lists both daemons
// for the topic, and waits for it to connect to both.
func (d *demo) connectConsumer(ctx context.Context, c *nsq.Consumer) error {
	err := waitFor(ctx, 10*time.Second, "lookupd to list both daemons for "+topic, d.topicProducers)
	if err != nil {
		return err
	}
	if err := c.ConnectToNSQLookupd(lookupHTTP); err != nil {
		return fmt.Errorf("consumer: ConnectToNSQLookupd %s: %w", lookupHTTP, err)
	}
	return waitFor(ctx, 10*time.Second, "the consumer to connect to both daemons", func(context.Context) error {
		if n := c.Stats().Connections; n != len(d.daemons) {
			return fmt.Errorf("consumer has %d connections, want %d", n, len(d.daemons))
		}
		return nil
	})
}

// topicProducers checks what ConnectToNSQLookupd will be told.
func (d *demo) topicProducers(ctx context.Context) error {
	producers, err := nsqHTTP.Lookup(ctx, lookupHTTP, topic)
	if err != nil {
		return err
	}
	if len(producers) != len(d.daemons) {
		return fmt.Errorf("lookupd lists %d producers for %s, want %d", len(producers), topic, len(d.daemons))
	}
	return nil
}

// watchDepth polls the Channel's status until done accepts it, showing
// `kubectl get topics,channels` when depth or consumers change: at most once
// per showEvery (the status can change faster than anyone reads tables), and
// always for the status done accepts.
func (d *demo) watchDepth(ctx context.Context, what string, done func(v1alpha1.ChannelStatus) error) error {
	return waitFor(ctx, time.Minute, what, func(ctx context.Context) error {
		s, err := d.channelStatus(ctx)
		if err != nil {
			return err
		}
		now := channelView{depth: s.Depth, consumers: s.Consumers}
		doneErr := done(s)
		changed := now != d.shown
		if changed && (doneErr == nil || time.Since(d.shownAt) >= showEvery) {
			if err := d.showTables(ctx); err != nil {
				return err
			}
			d.shown, d.shownAt = now, time.Now()
		}
		return doneErr
	})
}

// showTables shows `kubectl get topics,channels` unless that repeats the
// tables shown last but for their AGE: kubectl reads the status a moment
// after the demo did, so it may have shown the state the demo sees next.
func (d *demo) showTables(ctx context.Context) error {
	args := []string{"get", "topics,channels"}
	out, err := d.kube.run(ctx, args...)
	if err != nil {
		return err
	}
	if tables := withoutLastColumn(out); tables != d.shownTables {
		printKubectl(args, out)
		d.shownTables = tables
	}
	return nil
}

func withoutLastColumn(table string) string {
	var b strings.Builder
	for line := range strings.Lines(table) {
		fields := strings.Fields(line)
		b.WriteString(strings.Join(fields[:max(0, len(fields)-1)], " ") + "\n")
	}
	return b.String()
}

// tally counts the round trip's messages as they come back. Any other
// message (published by hand while the demo keeps running) is printed.
type tally struct {
	daemons []daemon
	names   map[string]string // daemon TCP address -> name

	mu       sync.Mutex
	received map[string]bool // body -> received yet, for every body published
	count    int             // bodies received
	dups     int             // deliveries of a body already received
	from     map[string]int  // daemon name -> bodies received from it
}

func newTally(daemons []daemon) *tally {
	t := &tally{daemons: daemons, names: map[string]string{}, received: map[string]bool{}, from: map[string]int{}}
	for _, q := range daemons {
		t.names[q.tcp] = q.name
	}
	return t
}

func (t *tally) expect(body string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.received[body] = false
}

func (t *tally) HandleMessage(m *nsq.Message) error {
	body, from := string(m.Body), t.names[m.NSQDAddress]
	t.mu.Lock()
	received, ours := t.received[body]
	switch {
	case ours && received:
		t.dups++
	case ours:
		t.received[body] = true
		t.count++
		t.from[from]++
	}
	t.mu.Unlock()
	if !ours {
		fmt.Printf("==> consumer received %q from %s\n", body, from)
		return nil
	}
	time.Sleep(consumePace)
	return nil
}

// complete is nil once every body published has been received.
func (t *tally) complete() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.count < len(t.received) {
		return fmt.Errorf("received %d of %d messages", t.count, len(t.received))
	}
	return nil
}

// once is nil unless a message was delivered twice: nothing here times out
// or is requeued, so a second delivery would be a bug.
func (t *tally) once() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dups > 0 {
		return fmt.Errorf("%d messages were delivered more than once", t.dups)
	}
	return nil
}

func (t *tally) summary() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var from []string
	for _, q := range t.daemons {
		from = append(from, fmt.Sprintf("%d from %s", t.from[q.name], q.name))
	}
	return fmt.Sprintf("received %d of %d messages, each once (%s)", t.count, len(t.received), strings.Join(from, ", "))
}
