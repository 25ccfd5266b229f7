package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nsqio/go-nsq"
)

const (
	msgSize = 200
	topic   = "bench"
	channel = "bench"
	// stallLimit ends a drain that stops making progress, so a daemon that
	// loses messages fails the run instead of hanging it.
	stallLimit = 15 * time.Second
	// slowStop is far more than consumers need to stop when the server
	// answers CLS; go-nsq gives up waiting for CLOSE_WAIT after 30 s.
	slowStop = 5 * time.Second
)

// filler is every body's tail after its 8-byte index, so a consumer can tell
// a delivered message from a corrupted or invented one.
var filler = bytes.Repeat([]byte("sidequeue-bench:"), msgSize)[:msgSize-8]

// goNSQLog keeps go-nsq quiet (it logs every connection at INF) but shows
// its errors.
var goNSQLog = log.New(os.Stderr, "go-nsq: ", 0)

// newBodies allocates n message bodies, each already holding the filler, so
// publishers only stamp indexes inside the timed loop.
func newBodies(n int) [][]byte {
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = make([]byte, msgSize)
		copy(bodies[i][8:], filler)
	}
	return bodies
}

func stamp(body []byte, index int) { binary.BigEndian.PutUint64(body, uint64(index)) }

// connectProducers opens n producers, each its own TCP connection, and pings
// each so connecting is not part of any timed loop.
func connectProducers(addr string, n int) ([]*nsq.Producer, error) {
	var ps []*nsq.Producer
	for range n {
		p, err := nsq.NewProducer(addr, nsq.NewConfig())
		if err != nil {
			stopProducers(ps)
			return nil, err
		}
		p.SetLogger(goNSQLog, nsq.LogLevelError)
		ps = append(ps, p)
		if err := p.Ping(); err != nil {
			stopProducers(ps)
			return nil, fmt.Errorf("connecting producer to %s: %w", addr, err)
		}
	}
	return ps, nil
}

func stopProducers(ps []*nsq.Producer) {
	for _, p := range ps {
		p.Stop()
	}
}

// runAll runs f(0) … f(n-1) concurrently and joins their errors.
func runAll(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// tally is the consumers' handler: it records each index it is handed and
// counts whatever could inflate a rate — a second delivery of an index, or
// a body this benchmark never published.
type tally struct {
	want   int
	seen   []uint32
	unique atomic.Int64
	dupes  atomic.Int64
	bogus  atomic.Int64
	done   chan struct{} // closed when all want indexes have arrived
}

func newTally(want int) *tally {
	return &tally{want: want, seen: make([]uint32, want), done: make(chan struct{})}
}

func (t *tally) HandleMessage(m *nsq.Message) error {
	b := m.Body
	if len(b) != msgSize || !bytes.Equal(b[8:], filler) || binary.BigEndian.Uint64(b) >= uint64(t.want) {
		t.bogus.Add(1)
		return nil
	}
	if atomic.AddUint32(&t.seen[binary.BigEndian.Uint64(b)], 1) > 1 {
		t.dupes.Add(1)
		return nil
	}
	// Exactly one handler sees the count reach want, so done closes once.
	if t.unique.Add(1) == int64(t.want) {
		close(t.done)
	}
	return nil
}

// wait blocks until every index has arrived, failing if none arrives for
// stallLimit.
func (t *tally) wait() error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last, lastMove := int64(-1), time.Now()
	for {
		select {
		case <-t.done:
			return nil
		case now := <-tick.C:
			if n := t.unique.Load(); n != last {
				last, lastMove = n, now
			} else if now.Sub(lastMove) > stallLimit {
				return fmt.Errorf("stalled: %d of %d messages delivered, none for %v", n, t.want, stallLimit)
			}
		}
	}
}

// check is called after the consumers have stopped, so deliveries that raced
// the last expected one are counted too.
func (t *tally) check() error {
	if d, b := t.dupes.Load(), t.bogus.Load(); d != 0 || b != 0 {
		return fmt.Errorf("%d duplicate and %d unknown messages besides the %d expected", d, b, t.want)
	}
	return nil
}

// drain connects conns consumers at maxInFlight each to the bench channel,
// waits until want distinct published messages have arrived, and returns
// how long that took from the first connection.
func drain(addr string, want, conns, maxInFlight int) (time.Duration, error) {
	t := newTally(want)
	cfg := nsq.NewConfig()
	cfg.MaxInFlight = maxInFlight
	var cs []*nsq.Consumer
	defer func() { stopConsumers(cs) }()
	start := time.Now()
	for range conns {
		c, err := nsq.NewConsumer(topic, channel, cfg)
		if err != nil {
			return 0, err
		}
		c.SetLogger(goNSQLog, nsq.LogLevelError)
		c.AddHandler(t)
		cs = append(cs, c)
		if err := c.ConnectToNSQD(addr); err != nil {
			return 0, fmt.Errorf("connecting consumer to %s: %w", addr, err)
		}
	}
	if err := t.wait(); err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	stopping := time.Now()
	stopConsumers(cs)
	cs = nil
	if d := time.Since(stopping); d > slowStop {
		// Not in the figure, but it makes runs slow and hints at a server
		// that did not answer CLS.
		fmt.Fprintf(os.Stderr, "bench-queued: warning: consumers of %s took %v to stop\n", addr, d.Round(time.Millisecond))
	}
	return elapsed, t.check()
}

func stopConsumers(cs []*nsq.Consumer) {
	for _, c := range cs {
		c.Stop()
	}
	for _, c := range cs {
		<-c.StopChan
	}
}
