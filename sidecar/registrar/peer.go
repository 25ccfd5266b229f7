package registrar

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
)

const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 15 * time.Second // nsqd, retrying only on its 15s PING, is no faster
	// A session shorter than this does not reset the backoff, so that a
	// lookupd that accepts and then drops us is not hammered (nor logged)
	// several times a second.
	stableSession = 10 * time.Second
	// maxQueued bounds the commands waiting for one lookupd. Past it the queue
	// is dropped and the connection re-established, because the snapshot sent
	// on reconnect says the same in bounded size.
	maxQueued = 10000
)

var errResync = errors.New("too many queued commands: reconnecting to resend the snapshot")

// peer keeps one connection to one lookupd address, reconnecting forever
// until stopped.
type peer struct {
	r      *Registrar
	addr   string
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1: "the queue is not empty"

	mu     sync.Mutex
	live   bool // IDENTIFY done; commands are queued only while live
	info   lookupwire.PeerInfo
	queue  []lookupwire.Command
	resync bool

	// Logging state, touched by the run goroutine only.
	failures int
	lastErr  string
}

func newPeer(r *Registrar, addr string) *peer {
	ctx, cancel := context.WithCancel(r.ctx)
	return &peer{r: r, addr: addr, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1)}
}

func (p *peer) stop() { p.cancel() }

// enqueue hands cmd to the connection goroutine without waiting. While not
// live the command is dropped: the snapshot sent on the next connect, taken
// after this moment, already reflects it.
func (p *peer) enqueue(cmd lookupwire.Command) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live || p.resync {
		return
	}
	if len(p.queue) >= maxQueued {
		p.queue, p.resync = nil, true
	} else {
		p.queue = append(p.queue, cmd)
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// setLive marks the start (with the lookupd's IDENTIFY answer) or end of a
// session. Starting clears the queue: whatever was queued before is covered
// by the snapshot that is about to be taken.
func (p *peer) setLive(live bool, info lookupwire.PeerInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live, p.info, p.queue, p.resync = live, info, nil, false
}

func (p *peer) liveInfo() (lookupwire.PeerInfo, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.info, p.live
}

// takeQueue returns the queued commands, or errResync if they overflowed.
func (p *peer) takeQueue() ([]lookupwire.Command, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resync {
		return nil, errResync
	}
	q := p.queue
	p.queue = nil
	return q, nil
}

// run is the peer's goroutine: sessions, separated by a jittered backoff.
func (p *peer) run() {
	defer p.r.wg.Done()
	delay := minBackoff
	for {
		began := time.Now()
		established, err := p.session()
		p.setLive(false, lookupwire.PeerInfo{})
		if p.ctx.Err() != nil {
			return
		}
		if established && time.Since(began) >= stableSession {
			delay = minBackoff
		}
		p.noteFailure(established, err)
		if !p.sleep(delay/2 + rand.N(delay/2+1)) {
			return
		}
		delay = min(2*delay, maxBackoff)
	}
}

func (p *peer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// noteFailure logs the end of a session without repeating itself: losing an
// established connection is always worth a line; a failed attempt only when
// its error differs from the previous one.
func (p *peer) noteFailure(established bool, err error) {
	msg := err.Error()
	if established {
		p.failures, p.lastErr = 0, msg
		p.r.opts.Logf("LOOKUPD(%s): connection lost: %s", p.addr, msg)
		return
	}
	p.failures++
	if msg != p.lastErr {
		p.lastErr = msg
		p.r.opts.Logf("LOOKUPD(%s): %s (retrying with backoff; repeats not logged)", p.addr, msg)
	}
}

// noteEstablished logs a successful (re)connection.
func (p *peer) noteEstablished(info lookupwire.PeerInfo, registered int) {
	after := ""
	if p.failures > 0 {
		after = fmt.Sprintf(" after %d failed attempt(s)", p.failures)
	}
	p.r.opts.Logf("LOOKUPD(%s): connected to lookupd %s, registered %d topic/channel(s)%s",
		p.addr, info.BroadcastAddress, registered, after)
	p.failures, p.lastErr = 0, ""
}
