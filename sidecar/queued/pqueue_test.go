package queued

import (
	"math/rand/v2"
	"testing"
)

func TestMessagePQOrdersAndRemoves(t *testing.T) {
	t.Parallel()
	var pq messagePQ
	msgs := make([]*Message, 200)
	for i := range msgs {
		msgs[i] = &Message{pri: rand.Int64N(1000)}
		pq.push(msgs[i])
	}
	for _, m := range msgs[:50] { // FIN some from the middle
		pq.remove(m.index)
	}
	msgs[60].pri = -1
	pq.fix(msgs[60])
	if got := pq.popDue(-1); got != msgs[60] {
		t.Fatalf("fix did not move the message to the front")
	}
	last := int64(-1)
	for n := 0; ; n++ {
		m := pq.popDue(1 << 62)
		if m == nil {
			if n != 149 {
				t.Fatalf("popped %d, want 149", n)
			}
			return
		}
		if m.pri < last {
			t.Fatalf("out of order: %d after %d", m.pri, last)
		}
		last = m.pri
	}
}
