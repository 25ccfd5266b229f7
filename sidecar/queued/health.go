package queued

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// healthOwner is an owner that is a plain name, such as the metadata file.
type healthOwner string

func (o healthOwner) String() string { return string(o) }

const metadataOwner = healthOwner("metadata")

// healthState is what /ping and /stats report. A topic or channel that
// cannot store a message reports the error here, and clears it at its next
// successful write; the daemon is unhealthy while any is failing, so a
// readiness probe takes it out of rotation and brings it back by itself,
// as nsqd's does.
type healthState struct {
	failingAny atomic.Bool // fast path: writes that succeed check only this
	mu         sync.Mutex
	failing    map[string]error // by owner ("topic t", "channel t/c", "metadata")
}

// report records the outcome of a write by owner (a topic, a channel, the
// metadata). It is on the publish path: a success while nothing fails
// costs one atomic load, and the owner is named only when needed.
func (h *healthState) report(owner fmt.Stringer, err error) {
	if err == nil && !h.failingAny.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		delete(h.failing, owner.String())
	} else {
		if h.failing == nil {
			h.failing = map[string]error{}
		}
		h.failing[owner.String()] = err
	}
	h.failingAny.Store(len(h.failing) > 0)
}

// status is "OK", or "NOK - <owner>: <error>" naming the first failing
// owner in name order.
func (h *healthState) status() (string, bool) {
	if !h.failingAny.Load() {
		return "OK", true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	owners := make([]string, 0, len(h.failing))
	for o := range h.failing {
		owners = append(owners, o)
	}
	if len(owners) == 0 {
		return "OK", true
	}
	sort.Strings(owners)
	return "NOK - " + owners[0] + ": " + h.failing[owners[0]].Error(), false
}
