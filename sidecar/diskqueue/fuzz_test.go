package diskqueue

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
)

const fuzzRecords = 60

func fuzzPayload(i int) []byte {
	return append(fmt.Appendf(nil, "rec-%03d-", i), bytes.Repeat([]byte{'a' + byte(i%26)}, i*7%90)...)
}

// span is where one record lies: segment file and byte range.
type span struct {
	seg        int64
	start, end int64
}

// fuzzLayout is where the records must be, worked out from the format's
// rules rather than from the code under test.
func fuzzLayout(maxBytesPerFile int64) []span {
	var spans []span
	seg, off := int64(0), int64(0)
	for i := range fuzzRecords {
		size := recordSize(len(fuzzPayload(i)))
		if off > 0 && off+size > maxBytesPerFile {
			seg, off = seg+1, 0
		}
		spans = append(spans, span{seg, off, off + size})
		off += size
	}
	return spans
}

// FuzzRecovery damages a closed queue's files (byte flips given as 5-byte
// chunks: a 4-byte position and a mask; a 2-byte remainder cuts the last
// segment short) and checks that Open never fails or panics, that every
// record whose bytes were untouched is read back in order, that nothing
// else is, and that lost records are counted as damage.
func FuzzRecovery(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0xff})                               // first record's magic
	f.Add([]byte{0, 0, 0, 5, 0x80})                               // first record's length
	f.Add([]byte{0, 0, 0, 30, 0x01})                              // a payload byte
	f.Add([]byte{0, 0, 3, 0xf0, 0x10, 0, 0, 1, 0, 0x20})          // two segments
	f.Add([]byte{0, 0, 0, 9})                                     // torn tail
	f.Add([]byte{0, 0, 0x20, 0, 0xff, 0, 0, 0x20, 4, 0xff, 1})    // flips past the end: metadata
	f.Add([]byte{0, 0, 0x0f, 0xf0, 0x55, 0, 0, 0x0f, 0xff, 0x55}) // last segment's tail
	f.Fuzz(func(t *testing.T, damage []byte) {
		o := testOptions()
		o.Logf = nil
		dir := t.TempDir()
		q, err := Open(dir, "fuzz", o)
		if err != nil {
			t.Fatal(err)
		}
		for i := range fuzzRecords {
			if err := q.Put(fuzzPayload(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		spans := fuzzLayout(o.MaxBytesPerFile)
		touched := applyDamage(t, q.files, spans[len(spans)-1].seg, damage)

		q, err = Open(dir, "fuzz", o)
		if err != nil {
			t.Fatalf("Open after damage: %v", err)
		}
		defer q.Close()
		got := readAll(t, q)
		next, missing, touchedCount := 0, 0, 0
		for i, sp := range spans {
			hit := touched.hits(sp)
			if hit {
				touchedCount++
			}
			if next < len(got) && bytes.Equal(got[next], fuzzPayload(i)) {
				next++
				continue
			}
			if !hit {
				t.Fatalf("record %d was not damaged but was not read back in order", i)
			}
			missing++
		}
		if next != len(got) {
			t.Fatalf("read %d records, only %d of them written (or out of order)", len(got), next)
		}
		damaged := q.Stats().DamagedRecords
		if missing > 0 && damaged == 0 {
			t.Fatalf("%d records lost to damage but none counted", missing)
		}
		if damaged > int64(touchedCount) {
			t.Fatalf("%d damaged runs counted, but only %d records were touched", damaged, touchedCount)
		}
	})
}

// damageMap holds, per segment, the offsets that were changed and where
// the segment was cut short.
type damageMap struct {
	flipped map[int64][]int64
	cutSeg  int64
	cutAt   int64 // -1 if nothing was cut
}

func (d damageMap) hits(sp span) bool {
	for _, off := range d.flipped[sp.seg] {
		if off >= sp.start && off < sp.end {
			return true
		}
	}
	return sp.seg == d.cutSeg && d.cutAt >= 0 && sp.end > d.cutAt
}

// applyDamage flips bytes across the segments and the metadata file, taken
// as one run of bytes, and may cut the last segment short.
func applyDamage(t *testing.T, fl files, lastSeg int64, damage []byte) damageMap {
	var names []string
	for n := int64(0); n <= lastSeg; n++ {
		names = append(names, fl.segment(n))
	}
	names = append(names, fl.meta())
	contents := make([][]byte, len(names))
	total := 0
	for i, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		contents[i] = b
		total += len(b)
	}
	d := damageMap{flipped: map[int64][]int64{}, cutSeg: lastSeg, cutAt: -1}
	for ; len(damage) >= 5; damage = damage[5:] {
		pos := int(binary.BigEndian.Uint32(damage) % uint32(total))
		mask := max(damage[4], 1)
		for i := range contents {
			if pos < len(contents[i]) {
				contents[i][pos] ^= mask
				if i < len(contents)-1 {
					d.flipped[int64(i)] = append(d.flipped[int64(i)], int64(pos))
				}
				break
			}
			pos -= len(contents[i])
		}
	}
	if len(damage) >= 2 {
		last := &contents[lastSeg]
		d.cutAt = int64(int(binary.BigEndian.Uint16(damage)) % (len(*last) + 1))
		*last = (*last)[:d.cutAt]
	}
	for i, name := range names {
		if err := os.WriteFile(name, contents[i], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return d
}
