package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	godq "github.com/nsqio/go-diskqueue"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// nsqd's defaults (v1.3.0): the "default-sync" policy.
const (
	defaultSyncEvery   = 2500
	defaultSyncTimeout = 2 * time.Second
	maxBytesPerFile    = 100 * 1024 * 1024
	maxMsgSize         = 1024*1024 + 26 // --max-msg-size plus nsqd's message header
)

// errStalled means a read waited longer than the stall limit: records the
// queue should hold never showed up, so the run would otherwise hang.
var errStalled = errors.New("no record arrived within the stall limit")

// benchQueue is the little the workloads need, so both queues run exactly
// the same loops and differ only in these calls.
type benchQueue interface {
	Put(b []byte) error
	// read returns the next record, waiting for one if need be; it gives up
	// with errStalled once stall is closed.
	read(stall <-chan struct{}) ([]byte, error)
	Depth() int64
	Close() error
}

// contender names a queue implementation and opens it under a policy.
type contender struct {
	name string
	open func(dir string, durable bool) (benchQueue, error)
}

var contenders = [2]contender{
	{name: "ours", open: openOurs},
	{name: "go-diskqueue", open: openGoDQ},
}

// ours adapts our Queue: Read never blocks, so an empty queue means waiting
// for DataReady's token before trying again.
type ours struct{ *diskqueue.Queue }

func openOurs(dir string, durable bool) (benchQueue, error) {
	opts := diskqueue.NewOptions()
	if durable {
		opts.SyncEvery = 1
	}
	opts.Logf = func(f string, args ...any) {
		fmt.Fprintf(os.Stderr, "ours: "+f+"\n", args...)
	}
	q, err := diskqueue.Open(dir, "bench", opts)
	if err != nil {
		return nil, err
	}
	return ours{q}, nil
}

func (q ours) read(stall <-chan struct{}) ([]byte, error) {
	for {
		b, err := q.Read()
		if !errors.Is(err, diskqueue.ErrEmpty) {
			return b, err
		}
		select {
		case <-q.DataReady():
		case <-stall:
			return nil, errStalled
		}
	}
}

// goDQ adapts go-diskqueue, whose only read API is an unbuffered channel fed
// by its I/O goroutine.
type goDQ struct {
	godq.Interface
	ch <-chan []byte
}

func openGoDQ(dir string, durable bool) (benchQueue, error) {
	syncEvery := int64(defaultSyncEvery)
	if durable {
		syncEvery = 1
	}
	// New cannot fail: it logs a bad metadata file and carries on, which is
	// why the workloads verify what comes back.
	q := godq.New("bench", dir, maxBytesPerFile, 0, maxMsgSize,
		syncEvery, defaultSyncTimeout, goDQLog)
	return goDQ{Interface: q, ch: q.ReadChan()}, nil
}

// goDQLog drops go-diskqueue's chatter (it logs every file it opens at INFO)
// and keeps what could explain a bad run.
func goDQLog(lvl godq.LogLevel, f string, args ...any) {
	if lvl < godq.WARN {
		return
	}
	fmt.Fprintf(os.Stderr, "go-diskqueue "+lvl.String()+": "+f+"\n", args...)
}

func (q goDQ) read(stall <-chan struct{}) ([]byte, error) {
	select {
	case b := <-q.ch:
		return b, nil
	case <-stall:
		return nil, errStalled
	}
}
