package queued

import (
	"encoding/binary"
	"errors"
	"time"
)

const (
	// MsgIDLength is the size of a message ID on the wire: 16 hex digits.
	MsgIDLength = 16
	// messageHeaderSize is timestamp, attempts and ID, before the body.
	messageHeaderSize = 8 + 2 + MsgIDLength
)

// MessageID identifies a message as nsqd does: a time-ordered 64-bit number
// written as 16 hex digits.
type MessageID [MsgIDLength]byte

// Message is one message in a topic or channel.
type Message struct {
	ID        MessageID
	Body      []byte
	Timestamp int64 // publish time, Unix nanoseconds
	Attempts  uint16

	// Bookkeeping while in flight or deferred, guarded by the channel.
	clientID    int64
	deliveredAt int64 // Unix nanoseconds (a time.Time would cost 16 bytes and a pointer more)
	pri         int64 // deadline (in flight) or due time (deferred), Unix nanoseconds
	index       int   // position in its priority queue

	deferUntil int64  // set by DPUB: when the message becomes deliverable
	diskSeq    uint64 // in the channel's ledger: read from disk, not yet done
}

func newMessage(id MessageID, body []byte) *Message {
	return &Message{ID: id, Body: body, Timestamp: time.Now().UnixNano()}
}

// appendWire appends the message as protocol V2 frames carry it.
func (m *Message) appendWire(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.Timestamp))
	dst = binary.BigEndian.AppendUint16(dst, m.Attempts)
	dst = append(dst, m.ID[:]...)
	return append(dst, m.Body...)
}

// On disk a message is a kind byte, for deferred ones the due time, then
// the wire form. Deferred messages keep their due time across a restart.
const (
	diskPlain    = 0
	diskDeferred = 1
)

// maxDiskLen is the most appendDisk writes for a body of n bytes: the kind
// byte, a due time, the wire form.
func maxDiskLen(n int) int { return 1 + 8 + messageHeaderSize + n }

func (m *Message) appendDisk(dst []byte, dueAt int64) []byte {
	if dueAt == 0 {
		return m.appendWire(append(dst, diskPlain))
	}
	dst = binary.BigEndian.AppendUint64(append(dst, diskDeferred), uint64(dueAt))
	return m.appendWire(dst)
}

var errBadMessage = errors.New("message record too short or of unknown kind")

// decodeDisk parses a record written by appendDisk. The body aliases b.
func decodeDisk(b []byte) (m *Message, dueAt int64, err error) {
	if len(b) < 1 {
		return nil, 0, errBadMessage
	}
	kind, b := b[0], b[1:]
	switch kind {
	case diskPlain:
	case diskDeferred:
		if len(b) < 8 {
			return nil, 0, errBadMessage
		}
		dueAt, b = int64(binary.BigEndian.Uint64(b)), b[8:]
	default:
		return nil, 0, errBadMessage
	}
	if len(b) < messageHeaderSize {
		return nil, 0, errBadMessage
	}
	m = &Message{
		Timestamp: int64(binary.BigEndian.Uint64(b)),
		Attempts:  binary.BigEndian.Uint16(b[8:]),
		Body:      b[messageHeaderSize:],
	}
	copy(m.ID[:], b[10:messageHeaderSize])
	return m, dueAt, nil
}

// batchAllocator hands out the messages of one MPUB, with their bodies, a
// chunk at a time instead of two allocations each: on the publish path in
// memory, allocating was most of the daemon's work. A chunk lives as long
// as any message in it, so chunks stay small: a message kept long (in
// flight, deferred) holds at most a few kilobytes besides its own.
type batchAllocator struct {
	msgs      []Message
	bodies    []byte
	timestamp int64 // one publish time for the batch, as it is one publish
}

const (
	msgChunk  = 32       // messages per allocation
	bodyChunk = 16 << 10 // bytes of bodies per allocation; larger bodies get their own
)

func newBatchAllocator() batchAllocator {
	return batchAllocator{timestamp: time.Now().UnixNano()}
}

// message returns a new message with id and an uninitialised body of size
// bytes, to be read into.
func (a *batchAllocator) message(id MessageID, size int) *Message {
	if len(a.msgs) == 0 {
		a.msgs = make([]Message, msgChunk)
	}
	m := &a.msgs[0]
	a.msgs = a.msgs[1:]
	m.ID, m.Timestamp = id, a.timestamp
	switch {
	case size > bodyChunk/4:
		m.Body = make([]byte, size)
	default:
		if size > len(a.bodies) {
			a.bodies = make([]byte, bodyChunk)
		}
		m.Body, a.bodies = a.bodies[:size:size], a.bodies[size:]
	}
	return m
}
