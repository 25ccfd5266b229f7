package queued

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// backendQueue is where a topic or channel keeps what does not fit in
// memory: a disk queue, or for ephemeral ones, nothing at all (as in nsqd,
// their overflow is dropped).
type backendQueue interface {
	Put([]byte) error
	AppendUnbudgeted([]byte) error
	PutBatch([][]byte) (int, error)
	AppendBatch([][]byte) (int, error)
	Sync() error
	ReadNextCounted(taken *atomic.Int64) ([]byte, diskqueue.Position, error)
	Commit(diskqueue.Position)
	DataReady() <-chan struct{}
	Depth() int64
	UnreadBytes() int64
	HasRoom(size int64) bool
	Empty() error
	Delete() error
	Close() error
}

var (
	_ backendQueue = (*diskqueue.Queue)(nil)
	_ backendQueue = discardQueue{}
)

type discardQueue struct{}

func (discardQueue) Put([]byte) error                    { return nil }
func (discardQueue) AppendUnbudgeted([]byte) error       { return nil }
func (discardQueue) PutBatch(b [][]byte) (int, error)    { return len(b), nil }
func (discardQueue) AppendBatch(b [][]byte) (int, error) { return len(b), nil }
func (discardQueue) Sync() error                         { return nil }
func (discardQueue) ReadNextCounted(*atomic.Int64) ([]byte, diskqueue.Position, error) {
	return nil, diskqueue.Position{}, diskqueue.ErrEmpty
}
func (discardQueue) Commit(diskqueue.Position)  {}
func (discardQueue) DataReady() <-chan struct{} { return nil }
func (discardQueue) Depth() int64               { return 0 }
func (discardQueue) UnreadBytes() int64         { return 0 }
func (discardQueue) HasRoom(int64) bool         { return true }
func (discardQueue) Empty() error               { return nil }
func (discardQueue) Delete() error              { return nil }
func (discardQueue) Close() error               { return nil }

var diskBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// writeToBackend stores m with put (a backend's Put, or AppendUnbudgeted for
// what memory holds at shutdown), with its due time if deferred (0 if not).
func writeToBackend(put func([]byte) error, m *Message, dueAt int64) error {
	bp := diskBufPool.Get().(*[]byte)
	*bp = m.appendDisk((*bp)[:0], dueAt)
	err := put(*bp)
	diskBufPool.Put(bp)
	return err
}

// backendReader turns a backend's Read into a channel of decoded messages,
// so a select loop can wait on memory and disk at once, as nsqd's does.
type backendReader struct {
	bq    backendQueue
	track func(m *Message, end diskqueue.Position) // called in read order
	out   chan diskMessage
	exit  chan struct{}
	done  chan struct{}
	held  *diskMessage // read but not yet taken when the reader stopped
	// holding counts the messages read from disk and not yet taken: the
	// disk queue no longer counts them, but they are still queued.
	holding atomic.Int64
	logf    func(level, format string, args ...any)
	owner   string
}

type diskMessage struct {
	msg   *Message
	dueAt int64
	end   diskqueue.Position
}

func startBackendReader(bq backendQueue, owner string, logf func(level, format string, args ...any),
	track func(*Message, diskqueue.Position)) *backendReader {
	r := &backendReader{bq: bq, out: make(chan diskMessage), logf: logf, owner: owner, track: track}
	r.start()
	return r
}

// start runs the reader, on the same out channel after a stop.
func (r *backendReader) start() {
	r.held, r.exit, r.done = nil, make(chan struct{}), make(chan struct{})
	go r.run()
}

func (r *backendReader) run() {
	defer close(r.done)
	for {
		b, end, err := r.bq.ReadNextCounted(&r.holding)
		if errors.Is(err, diskqueue.ErrEmpty) {
			select {
			case <-r.bq.DataReady():
				continue
			case <-r.exit:
				return
			}
		}
		if err != nil {
			r.logf("ERROR", "%s: reading from disk: %v", r.owner, err)
			select {
			case <-r.bq.DataReady():
				continue
			case <-r.exit:
				return
			}
		}
		m, dueAt, err := decodeDisk(b)
		if err != nil {
			r.holding.Add(-1)
			r.logf("ERROR", "%s: skipping an undecodable message on disk: %v", r.owner, err)
			continue
		}
		if r.track != nil {
			r.track(m, end)
		}
		dm := diskMessage{m, dueAt, end}
		select {
		case r.out <- dm:
		case <-r.exit:
			r.held = &dm
			return
		}
	}
}

// taken is called by whoever received from out once the message is counted
// where it went (or dropped).
func (r *backendReader) taken() { r.holding.Add(-1) }

// stop ends the reader and returns the message it had read but not handed
// over, which the caller must keep or drop (dropHeld).
func (r *backendReader) stop() *diskMessage {
	close(r.exit)
	<-r.done
	return r.held
}

// dropHeld stops the reader and drops the message it held (Empty), so
// that start reads on from wherever the disk queue is then.
func (r *backendReader) dropHeld() {
	if r.stop() != nil {
		r.holding.Add(-1)
	}
}

// putBatch encodes messages into one buffer and stores them with one call;
// it returns how many, from the first, are stored.
func putBatch(store func([][]byte) (int, error), msgs []*Message, dueAt func(*Message) int64) (int, error) {
	size := 0
	for _, m := range msgs {
		size += maxDiskLen(len(m.Body))
	}
	buf := make([]byte, 0, size)
	records := make([][]byte, len(msgs))
	for i, m := range msgs {
		start := len(buf)
		buf = m.appendDisk(buf, dueAt(m))
		records[i] = buf[start:len(buf):len(buf)]
	}
	return store(records)
}
