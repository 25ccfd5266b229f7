package queued

import (
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// A topic's disk backlog becomes one copy per channel, written to the same
// filesystem, and the topic frees its own space only once every channel
// has its copy. A topic allowed to fill the disk would hold messages that
// can never reach a channel. So a publish to disk is refused, as if the
// disk were full (ENOSPC), unless the free space left after it covers
// every channel's copy of every topic's unread backlog. (--max-disk-bytes
// budgets each queue on its own and needs no such rule.)

const (
	// spaceMargin: while the estimated free space exceeds what the copies
	// need by more than this, it is measured once every spaceRecheck
	// rather than at every publish.
	spaceMargin  = 64 << 20
	spaceRecheck = time.Second
)

// spaceGuard estimates the data path's free space between measurements.
type spaceGuard struct {
	mu       sync.Mutex
	measured time.Time
	free     int64 // measured, less what publishes and their copies took since
}

// roomForCopies admits a publish of size bytes on disk (diskSize) to t's
// disk queue, or refuses it.
func (t *Topic) roomForCopies(size int64) error {
	size *= int64(1 + t.channelCount())
	return t.d.space.admit(t.d.opts().DataPath, t.d.copiesNeeded()+size, size)
}

// admit takes size bytes of dataPath's free space if need bytes are free.
func (g *spaceGuard) admit(dataPath string, need, size int64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.free-need < spaceMargin || time.Since(g.measured) > spaceRecheck {
		free, err := freeBytes(dataPath)
		if err != nil {
			return nil // not measurable here: the disk itself will refuse
		}
		g.free, g.measured = free, time.Now()
	}
	if g.free < need {
		return fmt.Errorf("%w: %d bytes free, and the channels' copies of what the topics hold need %d: consume the channels, or give --data-path more room",
			syscall.ENOSPC, g.free, need)
	}
	g.free -= size
	return nil
}

// diskSize is what msgs take in a disk queue.
func diskSize(msgs []*Message) int64 {
	var size int64
	for _, m := range msgs {
		size += diskqueue.RecordSize(maxDiskLen(len(m.Body)))
	}
	return size
}

// copiesNeeded is the space every channel's copy of its topic's unread
// disk backlog takes.
func (d *Daemon) copiesNeeded() int64 {
	d.topicsMu.RLock()
	defer d.topicsMu.RUnlock()
	var n int64
	for _, t := range d.topics {
		n += int64(t.channelCount()) * t.backend.UnreadBytes()
	}
	return n
}

func (t *Topic) channelCount() int {
	t.channelsMu.RLock()
	defer t.channelsMu.RUnlock()
	return len(t.channels)
}

func freeBytes(path string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil //nolint:unconvert // Bsize is uint32 on some systems
}
