package queued

import (
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// IDs are nsqd's: milliseconds since nsqd's epoch (2010-11-04), the node ID
// and a sequence number, so IDs from different daemons never collide and
// sort by time.
const (
	nodeIDBits     = 10
	sequenceBits   = 12
	timestampShift = sequenceBits + nodeIDBits
	sequenceMask   = 1<<sequenceBits - 1
	idEpoch        = int64(1288834974288)
)

type idFactory struct {
	mu       sync.Mutex
	nodeID   int64
	lastTS   int64
	sequence int64
}

func newIDFactory(nodeID int64) *idFactory { return &idFactory{nodeID: nodeID & (1<<nodeIDBits - 1)} }

// next returns a new ID. When 4,096 IDs have been made in one tick, or the
// clock went back, it waits for the clock rather than fail a publish.
func (f *idFactory) next() MessageID {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		ts := time.Now().UnixNano() >> 20 // about a millisecond, as nsqd
		switch {
		case ts > f.lastTS:
			f.lastTS, f.sequence = ts, 0
		case ts == f.lastTS && f.sequence < sequenceMask:
			f.sequence++
		default:
			time.Sleep(time.Duration(1<<20 - time.Now().UnixNano()&(1<<20-1)))
			continue
		}
		n := uint64((f.lastTS-idEpoch)<<timestampShift | f.nodeID<<sequenceBits | f.sequence)
		var raw [8]byte
		binary.BigEndian.PutUint64(raw[:], n)
		var id MessageID
		hex.Encode(id[:], raw[:])
		return id
	}
}
