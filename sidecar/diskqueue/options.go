// Package diskqueue is an append-only, crash-safe log of opaque records:
// the disk half of every topic and channel in queued. It knows nothing of
// topics, channels or the NSQ protocol.
package diskqueue

import (
	"errors"
	"fmt"
	"time"
)

// Options configure a Queue. Start from NewOptions: the defaults are nsqd's.
type Options struct {
	// MaxBytesPerFile is the size at which a segment is closed and the next
	// one started (nsqd's --max-bytes-per-file). A record never spans two
	// segments, so a record larger than this gets a segment of its own.
	MaxBytesPerFile int64
	// MaxRecordSize is the largest payload Put accepts (nsqd's --max-msg-size
	// plus the message header). Larger lengths found on disk are corruption.
	MaxRecordSize int
	// SyncEvery is how many writes and reads may pass before the data and the
	// read position are fsynced (nsqd's --sync-every). 1 is the durable
	// policy: Put returns only once its record is fsynced, and concurrent
	// Puts share one fsync (group commit).
	SyncEvery int64
	// SyncTimeout is the longest time between syncs (nsqd's --sync-timeout).
	SyncTimeout time.Duration
	// ManualCommit keeps records read but not yet committed (Commit) on
	// disk: a restart delivers them again. Without it, a record is done once
	// Read returns it, as in nsqd.
	ManualCommit bool
	// MaxDiskBytes bounds the bytes the queue's segments may hold on disk;
	// a Put beyond it fails with ErrDiskFull. 0 means unlimited.
	MaxDiskBytes int64
	// Logf receives the queue's rare but important news: corruption skipped,
	// torn tails truncated, sync failures. Nil discards it.
	Logf func(format string, args ...any)

	fs fileSystem // the file layer; tests replace it to watch fsyncs
}

// NewOptions returns nsqd v1.3.0's defaults.
func NewOptions() Options {
	return Options{
		MaxBytesPerFile: 100 * 1024 * 1024,
		MaxRecordSize:   1024*1024 + 26, // --max-msg-size plus nsqd's message header
		SyncEvery:       2500,
		SyncTimeout:     2 * time.Second,
	}
}

func (o *Options) validate() error {
	switch {
	case o.MaxBytesPerFile <= 0:
		return fmt.Errorf("diskqueue: MaxBytesPerFile is %d: it must be positive", o.MaxBytesPerFile)
	case o.MaxRecordSize <= 0:
		return fmt.Errorf("diskqueue: MaxRecordSize is %d: it must be positive", o.MaxRecordSize)
	case o.SyncEvery <= 0:
		return fmt.Errorf("diskqueue: SyncEvery is %d: it must be at least 1", o.SyncEvery)
	case o.SyncTimeout <= 0:
		return fmt.Errorf("diskqueue: SyncTimeout is %v: it must be positive", o.SyncTimeout)
	case o.MaxDiskBytes < 0:
		return fmt.Errorf("diskqueue: MaxDiskBytes is %d: use 0 for unlimited", o.MaxDiskBytes)
	}
	return nil
}

func (o *Options) durable() bool { return o.SyncEvery == 1 }

func (o *Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

var (
	// ErrEmpty is returned by Read when every stored record has been read.
	ErrEmpty = errors.New("diskqueue: empty")
	// ErrClosed is returned by every operation on a closed queue.
	ErrClosed = errors.New("diskqueue: closed")
	// ErrDiskFull is returned by Put when the record would take the queue
	// over MaxDiskBytes. Nothing already stored is dropped.
	ErrDiskFull = errors.New("diskqueue: disk budget exhausted")
	// ErrTooLarge is returned by Put for a record over MaxRecordSize.
	ErrTooLarge = errors.New("diskqueue: record larger than MaxRecordSize")
)
