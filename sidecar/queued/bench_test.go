package queued

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// BenchmarkPubSub publishes b.N 200-byte messages with MPUB batches of 200
// to a topic with one channel, then consumes them with one client at RDY
// 2500: the path `make bench` measures against nsqd.
func BenchmarkPubSub(b *testing.B) {
	d := startDaemon(b, nil)
	sub := subscribe(b, d, "bench", "c")
	pub := dial(b, d)
	body := mpubBatch(200, 200)
	b.SetBytes(200)
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += 200 {
		pub.cmd("MPUB bench", body)
		pub.expectOK()
	}
	sub.cmd("RDY 2500")
	for got := 0; got < (b.N+199)/200*200; got++ {
		m := sub.message()
		sub.cmd("FIN " + m.id)
	}
}

func mpubBatch(n, size int) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(n))
	msg := []byte(fmt.Sprintf("%0*d", size, 0))
	for range n {
		b = binary.BigEndian.AppendUint32(b, uint32(size))
		b = append(b, msg...)
	}
	return b
}

// BenchmarkSub measures only delivery: b.N messages already in the
// channel (mostly on disk), consumed at RDY 2500, FINs sent in batches.
func BenchmarkSub(b *testing.B) {
	d := startDaemon(b, nil)
	sub := subscribe(b, d, "bench", "c")
	pub := dial(b, d)
	body := mpubBatch(200, 200)
	n := (b.N + 199) / 200 * 200
	for sent := 0; sent < n; sent += 200 {
		pub.cmd("MPUB bench", body)
		pub.expectOK()
	}
	ch := mustChannel(b, d, "bench", "c")
	waitFor(b, "every message in the channel", func() bool { return ch.Depth() == int64(n) })
	b.SetBytes(200)
	b.ReportAllocs()
	b.ResetTimer()
	sub.cmd("RDY 2500")
	var fins []byte
	for got := 1; got <= n; got++ {
		fins = append(append(fins, "FIN "+sub.message().id...), '\n')
		if got%100 == 0 || got == n {
			sub.Write(fins)
			fins = fins[:0]
		}
	}
}
