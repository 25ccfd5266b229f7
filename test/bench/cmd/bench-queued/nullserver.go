package main

// The null server is the benchmark's limit: it speaks just enough of NSQ's
// TCP protocol V2 for go-nsq v1.1.0 producers and consumers, answers every
// PUB and MPUB with OK at once without storing anything, and feeds
// subscribers pre-encoded messages as fast as their RDY counts allow. Run
// with the very client code the daemons get, its figures are what the
// clients themselves can do on this machine, so a daemon's figure can also
// be read as a fraction of what is possible here.
//
// It runs as a child process of this same binary (bench-queued null-server
// --tcp-address=… --http-address=…), started and killed like a daemon, so
// its garbage collector and scheduler never share a runtime with the
// clients', as a daemon's do not.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// nullServerArg, as the first argument, makes this binary the null server.
const nullServerArg = "null-server"

const (
	// msgHeader is a message frame's bytes before the body: size, frame
	// type, timestamp, attempts and the 16-byte ID.
	msgHeader = 4 + 4 + 8 + 2 + 16
	// outputBufferSize is go-nsq's default output_buffer_size, the buffer
	// nsqd gives each client, so the null server makes no fewer write system
	// calls than a daemon need make.
	outputBufferSize = 16 * 1024
)

// nullServer hands out the message indexes 0 … messages-1, each once,
// across all its subscribers.
type nullServer struct {
	messages int64
	next     atomic.Int64
	started  int64 // message timestamp: one clock read for all messages
}

// runNullServer parses the flags the benchmark gives every daemon (those it
// does not need are accepted and ignored) and serves until killed.
func runNullServer(args []string) error {
	fs := flag.NewFlagSet(nullServerArg, flag.ContinueOnError)
	tcpAddr := fs.String("tcp-address", "127.0.0.1:4150", "TCP listen address")
	httpAddr := fs.String("http-address", "127.0.0.1:4151", "HTTP listen address (/ping and topic or channel creation)")
	messages := fs.Int64("messages", 0, "messages to deliver to subscribers, indexes 0 … n-1")
	fs.String("data-path", "", "ignored: nothing is stored")
	fs.String("mem-queue-size", "", "ignored: nothing is stored")
	fs.String("sync-every", "", "ignored: nothing is stored")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tl, err := net.Listen("tcp", *tcpAddr)
	if err != nil {
		return err
	}
	hl, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return err
	}
	go func() { fmt.Fprintln(os.Stderr, "null server: http:", http.Serve(hl, nullHTTP())) }()
	return newNullServer(*messages).acceptLoop(tl)
}

func newNullServer(messages int64) *nullServer {
	return &nullServer{messages: messages, started: time.Now().UnixNano()}
}

// acceptLoop serves every connection l accepts, until l fails.
func (s *nullServer) acceptLoop(l net.Listener) error {
	for {
		conn, err := l.Accept()
		if err != nil {
			return err
		}
		go s.serve(conn)
	}
}

// nullHTTP answers the HTTP calls the benchmark makes of a daemon: /ping
// for readiness, topic and channel creation before publishing.
func nullHTTP() http.Handler {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "OK") }
	for _, path := range []string{"/ping", "/topic/create", "/channel/create"} {
		mux.HandleFunc(path, ok)
	}
	return mux
}

// take reserves up to n of the remaining indexes and returns the first and
// how many; 0 when every index has been handed out.
func (s *nullServer) take(n int64) (first, got int64) {
	hi := s.next.Add(n)
	lo := hi - n
	if lo >= s.messages {
		return 0, 0
	}
	return lo, min(hi, s.messages) - lo
}

// nullConn is one client connection. The reader goroutine owns r; writes
// come from the reader (responses) and, after SUB, from the sender
// (messages), so they go through w under wmu.
type nullConn struct {
	srv  *nullServer
	conn net.Conn
	r    *bufio.Reader

	wmu       sync.Mutex
	w         *bufio.Writer
	unflushed bool // a response waits in w; guarded by wmu
	closing   bool // CLS answered: nothing more is sent; guarded by wmu
	frame     []byte

	mu       sync.Mutex // guards rdy, inFlight and done; cond signals changes
	cond     *sync.Cond
	rdy      int64
	inFlight int64
	done     bool // the connection is going away
}

func (s *nullServer) serve(conn net.Conn) {
	c := &nullConn{srv: s, conn: conn,
		r: bufio.NewReaderSize(conn, outputBufferSize), w: bufio.NewWriterSize(conn, outputBufferSize)}
	c.cond = sync.NewCond(&c.mu)
	c.frame = s.messageTemplate()
	defer conn.Close()
	defer c.stop()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(c.r, magic); err != nil || string(magic) != protocol.MagicV2 {
		return
	}
	for {
		// Answers go out once every command that arrived with them is
		// read: one write for a pipelining client, and none left waiting
		// behind input that needs no answer (a CLOSE_WAIT behind FINs).
		if c.r.Buffered() == 0 {
			if err := c.flushResponses(); err != nil {
				return
			}
		}
		if err := c.command(); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				fmt.Fprintln(os.Stderr, "null server:", err)
			}
			return
		}
	}
}

// messageTemplate is one whole message frame with the bench's filler in
// its body; the sender stamps each index into its ID and body.
func (s *nullServer) messageTemplate() []byte {
	f := make([]byte, msgHeader+msgSize)
	binary.BigEndian.PutUint32(f[0:], uint32(len(f)-4))
	binary.BigEndian.PutUint32(f[4:], uint32(protocol.FrameTypeMessage))
	binary.BigEndian.PutUint64(f[8:], uint64(s.started))
	binary.BigEndian.PutUint16(f[16:], 1) // attempts
	copy(f[msgHeader+8:], filler)
	return f
}

