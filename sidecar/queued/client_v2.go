package queued

import (
	"bufio"
	"compress/flate"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
)

// Client states, as nsqd's.
const (
	stateInit = iota
	stateDisconnected
	stateConnected
	stateSubscribed
	stateClosing
)

const defaultBufferSize = 16 * 1024

type identifyData struct {
	ClientID            string `json:"client_id"`
	Hostname            string `json:"hostname"`
	HeartbeatInterval   int    `json:"heartbeat_interval"`
	OutputBufferSize    int    `json:"output_buffer_size"`
	OutputBufferTimeout int    `json:"output_buffer_timeout"`
	FeatureNegotiation  bool   `json:"feature_negotiation"`
	TLSv1               bool   `json:"tls_v1"`
	Deflate             bool   `json:"deflate"`
	DeflateLevel        int    `json:"deflate_level"`
	Snappy              bool   `json:"snappy"`
	SampleRate          int32  `json:"sample_rate"`
	UserAgent           string `json:"user_agent"`
	MsgTimeout          int    `json:"msg_timeout"`
}

// identifyEvent tells the client's message pump what IDENTIFY changed.
type identifyEvent struct {
	outputBufferTimeout time.Duration
	heartbeatInterval   time.Duration
	sampleRate          int32
	msgTimeout          time.Duration
}

// client is one TCP connection speaking protocol V2.
type client struct {
	ID int64
	d  *Daemon

	readyCount    atomic.Int64
	inFlightCount atomic.Int64
	messageCount  atomic.Uint64
	finishCount   atomic.Uint64
	requeueCount  atomic.Uint64
	pubCounts     sync.Map // topic -> *atomic.Uint64
	state         atomic.Int32
	connectTime   time.Time

	net.Conn
	tlsConn     *tls.Conn
	flateWriter *flate.Writer
	snappyWrite *snappy.Writer
	Reader      *bufio.Reader
	writeMu     sync.Mutex
	Writer      *bufio.Writer

	metaMu              sync.RWMutex
	clientID, hostname  string
	userAgent           string
	heartbeatInterval   time.Duration
	outputBufferSize    int
	outputBufferTimeout time.Duration
	msgTimeout          time.Duration
	sampleRate          atomic.Int32
	tls, snappy         atomic.Bool
	deflate             atomic.Bool
	auth                authState

	channel        *Channel
	readyStateChan chan struct{}
	subEventChan   chan *Channel
	identifyChan   chan identifyEvent
	exitChan       chan struct{}
	closeOnce      sync.Once
	lenBuf         [4]byte
}

func newClient(id int64, conn net.Conn, d *Daemon) *client {
	o := d.opts()
	host, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
	c := &client{
		ID:                  id,
		d:                   d,
		Conn:                conn,
		Reader:              bufio.NewReaderSize(conn, defaultBufferSize),
		Writer:              bufio.NewWriterSize(conn, defaultBufferSize),
		connectTime:         time.Now(),
		clientID:            host,
		hostname:            host,
		heartbeatInterval:   o.ClientTimeout / 2,
		outputBufferSize:    defaultBufferSize,
		outputBufferTimeout: o.OutputBufferTimeout,
		msgTimeout:          o.MsgTimeout,
		readyStateChan:      make(chan struct{}, 1),
		subEventChan:        make(chan *Channel, 1),
		identifyChan:        make(chan identifyEvent, 1),
		exitChan:            make(chan struct{}),
	}
	return c
}

func (c *client) String() string { return c.RemoteAddr().String() }

