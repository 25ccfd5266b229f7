package diskqueue

import (
	"errors"
	"testing"
)

// The hot paths: Put under nsqd's default sync, durable Put from many
// goroutines (group commit), and Read. make bench-diskqueue compares the
// whole queue with go-diskqueue; these watch the paths themselves.

func BenchmarkPut(b *testing.B) {
	q := mustOpen(b, b.TempDir(), NewOptions())
	payload := make([]byte, 200)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if err := q.Put(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutDurableParallel(b *testing.B) {
	o := NewOptions()
	o.SyncEvery = 1
	q := mustOpen(b, b.TempDir(), o)
	payload := make([]byte, 200)
	b.SetBytes(int64(len(payload)))
	b.SetParallelism(8) // 16 writers on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := q.Put(payload); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRead(b *testing.B) {
	q := mustOpen(b, b.TempDir(), NewOptions())
	payload := make([]byte, 200)
	for range b.N {
		if err := q.Put(payload); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := q.Read(); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := q.Read(); !errors.Is(err, ErrEmpty) {
		b.Fatalf("after reading all: %v", err)
	}
}
