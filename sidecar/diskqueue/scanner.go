package diskqueue

import (
	"bytes"
	"io"
)

const scanBufferSize = 256 * 1024

// scanner walks the records of one segment from a file offset up to a limit,
// skipping damaged bytes by searching for the next intact record. Recovery
// and the reader share it, so both see a segment the same way.
type scanner struct {
	f          io.ReaderAt
	buf        []byte
	lo, hi     int   // buf[lo:hi] holds the file's bytes from off on
	off        int64 // file offset of the next unread record
	limit      int64 // bytes at or past limit are not read
	maxPayload int

	// Damage seen so far: runs of bytes that held no intact record.
	damagedRuns  int64
	damagedBytes int64
	// tailDamage is where the damaged run that reached the limit started,
	// or -1. Recovery truncates the last segment there.
	tailDamage int64
}

func newScanner(f io.ReaderAt, off, limit int64, maxPayload int) *scanner {
	return &scanner{f: f, off: off, limit: limit, maxPayload: maxPayload, tailDamage: -1}
}

// next returns the next intact record's payload, valid until the following
// call, or io.EOF at the limit. Damaged bytes on the way are skipped and
// counted.
func (s *scanner) next() ([]byte, error) {
	damagedFrom := int64(-1)
	for {
		payload, size, need, err := parseRecord(s.buf[s.lo:s.hi], s.maxPayload)
		if err == nil {
			if damagedFrom >= 0 {
				s.noteDamage(damagedFrom, s.off)
			}
			s.lo += size
			s.off += int64(size)
			return payload, nil
		}
		if err == errShort && s.off+int64(need) <= s.limit {
			if ferr := s.fill(need); ferr != nil {
				return nil, ferr
			}
			continue
		}
		if s.lo == s.hi && s.off >= s.limit {
			if damagedFrom >= 0 {
				s.noteDamage(damagedFrom, s.off)
				s.tailDamage = damagedFrom
			}
			return nil, io.EOF
		}
		// The bytes at off are no intact record: look for the next magic.
		if damagedFrom < 0 {
			damagedFrom = s.off
		}
		if err := s.skipToMagic(); err != nil {
			return nil, err
		}
	}
}

// skipToMagic advances past the current byte to the next place where a
// record header could start, reading more of the file as needed.
func (s *scanner) skipToMagic() error {
	s.advance(1)
	for {
		if i := bytes.Index(s.buf[s.lo:s.hi], magicBytes); i >= 0 {
			s.advance(i)
			return nil
		}
		// Keep the last few bytes: the magic may straddle the next read.
		if keep := len(magicBytes) - 1; s.hi-s.lo > keep {
			s.advance(s.hi - s.lo - keep)
		}
		if s.off+int64(s.hi-s.lo) >= s.limit {
			s.advance(s.hi - s.lo)
			s.off = max(s.off, s.limit)
			return nil
		}
		if err := s.fill(s.hi - s.lo + 1); err != nil {
			return err
		}
	}
}

func (s *scanner) advance(n int) {
	n = min(n, s.hi-s.lo)
	s.lo += n
	s.off += int64(n)
}

func (s *scanner) noteDamage(from, to int64) {
	s.damagedRuns++
	s.damagedBytes += to - from
}

// fill reads until the buffer holds at least need bytes from off, or the
// limit is reached.
func (s *scanner) fill(need int) error {
	if need > cap(s.buf) {
		grown := make([]byte, max(need, scanBufferSize))
		s.hi = copy(grown, s.buf[s.lo:s.hi])
		s.buf, s.lo = grown, 0
	} else if s.buf == nil {
		s.buf = make([]byte, scanBufferSize)
	} else if s.lo > 0 {
		s.hi = copy(s.buf, s.buf[s.lo:s.hi])
		s.lo = 0
	}
	s.buf = s.buf[:cap(s.buf)]
	for s.hi-s.lo < need {
		end := s.off + int64(s.hi-s.lo)
		room := min(int64(len(s.buf)-s.hi), s.limit-end)
		if room <= 0 {
			return nil
		}
		n, err := s.f.ReadAt(s.buf[s.hi:s.hi+int(room)], end)
		s.hi += n
		if err == io.EOF {
			// The file is shorter than the limit said: it ends here.
			s.limit = s.off + int64(s.hi-s.lo)
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// setLimit moves the limit, for a segment still being written.
func (s *scanner) setLimit(limit int64) { s.limit = limit }