// identify applies an IDENTIFY body; its errors' texts are nsqd's.
func (c *client) identify(data identifyData) error {
	c.metaMu.Lock()
	c.clientID, c.hostname, c.userAgent = data.ClientID, data.Hostname, data.UserAgent
	c.metaMu.Unlock()
	o := c.d.opts()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	switch hb := data.HeartbeatInterval; {
	case hb == -1:
		c.heartbeatInterval = 0
	case hb == 0:
	case hb >= 1000 && hb <= int(o.MaxHeartbeatInterval/time.Millisecond):
		c.heartbeatInterval = time.Duration(hb) * time.Millisecond
	default:
		return fmt.Errorf("heartbeat interval (%d) is invalid", hb)
	}
	if err := c.setOutputBuffer(data.OutputBufferSize, data.OutputBufferTimeout); err != nil {
		return err
	}
	if data.SampleRate < 0 || data.SampleRate > 99 {
		return fmt.Errorf("sample rate (%d) is invalid", data.SampleRate)
	}
	c.sampleRate.Store(data.SampleRate)
	switch mt := data.MsgTimeout; {
	case mt == 0:
	case mt >= 1000 && mt <= int(o.MaxMsgTimeout/time.Millisecond):
		c.msgTimeout = time.Duration(mt) * time.Millisecond
	default:
		return fmt.Errorf("msg timeout (%d) is invalid", mt)
	}
	select {
	case c.identifyChan <- identifyEvent{c.outputBufferTimeout, c.heartbeatInterval, data.SampleRate, c.msgTimeout}:
	default:
	}
	return nil
}

// setOutputBuffer is called with writeMu held.
func (c *client) setOutputBuffer(size, timeout int) error {
	o := c.d.opts()
	switch {
	case timeout == -1:
		c.outputBufferTimeout = 0
	case timeout == 0:
	case timeout >= int(o.MinOutputBufferTimeout/time.Millisecond) && timeout <= int(o.MaxOutputBufferTimeout/time.Millisecond):
		c.outputBufferTimeout = time.Duration(timeout) * time.Millisecond
	default:
		return fmt.Errorf("output buffer timeout (%d) is invalid", timeout)
	}
	switch {
	case size == -1:
		c.outputBufferSize, c.outputBufferTimeout = 1, 0
	case size == 0:
	case size >= 64 && size <= int(o.MaxOutputBufferSize):
		c.outputBufferSize = size
	default:
		return fmt.Errorf("output buffer size (%d) is invalid", size)
	}
	if size != 0 {
		if err := c.Writer.Flush(); err != nil {
			return err
		}
		c.Writer = bufio.NewWriterSize(c.Conn, c.outputBufferSize)
	}
	return nil
}

// flush is called with writeMu held.
func (c *client) flush() error {
	if c.heartbeatInterval > 0 {
		c.SetWriteDeadline(time.Now().Add(c.heartbeatInterval))
	} else {
		c.SetWriteDeadline(time.Time{})
	}
	if err := c.Writer.Flush(); err != nil {
		return err
	}
	if c.flateWriter != nil {
		return c.flateWriter.Flush()
	}
	if c.snappyWrite != nil {
		return c.snappyWrite.Flush()
	}
	return nil
}

// isReadyForMessages is nsqd's flow control: RDY above what is in flight,
// and the channel not paused.
func (c *client) isReadyForMessages() bool {
	if c.channel.IsPaused() {
		return false
	}
	ready := c.readyCount.Load()
	return ready > 0 && c.inFlightCount.Load() < ready
}

func (c *client) setReadyCount(n int64) {
	old := c.readyCount.Swap(n)
	if old != n {
		c.tryUpdateReady()
	}
}

func (c *client) tryUpdateReady() {
	select {
	case c.readyStateChan <- struct{}{}:
	default:
	}
}

func (c *client) sendingMessage() {
	c.inFlightCount.Add(1)
	c.messageCount.Add(1)
}

func (c *client) finishedMessage() {
	c.finishCount.Add(1)
	c.inFlightCount.Add(-1)
	c.tryUpdateReady()
}

func (c *client) requeuedMessage() {
	c.requeueCount.Add(1)
	c.inFlightCount.Add(-1)
	c.tryUpdateReady()
}

func (c *client) timedOutMessage() {
	c.inFlightCount.Add(-1)
	c.tryUpdateReady()
}

func (c *client) empty() {
	c.inFlightCount.Store(0)
	c.tryUpdateReady()
}

func (c *client) publishedMessage(topic string, n uint64) {
	v, _ := c.pubCounts.LoadOrStore(topic, new(atomic.Uint64))
	v.(*atomic.Uint64).Add(n)
}

// close ends the connection; its read loop then cleans up.
func (c *client) close() {
	c.Conn.Close()
}
