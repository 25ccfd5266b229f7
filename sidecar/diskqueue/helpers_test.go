package diskqueue

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/testutil"
)

// testOptions are small and fast: tiny segments so tests cross many rolls.
func testOptions() Options {
	o := NewOptions()
	o.MaxBytesPerFile = 1024
	o.MaxRecordSize = 4096
	o.SyncTimeout = 10 * time.Millisecond
	return o
}

func mustOpen(t testing.TB, dir string, o Options) *Queue {
	t.Helper()
	q, err := Open(dir, "test", o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func record(i int) []byte { return fmt.Appendf(nil, "record-%06d", i) }

func putN(t testing.TB, q *Queue, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := q.Put(record(i)); err != nil {
			t.Fatalf("Put(%d): %v", i, err)
		}
	}
}

// readAll reads until the queue is empty.
func readAll(t testing.TB, q *Queue) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		b, err := q.Read()
		if errors.Is(err, ErrEmpty) {
			return out
		}
		if err != nil {
			t.Fatalf("Read after %d records: %v", len(out), err)
		}
		out = append(out, b)
	}
}

// expectRecords checks that got is exactly record(from) .. record(to-1).
func expectRecords(t testing.TB, got [][]byte, from, to int) {
	t.Helper()
	if len(got) != to-from {
		t.Fatalf("read %d records, want %d", len(got), to-from)
	}
	for i, b := range got {
		if want := record(from + i); string(b) != string(want) {
			t.Fatalf("record %d is %q, want %q", i, b, want)
		}
	}
}

// eventually waits for cond, failing the test after a deadline.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, what, 10*time.Second, cond)
}
