package queued

import (
	"testing"

	"github.com/sidequeue/sidequeue/sidecar/diskqueue"
)

// The ledger commits only past messages all done, in batches, and at once
// when nothing is left outstanding.
func TestLedgerCommitsOnlyPastDoneMessages(t *testing.T) {
	t.Parallel()
	var l ledger
	seqs := make([]uint64, 200)
	for i := range seqs {
		seqs[i] = l.add(nil, diskqueue.Position{})
	}
	if _, ok := l.resolve(seqs[1]); ok {
		t.Fatal("committed past message 0, which is still in flight")
	}
	for _, s := range seqs[2:100] {
		if _, ok := l.resolve(s); ok {
			t.Fatal("committed past message 0, which is still in flight")
		}
	}
	if _, ok := l.resolve(seqs[0]); !ok {
		t.Fatal("100 messages done in a row, and no commit")
	}
	for _, s := range seqs[100:199] {
		l.resolve(s)
	}
	if _, ok := l.resolve(seqs[199]); !ok {
		t.Fatal("everything done, and the last ones not committed")
	}
	l.reset()
	if _, ok := l.resolve(seqs[5]); ok {
		t.Fatal("a message from before the reset moved the position")
	}
}

// oldest names the message the position waits for and counts what is done
// behind it: what a crash would deliver again.
func TestLedgerOldestCountsWhatIsDoneBehindIt(t *testing.T) {
	t.Parallel()
	var l ledger
	msgs := []*Message{{}, {}, {}, {}}
	seqs := make([]uint64, len(msgs))
	for i, m := range msgs {
		seqs[i] = l.add(m, diskqueue.Position{})
	}
	l.resolve(seqs[2])
	l.resolve(seqs[3])
	if m, done := l.oldest(); m != msgs[0] || done != 2 {
		t.Fatalf("oldest %p with %d done behind, want message 0 with 2", m, done)
	}
	l.resolve(seqs[0])
	if m, done := l.oldest(); m != msgs[1] || done != 2 {
		t.Fatalf("oldest %p with %d done behind, want message 1 with 2", m, done)
	}
	l.resolve(seqs[1])
	if m, done := l.oldest(); m != nil || done != 0 {
		t.Fatalf("oldest %p with %d done behind, want nothing outstanding", m, done)
	}
}