// command reads and answers one command.
func (c *nullConn) command() error {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	name, arg, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(" "))
	switch string(name) {
	case "PUB", "MPUB", "DPUB":
		if err := c.skipBody(); err != nil {
			return err
		}
		c.respond(protocol.FrameTypeResponse, "OK")
	case "IDENTIFY":
		if err := c.skipBody(); err != nil {
			return err
		}
		c.respond(protocol.FrameTypeResponse, identifyResponse)
	case "SUB":
		go c.sendMessages()
		c.respond(protocol.FrameTypeResponse, "OK")
	case "RDY":
		return c.setRDY(arg)
	case "FIN", "REQ":
		// A REQ frees its slot too; the index is not sent again, so the
		// tally would report it missing (the bench's handler never requeues).
		c.finished()
	case "CLS":
		c.startClose()
	case "NOP", "TOUCH":
	default:
		c.respond(protocol.FrameTypeError, "E_INVALID invalid command "+string(name))
		c.flushResponses()
		return fmt.Errorf("unexpected command %q", name)
	}
	return nil
}

// identifyResponse is nsqd v1.3.0's answer to a go-nsq IDENTIFY (which
// always sets feature_negotiation), every feature off.
var identifyResponse = func() string {
	b, err := json.Marshal(map[string]any{
		"max_rdy_count": 2500, "version": "1.3.0", "max_msg_timeout": 900000,
		"msg_timeout": 60000, "tls_v1": false, "deflate": false, "deflate_level": 6,
		"max_deflate_level": 6, "snappy": false, "sample_rate": 0, "auth_required": false,
		"output_buffer_size": outputBufferSize, "output_buffer_timeout": 250,
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// skipBody reads a command's 4-byte size and skips that many bytes: what
// is published is neither checked nor kept.
func (c *nullConn) skipBody() error {
	var size [4]byte
	if _, err := io.ReadFull(c.r, size[:]); err != nil {
		return err
	}
	_, err := c.r.Discard(int(binary.BigEndian.Uint32(size[:])))
	return err
}

// respond buffers one frame; serve flushes it before it waits for input.
// A write error stays in w and comes back from the flush.
func (c *nullConn) respond(frameType int32, data string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	protocol.WriteFrame(c.w, frameType, []byte(data))
	c.unflushed = true
}

// flushResponses flushes w if a response waits in it; messages the sender
// buffered alone are left for the sender to flush when it must wait.
func (c *nullConn) flushResponses() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.unflushed {
		return nil
	}
	c.unflushed = false
	return c.w.Flush()
}

func (c *nullConn) setRDY(arg []byte) error {
	n, err := strconv.ParseInt(string(arg), 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("RDY %q", arg)
	}
	c.mu.Lock()
	c.rdy = n
	c.mu.Unlock()
	c.cond.Signal()
	return nil
}

func (c *nullConn) finished() {
	c.mu.Lock()
	c.inFlight--
	c.mu.Unlock()
	c.cond.Signal()
}

// startClose answers CLS as nsqd does. closing is set under wmu, so no
// message is written after CLOSE_WAIT: go-nsq would not read it.
func (c *nullConn) startClose() {
	c.wmu.Lock()
	c.closing = true
	c.wmu.Unlock()
	c.stop()
	c.respond(protocol.FrameTypeResponse, "CLOSE_WAIT")
}

// stop ends the sender.
func (c *nullConn) stop() {
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
	c.cond.Signal()
}

// sendMessages is the subscriber's sender: it writes as many messages as
// RDY leaves room for, and flushes only when it must wait, as nsqd's
// message pump does.
func (c *nullConn) sendMessages() {
	for {
		slots := c.reserve(false)
		if slots == 0 {
			if c.flush() != nil {
				return
			}
			if slots = c.reserve(true); slots == 0 {
				return // done
			}
		}
		sent, err := c.write(slots)
		c.release(slots - sent)
		if err != nil || sent < slots {
			c.flush()
			return // every index handed out, or the connection failed
		}
	}
}

// reserve counts the free RDY slots as in flight and returns how many;
// with wait it blocks until there is one or the connection is done.
func (c *nullConn) reserve(wait bool) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	for wait && !c.done && c.rdy-c.inFlight <= 0 {
		c.cond.Wait()
	}
	if c.done || c.rdy-c.inFlight <= 0 {
		return 0
	}
	n := c.rdy - c.inFlight
	c.inFlight += n
	return n
}

func (c *nullConn) release(n int64) {
	c.mu.Lock()
	c.inFlight -= n
	c.mu.Unlock()
}

// write sends up to n messages, the next indexes the server hands out, and
// returns how many it sent.
func (c *nullConn) write(n int64) (int64, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closing {
		return 0, nil
	}
	first, got := c.srv.take(n)
	f := c.frame
	for i := first; i < first+got; i++ {
		stampID(f[18:msgHeader], i)
		stamp(f[msgHeader:], int(i))
		if _, err := c.w.Write(f); err != nil {
			return i - first, err
		}
	}
	return got, nil
}

func (c *nullConn) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.unflushed = false
	return c.w.Flush()
}

// stampID writes index as nsqd's ID format, 16 hex digits, so FINs carry
// an ID that reads back as the message they finish.
func stampID(id []byte, index int64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(index))
	hex.Encode(id, b[:])
}
