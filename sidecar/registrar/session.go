package registrar

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
)

const (
	// nsqd allows 1s for dialing and for each read and write; a little more
	// slack costs nothing, since lookupd answers at once.
	dialTimeout = 2 * time.Second
	ioTimeout   = 2 * time.Second
	// maxResponse bounds a response; a lookupd's largest, IDENTIFY's JSON, is
	// a few hundred bytes.
	maxResponse = 1 << 20
)

// session is one connection. A reader goroutine waits for responses all the
// time, so that a lookupd closing the connection is noticed at once, not at
// the next PING.
type session struct {
	conn       net.Conn
	resps      chan []byte
	errs       chan error // capacity 1; the reader sends at most once
	done       chan struct{}
	readerDone chan struct{}
}

func dial(ctx context.Context, addr string) (*session, error) {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &session{
		conn: conn, resps: make(chan []byte), errs: make(chan error, 1),
		done: make(chan struct{}), readerDone: make(chan struct{}),
	}
	go s.readLoop()
	return s, nil
}

func (s *session) readLoop() {
	defer close(s.readerDone)
	br := bufio.NewReader(s.conn)
	for {
		resp, err := lookupwire.ReadResponse(br, maxResponse)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("connection closed by lookupd")
			}
			s.errs <- err
			return
		}
		select {
		case s.resps <- resp:
		case <-s.done:
			return
		}
	}
}

// close ends the connection and waits for the reader goroutine.
func (s *session) close() {
	close(s.done)
	s.conn.Close()
	<-s.readerDone
}

// roundTrip sends cmd and waits for its response. An error response is
// returned as a *lookupwire.Error; nsqlookupd closes after any of them.
func (s *session) roundTrip(ctx context.Context, cmd lookupwire.Command) ([]byte, error) {
	s.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if err := lookupwire.WriteCommand(s.conn, cmd); err != nil {
		return nil, err
	}
	timer := time.NewTimer(ioTimeout)
	defer timer.Stop()
	select {
	case resp := <-s.resps:
		if e := lookupwire.ParseError(resp); e != nil {
			return nil, fmt.Errorf("%s: %w", cmd, e)
		}
		return resp, nil
	case err := <-s.errs:
		return nil, err
	case <-timer.C:
		return nil, fmt.Errorf("%s: no response within %s", cmd, ioTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// session runs one connection from dial to failure (or stop). established
// reports whether IDENTIFY and the snapshot got through.
func (p *peer) session() (established bool, err error) {
	s, err := dial(p.ctx, p.addr)
	if err != nil {
		return false, err
	}
	defer s.close()
	// Stop interrupts a blocked write at once instead of at its deadline. The
	// callback is waited for, so that nothing outlives Close.
	closed := make(chan struct{})
	stopClosing := context.AfterFunc(p.ctx, func() { s.conn.Close(); close(closed) })
	defer func() {
		if !stopClosing() {
			<-closed
		}
	}()

	info, err := p.identify(s)
	if err != nil {
		return false, err
	}
	p.setLive(true, info)
	n, err := p.registerSnapshot(s)
	if err != nil {
		return false, err
	}
	p.noteEstablished(info, n)
	return true, p.serve(s)
}

// identify sends the magic and IDENTIFY, and decodes the lookupd's answer.
func (p *peer) identify(s *session) (lookupwire.PeerInfo, error) {
	s.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if err := lookupwire.WriteMagic(s.conn); err != nil {
		return lookupwire.PeerInfo{}, err
	}
	id := p.r.opts.Identity
	cmd, err := lookupwire.Identify(lookupwire.PeerInfo{
		BroadcastAddress: id.BroadcastAddress, Hostname: id.Hostname,
		HTTPPort: id.HTTPPort, TCPPort: id.TCPPort, Version: id.Version,
	})
	if err != nil {
		return lookupwire.PeerInfo{}, err
	}
	resp, err := s.roundTrip(p.ctx, cmd)
	if err != nil {
		return lookupwire.PeerInfo{}, err
	}
	var info lookupwire.PeerInfo
	if err := json.Unmarshal(resp, &info); err != nil {
		return lookupwire.PeerInfo{}, fmt.Errorf("IDENTIFY response %q: %w", resp, err)
	}
	return info, nil
}

// registerSnapshot sends REGISTER for everything the daemon holds, one round
// trip each, as nsqd does on every (re)connect. Invalid names are skipped:
// nsqlookupd would answer with an error and close the connection, and every
// reconnect would fail at the same place.
func (p *peer) registerSnapshot(s *session) (int, error) {
	n := 0
	for _, reg := range p.r.snapshot() {
		if !validRegistration(reg) {
			continue
		}
		if _, err := s.roundTrip(p.ctx, lookupwire.Register(reg.Topic, reg.Channel)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// serve sends queued commands and PINGs until the connection fails or the
// peer is stopped.
func (p *peer) serve(s *session) error {
	ping := time.NewTicker(p.r.opts.PingInterval)
	defer ping.Stop()
	for {
		if err := p.flush(s); err != nil {
			return err
		}
		select {
		case <-p.ctx.Done():
			return p.ctx.Err()
		case err := <-s.errs:
			return err
		case resp := <-s.resps:
			return fmt.Errorf("unsolicited response %q", resp)
		case <-ping.C:
			if _, err := s.roundTrip(p.ctx, lookupwire.Ping()); err != nil {
				return err
			}
		case <-p.wake:
		}
	}
}

func (p *peer) flush(s *session) error {
	cmds, err := p.takeQueue()
	if err != nil {
		return err
	}
	for _, cmd := range cmds {
		if _, err := s.roundTrip(p.ctx, cmd); err != nil {
			return err
		}
	}
	return nil
}
