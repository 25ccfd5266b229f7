// Package lookupwire is the wire format of the lookup daemon's TCP protocol
// "V1", byte-compatible with nsqlookupd v1.3.0, for both sides: the queue
// daemon registering with a lookupd, and the lookupd serving it.
//
// A connection starts with the 4-byte Magic from the client. The client then
// sends text commands, one per line; IDENTIFY alone carries a body (a 4-byte
// big-endian length and JSON). Every command is answered by one response: a
// 4-byte big-endian length and a payload ("OK", IDENTIFY's JSON, or an error
// such as "E_INVALID client must IDENTIFY"). nsqlookupd closes the connection
// after every error it sends, so a client treats an error as the end of the
// session.
package lookupwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Magic is what a client writes first to choose protocol V1 (two spaces, "V1").
const Magic = "  V1"

// Command names of protocol V1.
const (
	CmdIdentify   = "IDENTIFY"
	CmdRegister   = "REGISTER"
	CmdUnregister = "UNREGISTER"
	CmdPing       = "PING"
)

// MaxLineLength bounds a command line read by ReadCommand. nsqlookupd reads
// lines without a bound; the longest legal line (UNREGISTER, two 64-byte
// names) is far below this, so the bound only stops a peer from making the
// server buffer without limit.
const MaxLineLength = 4096

// Command is one client command. Body is non-nil only for IDENTIFY.
type Command struct {
	Name   string
	Params []string
	Body   []byte
}

// String is the command line without its newline, for logs.
func (c Command) String() string {
	return strings.Join(append([]string{c.Name}, c.Params...), " ")
}

// Register builds "REGISTER topic [channel]"; an empty channel means the
// topic-level registration, and is omitted from the line as nsqd omits it.
func Register(topic, channel string) Command {
	return Command{Name: CmdRegister, Params: topicChannel(topic, channel)}
}

// Unregister builds "UNREGISTER topic [channel]" (see Register).
func Unregister(topic, channel string) Command {
	return Command{Name: CmdUnregister, Params: topicChannel(topic, channel)}
}

// Ping builds "PING", the client's heartbeat.
func Ping() Command { return Command{Name: CmdPing} }

func topicChannel(topic, channel string) []string {
	if channel == "" {
		return []string{topic}
	}
	return []string{topic, channel}
}

// WriteMagic writes the protocol magic; the client does this once, first.
func WriteMagic(w io.Writer) error {
	_, err := io.WriteString(w, Magic)
	return err
}

// ErrBadProtocol is returned by ReadMagic for any other 4 bytes. nsqlookupd
// answers it with the response "E_BAD_PROTOCOL" and closes the connection.
var ErrBadProtocol = &Error{Code: "E_BAD_PROTOCOL"}

// ReadMagic reads and checks the client's first 4 bytes (server side).
func ReadMagic(r io.Reader) error {
	var buf [len(Magic)]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return err
	}
	if string(buf[:]) != Magic {
		return ErrBadProtocol
	}
	return nil
}

// WriteCommand serializes c in one Write call, so that a command is never
// interleaved with another writer's bytes and costs one syscall.
func WriteCommand(w io.Writer, c Command) error {
	var buf bytes.Buffer
	buf.WriteString(c.String())
	buf.WriteByte('\n')
	if c.Body != nil {
		var size [4]byte
		binary.BigEndian.PutUint32(size[:], uint32(len(c.Body)))
		buf.Write(size[:])
		buf.Write(c.Body)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ReadCommand reads one command (server side). The line is split the way
// nsqlookupd splits it: surrounding white space trimmed, then split on single
// spaces. A body is read for IDENTIFY only, and refused above maxBodySize.
//
// An *Error result is a protocol error that the server should send as a
// response before closing the connection; any other error (io.EOF, a reset)
// means the connection is already unusable.
func ReadCommand(r *bufio.Reader, maxBodySize int64) (Command, error) {
	line, err := readLine(r)
	if err != nil {
		return Command{}, err
	}
	fields := strings.Split(strings.TrimSpace(line), " ")
	c := Command{Name: fields[0], Params: fields[1:]}
	if c.Name != CmdIdentify {
		return c, nil
	}
	c.Body, err = readBody(r, maxBodySize)
	return c, err
}

func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxLineLength {
			return "", &Error{Code: "E_INVALID", Desc: "command line too long"}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return "", err
		}
		return string(line), nil
	}
}

// readBody reads IDENTIFY's length-prefixed body, with nsqlookupd's error
// texts for the failures it knows and nsqd's wording for the size limits it
// lacks.
func readBody(r io.Reader, maxBodySize int64) ([]byte, error) {
	var size int32
	if err := binary.Read(r, binary.BigEndian, &size); err != nil {
		return nil, &Error{Code: "E_BAD_BODY", Desc: "IDENTIFY failed to read body size", Err: err}
	}
	if size < 0 {
		return nil, &Error{Code: "E_BAD_BODY", Desc: fmt.Sprintf("IDENTIFY invalid body size %d", size)}
	}
	if int64(size) > maxBodySize {
		return nil, &Error{Code: "E_BAD_BODY",
			Desc: fmt.Sprintf("IDENTIFY body too big %d > %d", size, maxBodySize)}
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, &Error{Code: "E_BAD_BODY", Desc: "IDENTIFY failed to read body", Err: err}
	}
	return body, nil
}
