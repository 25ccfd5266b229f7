package msgs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Set is a set of sequence numbers. Its text form (and JSON, a string)
// lists ranges, "0-999,1002,1004-1010", so a publisher's tens of thousands
// of acknowledged IDs stay a short line.
type Set struct {
	m map[uint64]struct{}
}

// Add adds seq and reports whether it was new.
func (s *Set) Add(seq uint64) bool {
	if s.m == nil {
		s.m = map[uint64]struct{}{}
	}
	if _, ok := s.m[seq]; ok {
		return false
	}
	s.m[seq] = struct{}{}
	return true
}

// Has reports whether seq is in the set.
func (s Set) Has(seq uint64) bool { _, ok := s.m[seq]; return ok }

// Len is the number of sequence numbers in the set.
func (s Set) Len() int { return len(s.m) }

// Minus is the set of s's numbers that are not in o.
func (s Set) Minus(o Set) Set {
	var d Set
	for seq := range s.m {
		if !o.Has(seq) {
			d.Add(seq)
		}
	}
	return d
}

// Clone is a copy of s, for handing out while s keeps growing.
func (s Set) Clone() Set {
	var c Set
	for seq := range s.m {
		c.Add(seq)
	}
	return c
}

// String is the range form: "" for the empty set.
func (s Set) String() string {
	seqs := make([]uint64, 0, len(s.m))
	for seq := range s.m {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	var b strings.Builder
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(seqs[i], 10))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.FormatUint(seqs[j], 10))
		}
		i = j + 1
	}
	return b.String()
}

// ParseSet reads the range form String writes.
func ParseSet(text string) (Set, error) {
	var s Set
	if text == "" {
		return s, nil
	}
	for _, part := range strings.Split(text, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return Set{}, fmt.Errorf("set %q: %w", text, err)
		}
		b, err := strconv.ParseUint(hi, 10, 64)
		if err != nil || b < a {
			return Set{}, fmt.Errorf("set %q: bad range %q", text, part)
		}
		for seq := a; ; seq++ {
			s.Add(seq)
			if seq == b {
				break
			}
		}
	}
	return s, nil
}

func (s Set) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

func (s *Set) UnmarshalJSON(b []byte) error {
	var text string
	if err := json.Unmarshal(b, &text); err != nil {
		return err
	}
	p, err := ParseSet(text)
	*s = p
	return err
}
