package queued

import (
	"errors"
	"os"
	ossignal "os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sidequeue/sidequeue/internal/cli"
)

// Drain mode is how a daemon leaves without losing its backlog: it refuses
// new publishes (E_PUB_FAILED, HTTP 503), keeps serving consumers, and exits
// once every topic and channel is empty and nothing is in flight or
// deferred, or when --drain-timeout passes. What is left stays on disk, and
// the termination summary (summary.go) says how much.

// drainCheck is how often a drain counts what is left.
const drainCheck = 50 * time.Millisecond

// drainState is the daemon's drain: whether publishes are refused, the
// publishes in progress, and what a drain that ended left behind.
type drainState struct {
	d           *Daemon
	mode        atomic.Bool
	publishing  atomic.Int64 // publishes admitted and not yet stored
	backlogLeft atomic.Int64 // messages left when a drain ended: Main fails
}

// draining reports whether the daemon refuses new publishes.
func (ds *drainState) draining() bool { return ds.mode.Load() }

// admitPublish counts a publish in progress, or refuses it while draining;
// the caller calls publishDone once the messages are stored (or not).
// Entering drain mode waits for the publishes in progress, so the drain's
// counts include every message a publisher was told is stored.
func (ds *drainState) admitPublish() error {
	ds.publishing.Add(1)
	if ds.draining() {
		ds.publishing.Add(-1)
		return errDraining
	}
	return nil
}

func (ds *drainState) publishDone() { ds.publishing.Add(-1) }

// refusePublishes enters drain mode and waits for the publishes in
// progress; it reports whether the daemon was draining already.
func (ds *drainState) refusePublishes() (was bool) {
	was = ds.mode.Swap(true)
	for ds.publishing.Load() > 0 {
		time.Sleep(time.Millisecond) // a publish stores in microseconds
	}
	return was
}

// StartDrain enters drain mode; a second call does nothing. timeout 0
// waits for as long as it takes. The first summary (drained false) is
// written before it returns, so it is there however the process ends.
func (d *Daemon) StartDrain(timeout time.Duration) {
	if d.drain.refusePublishes() {
		return
	}
	n := d.backlog()
	d.log.Logf("INFO", "DRAIN: refusing publishes; exiting once %d queued messages are consumed", n)
	d.summary.write(n, false)
	d.shell.Go(func() { d.drain.loop(timeout) })
}

// loop ends the drain when nothing is left or at the timeout, and
// meanwhile keeps the summary's depth near the truth.
func (ds *drainState) loop(timeout time.Duration) {
	var deadline <-chan time.Time
	if timeout > 0 {
		deadline = time.After(timeout)
	}
	tick := time.NewTicker(drainCheck)
	defer tick.Stop()
	refreshed := time.Now()
	for {
		// The count never misses a message moving between queues
		// (memqueue.go): its first zero is the end.
		n := ds.d.backlog()
		if n == 0 {
			ds.d.shell.StopBecause("drain finished: nothing left")
			go ds.finish() // Stop waits for this loop to return
			return
		}
		if time.Since(refreshed) >= ds.d.opts().DrainSummaryInterval {
			ds.d.summary.write(n, false)
			refreshed = time.Now()
		}
		select {
		case <-ds.d.shell.Done():
			return
		case <-deadline:
			ds.d.shell.StopBecause("drain timed out after %s", timeout)
			go ds.finish()
			return
		case <-tick.C:
		}
	}
}

// finish writes the summary and stops the daemon, persisting what is
// left. Publishes are refused, so the backlog can only shrink meanwhile.
func (ds *drainState) finish() {
	ds.d.log.Logf("INFO", "DRAIN: exiting with %d messages left", ds.d.backlog())
	ds.d.Stop()
}

// ErrBacklogLeft is what Main returns when a drain ended (it timed out, or
// Stop cut it short) with messages left on disk: a drain that did not
// finish is a failure, and the exit status says so.
var ErrBacklogLeft = errors.New("drain ended with messages left on disk")

// Stop writes the last summary and exits, keeping whatever is left on
// disk: the end of a drain, or SIGINT, or a second SIGTERM. Publishes are
// refused from its start, so the depth it reports is what the exit leaves.
func (d *Daemon) Stop() {
	wasDraining := d.drain.refusePublishes()
	depth := d.backlog()
	d.summary.write(depth, true)
	if wasDraining && depth > 0 {
		d.drain.backlogLeft.Store(depth)
	}
	d.Exit()
}

// backlog counts every message the daemon still holds.
func (d *Daemon) backlog() int64 {
	var n int64
	d.topicsMu.RLock()
	for _, t := range d.topics {
		n += t.Depth()
	}
	d.topicsMu.RUnlock()
	for _, c := range d.allChannels() {
		n += c.held()
	}
	return n
}

// HandleSignals gives signals their meaning until the daemon exits: SIGTERM
// drains (for --drain-timeout), so a pod's backlog is consumed before it
// goes; SIGINT, or SIGTERM while draining, stops at once, keeping the
// backlog on disk. Every way out writes the summary. The signals are taken
// before it returns, so none arriving after that kills the process.
func (d *Daemon) HandleSignals() {
	signals := make(chan os.Signal, 2)
	ossignal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go d.drain.handleSignals(signals)
}

func (ds *drainState) handleSignals(signals chan os.Signal) {
	defer ossignal.Stop(signals)
	for {
		select {
		case sig := <-signals:
			if sig == syscall.SIGTERM && !ds.draining() {
				ds.d.log.Logf("INFO", "received SIGTERM: draining (--drain-timeout %s); SIGINT or a second SIGTERM stops at once", ds.d.opts().DrainTimeout)
				ds.d.StartDrain(ds.d.opts().DrainTimeout)
				continue
			}
			ds.d.shell.StopBecause("received %s", cli.SignalName(sig))
			ds.d.Stop()
			return
		case <-ds.d.shell.Done():
			return
		}
	}
}
