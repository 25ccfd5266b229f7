package msgs

import (
	"encoding/json"
	"testing"
)

func TestBodyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		source string
		seq    uint64
	}{{"publisher-7d9f-abcde", 0}, {"a/b", 42}, {"p", 1<<64 - 1}} {
		src, seq, err := Parse(Body(c.source, c.seq))
		if err != nil || src != c.source || seq != c.seq {
			t.Errorf("Parse(Body(%q, %d)) = %q, %d, %v", c.source, c.seq, src, seq, err)
		}
	}
	for _, bad := range []string{"", "noslash", "/1", "p/", "p/x", "p/-1"} {
		if _, _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestSetRanges(t *testing.T) {
	t.Parallel()
	var s Set
	for _, seq := range []uint64{5, 0, 1, 2, 9, 7, 8, 3} {
		s.Add(seq)
	}
	if s.Add(2) {
		t.Error("adding 2 twice reports it new")
	}
	if got, want := s.String(), "0-3,5,7-9"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	p, err := ParseSet(s.String())
	if err != nil || p.String() != s.String() || p.Len() != 8 {
		t.Fatalf("ParseSet(%q) = %q (%d), %v", s.String(), p.String(), p.Len(), err)
	}
	for _, bad := range []string{"x", "3-1", "1-", ",", "1,,2"} {
		if _, err := ParseSet(bad); err == nil {
			t.Errorf("ParseSet(%q) accepted", bad)
		}
	}
}

func TestMissingThroughJSON(t *testing.T) {
	t.Parallel()
	var acked, got Set
	for seq := range uint64(100) {
		acked.Add(seq)
		if seq%10 != 3 {
			got.Add(seq)
		}
	}
	p := PublisherStats{Source: "pub-1", Acked: acked.Len(), AckedIDs: acked}
	c := ConsumerStats{Received: map[string]Set{"pub-1": got, "pub-2": acked}}
	var p2 PublisherStats
	var c2 ConsumerStats
	roundTrip(t, p, &p2)
	roundTrip(t, c, &c2)
	if m := Missing(p2, c2); m.String() != "3,13,23,33,43,53,63,73,83,93" {
		t.Fatalf("missing %q", m.String())
	}
	var empty ConsumerStats
	if m := Missing(p2, empty); m.Len() != 100 {
		t.Fatalf("nothing received: %d missing, want 100", m.Len())
	}
}

func roundTrip(t *testing.T, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}
