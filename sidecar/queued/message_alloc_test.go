package queued

import (
	"bytes"
	"testing"
)

// Messages of one MPUB share allocations, but never bytes: filling each
// body, in any size up to beyond a chunk, leaves every other intact, and a
// body cannot grow into its neighbour.
func TestBatchAllocatorBodiesNeverOverlap(t *testing.T) {
	t.Parallel()
	a := newBatchAllocator()
	var msgs []*Message
	for i := range 300 {
		m := a.message(MessageID{}, 1+(i*37)%(bodyChunk/2))
		for j := range m.Body {
			m.Body[j] = byte(i)
		}
		if cap(m.Body) != len(m.Body) {
			t.Fatalf("body %d has room to grow (%d of %d) into the next", i, len(m.Body), cap(m.Body))
		}
		msgs = append(msgs, m)
	}
	for i, m := range msgs {
		if !bytes.Equal(m.Body, bytes.Repeat([]byte{byte(i)}, len(m.Body))) {
			t.Fatalf("body %d was overwritten", i)
		}
		if m.Timestamp != msgs[0].Timestamp {
			t.Fatalf("message %d published at another time than the batch", i)
		}
	}
}
