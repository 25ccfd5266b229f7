package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/sidequeue/sidequeue/test/bench/internal/benchstat"
)

const (
	pubConns    = 4
	batchSize   = 200
	subConns    = 4
	subInFlight = 2500
	writers     = 16
	rssReads    = 5
)

// sandbox is one workload's fresh temporary directory: the daemon's data
// directory and its log, removed whole afterwards.
type sandbox string

func newSandbox(base string) (sandbox, error) {
	dir, err := os.MkdirTemp(base, "bench-queued-")
	if err != nil {
		return "", err
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return sandbox(dir), nil
}

func (s sandbox) start(c contender, extra ...string) (*daemon, error) {
	return startDaemon(c, filepath.Join(string(s), "data"), filepath.Join(string(s), "daemon.log"), extra...)
}

// withDaemon starts c in a fresh sandbox, runs work against it, then kills
// it and removes the sandbox; a daemon that died during work fails the run.
func withDaemon(cfg config, c contender, flags []string, work func(sandbox, *daemon) error) error {
	sb, err := newSandbox(cfg.dir)
	if err != nil {
		return err
	}
	defer os.RemoveAll(string(sb))
	d, err := sb.start(c, flags...)
	if err != nil {
		return err
	}
	werr := work(sb, d)
	return errors.Join(werr, d.kill())
}

// pubSubResult is one daemon's PUB and SUB figures from one run.
type pubSubResult struct{ pub, sub time.Duration }

// runPubSub publishes cfg.messages with MPUB, then drains them all from one
// channel. The channel exists before the first PUB so every message is
// delivered to it rather than held in the topic.
func runPubSub(cfg config, c contender, flags []string) (res pubSubResult, err error) {
	err = withDaemon(cfg, c, flags, func(_ sandbox, d *daemon) error {
		if err := createChannel(d.httpAddr); err != nil {
			return err
		}
		pub, err := mpubAll(d.tcpAddr, cfg.messages)
		if err != nil {
			return fmt.Errorf("pub: %w", err)
		}
		sub, err := drain(d.tcpAddr, cfg.messages, subConns, subInFlight)
		if err != nil {
			return fmt.Errorf("sub: %w", err)
		}
		res = pubSubResult{pub: pub, sub: sub}
		return nil
	})
	return res, err
}

// createChannel makes the bench topic and channel over HTTP; nsqd's
// /channel/create answers 404 for a topic that does not exist yet.
func createChannel(httpAddr string) error {
	for _, path := range []string{"/topic/create", "/channel/create"} {
		q := url.Values{"topic": {topic}, "channel": {channel}}
		resp, err := http.Post("http://"+httpAddr+path+"?"+q.Encode(), "", nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST %s: %s", path, resp.Status)
		}
	}
	return nil
}

// mpubAll publishes n messages in MPUB batches shared out among pubConns
// connections, and returns the time until the last batch was acknowledged.
func mpubAll(addr string, n int) (time.Duration, error) {
	ps, err := connectProducers(addr, pubConns)
	if err != nil {
		return 0, err
	}
	defer stopProducers(ps)
	batches := (n + batchSize - 1) / batchSize
	var next, acked atomic.Int64
	start := time.Now()
	err = runAll(pubConns, func(i int) error {
		bodies := newBodies(batchSize)
		for b := int(next.Add(1) - 1); b < batches; b = int(next.Add(1) - 1) {
			lo, hi := b*batchSize, min((b+1)*batchSize, n)
			for j := lo; j < hi; j++ {
				stamp(bodies[j-lo], j)
			}
			if err := ps[i].MultiPublish(topic, bodies[:hi-lo]); err != nil {
				return err
			}
			acked.Add(int64(hi - lo))
		}
		return nil
	})
	elapsed := time.Since(start)
	if err == nil && acked.Load() != int64(n) {
		err = fmt.Errorf("%d of %d messages acknowledged", acked.Load(), n)
	}
	return elapsed, err
}

// durableResult is one daemon's acknowledged synchronous PUBs in elapsed.
type durableResult struct {
	acked   int
	elapsed time.Duration
}

// runDurable has writers publishers each PUB one message at a time for
// cfg.duration against a daemon that (with the fsync preset's flags) fsyncs
// every message. Then it kills the daemon with SIGKILL, restarts it on the
// same data and drains the topic: every acknowledged message, and nothing
// else, must come back, so a daemon cannot earn its figure by acknowledging
// what it did not store. The null server stores nothing by design, so it
// alone is not read back.
func runDurable(cfg config, c contender, flags []string) (res durableResult, err error) {
	err = withDaemon(cfg, c, flags, func(sb sandbox, d *daemon) error {
		acked, elapsed, err := pubFor(d.tcpAddr, cfg.duration)
		res = durableResult{acked: acked, elapsed: elapsed}
		if err != nil || c.name == limitName {
			return err
		}
		if err := d.kill(); err != nil {
			return err
		}
		d2, err := sb.start(c, flags...)
		if err != nil {
			return fmt.Errorf("restart after SIGKILL: %w", err)
		}
		_, derr := drain(d2.tcpAddr, acked, subConns, subInFlight)
		if derr != nil {
			derr = fmt.Errorf("reading back %d acknowledged messages after SIGKILL and restart: %w", acked, derr)
		}
		return errors.Join(derr, d2.kill())
	})
	return res, err
}

// pubFor runs writers synchronous publishers, each on its own connection,
// until d has passed; indexes are handed out in order, so with no errors the
// acknowledged messages are exactly indexes 0 … acked-1.
func pubFor(addr string, d time.Duration) (int, time.Duration, error) {
	ps, err := connectProducers(addr, writers)
	if err != nil {
		return 0, 0, err
	}
	defer stopProducers(ps)
	var next, acked atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	err = runAll(writers, func(i int) error {
		body := newBodies(1)[0]
		for time.Now().Before(deadline) {
			stamp(body, int(next.Add(1)-1))
			if err := ps[i].Publish(topic, body); err != nil {
				return err
			}
			acked.Add(1)
		}
		return nil
	})
	return int(acked.Load()), time.Since(start), err
}

// runIdle starts a fresh daemon, leaves it idle for cfg.idle so start-up
// garbage can be collected and the heap settle, then returns the median of
// rssReads VmRSS reads, in KiB.
func runIdle(cfg config, c contender, flags []string) (kib float64, err error) {
	err = withDaemon(cfg, c, flags, func(_ sandbox, d *daemon) error {
		time.Sleep(cfg.idle) // the idle period is what is measured, not a wait for readiness
		reads := make([]float64, 0, rssReads)
		for range rssReads {
			v, err := d.rssKiB()
			if err != nil {
				return err
			}
			reads = append(reads, v)
			time.Sleep(100 * time.Millisecond)
		}
		kib = benchstat.Median(reads)
		return nil
	})
	return kib, err
}
