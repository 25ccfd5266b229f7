package queued

import (
	"bufio"
	"compress/flate"
	"crypto/tls"
	"net"
	"time"

	"github.com/golang/snappy"
)

// The upgrades IDENTIFY negotiates, in the order nsqd applies them: TLS,
// then snappy or deflate on top of it.

func (c *client) upgradeTLS(cfg *tls.Config) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	conn := tls.Server(c.Conn, cfg)
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := conn.Handshake(); err != nil {
		return err
	}
	conn.SetDeadline(time.Time{})
	c.tlsConn = conn
	c.Reader = bufio.NewReaderSize(conn, defaultBufferSize)
	c.Writer = bufio.NewWriterSize(conn, c.outputBufferSize)
	c.tls.Store(true)
	return nil
}

// stream is what compression wraps: the TLS connection if there is one.
func (c *client) stream() net.Conn {
	if c.tlsConn != nil {
		return c.tlsConn
	}
	return c.Conn
}

func (c *client) upgradeDeflate(level int) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	conn := c.stream()
	c.Reader = bufio.NewReaderSize(flate.NewReader(conn), defaultBufferSize)
	fw, err := flate.NewWriter(conn, level)
	if err != nil {
		return err
	}
	c.flateWriter = fw
	c.Writer = bufio.NewWriterSize(fw, c.outputBufferSize)
	c.deflate.Store(true)
	return nil
}

func (c *client) upgradeSnappy() error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	conn := c.stream()
	c.Reader = bufio.NewReaderSize(snappy.NewReader(conn), defaultBufferSize)
	c.Writer = bufio.NewWriterSize(snappy.NewWriter(conn), c.outputBufferSize)
	c.snappy.Store(true)
	return nil
}
