package diskqueue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// position is a place in the log: a segment number and a byte offset in it.
type position struct {
	seg int64
	off int64
}

func (p position) before(q position) bool {
	return p.seg < q.seg || (p.seg == q.seg && p.off < q.off)
}

// meta is what the queue persists besides the segments: where reading
// resumes, and where the writer was at the last sync, with the depth between.
// The write position may lag the files (records written after the last
// sync); recovery scans forward from it.
type meta struct {
	read, write position
	depth       int64
}

// The metadata file holds two fixed-size slots, written in place by turns,
// each with a generation number and a CRC; the newest intact slot wins.
// Writing in place needs no new disk blocks, so the read position can still
// be saved when the disk is full (a temp file and a rename could not), and
// a torn write spoils only the slot being written, never the other.
const (
	metaMagic    = 0x5351444d // "SQDM"
	metaVersion  = 2
	metaSlotSize = 64
	metaFileSize = 2 * metaSlotSize

	// The version 1 file: one record, replaced by rename. Still read.
	metaV1Size = 4 + 4 + 5*8 + 4
)

// marshalSlot encodes m as generation gen: magic, version, gen, the five
// positions and counts, and a CRC of all that, padded to the slot size.
func (m meta) marshalSlot(gen uint64) []byte {
	b := make([]byte, 0, metaSlotSize)
	b = binary.BigEndian.AppendUint32(b, metaMagic)
	b = binary.BigEndian.AppendUint32(b, metaVersion)
	b = binary.BigEndian.AppendUint64(b, gen)
	for _, v := range []int64{m.read.seg, m.read.off, m.write.seg, m.write.off, m.depth} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return b[:metaSlotSize]
}

var errBadMeta = errors.New("metadata damaged")

func unmarshalSlot(b []byte) (meta, uint64, error) {
	const crcAt = 4 + 4 + 8 + 5*8
	if len(b) < crcAt+4 || binary.BigEndian.Uint32(b) != metaMagic ||
		binary.BigEndian.Uint32(b[4:]) != metaVersion ||
		crc32.Checksum(b[:crcAt], castagnoli) != binary.BigEndian.Uint32(b[crcAt:]) {
		return meta{}, 0, errBadMeta
	}
	gen := binary.BigEndian.Uint64(b[8:])
	m, err := metaFromInts(b[16:])
	return m, gen, err
}

func unmarshalV1(b []byte) (meta, error) {
	if len(b) != metaV1Size || binary.BigEndian.Uint32(b) != metaMagic ||
		binary.BigEndian.Uint32(b[4:]) != 1 ||
		crc32.Checksum(b[:metaV1Size-4], castagnoli) != binary.BigEndian.Uint32(b[metaV1Size-4:]) {
		return meta{}, errBadMeta
	}
	return metaFromInts(b[8:])
}

func metaFromInts(b []byte) (meta, error) {
	v := func(i int) int64 { return int64(binary.BigEndian.Uint64(b[8*i:])) }
	m := meta{read: position{v(0), v(1)}, write: position{v(2), v(3)}, depth: v(4)}
	if m.read.seg < 0 || m.read.off < 0 || m.write.off < 0 || m.depth < 0 || m.write.before(m.read) {
		return meta{}, errBadMeta
	}
	return m, nil
}

// files names the files of one queue in its directory.
type files struct {
	dir, name string
}

func (fl files) segment(n int64) string {
	return filepath.Join(fl.dir, fmt.Sprintf("%s.sq.%06d.seg", fl.name, n))
}

func (fl files) meta() string { return filepath.Join(fl.dir, fl.name+".sq.meta") }

// segments lists the numbers of the queue's segment files, in order.
func (fl files) segments() ([]int64, error) {
	entries, err := os.ReadDir(fl.dir)
	if err != nil {
		return nil, err
	}
	prefix := fl.name + ".sq."
	var nums []int64
	for _, e := range entries {
		digits, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		if digits, ok = strings.CutSuffix(digits, ".seg"); !ok {
			continue
		}
		if n, err := strconv.ParseInt(digits, 10, 64); err == nil && n >= 0 && strings.Trim(digits, "0123456789") == "" {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	return nums, nil
}

// metaStore reads and writes the metadata file. gen is the generation of
// the newest slot on disk; the next write goes to the other slot.
type metaStore struct {
	files
	gen     uint64
	slotted bool // the file exists with its two slots: it can be written in place
}

// write persists m: in place, into the older slot, then fsync. The first
// write (or one over a version 1 file) creates the file whole: temp file,
// fsync, rename, fsync of the directory.
func (ms *metaStore) write(fs fileSystem, m meta) error {
	gen := ms.gen + 1
	var err error
	if ms.slotted {
		err = ms.writeSlot(fs, m, gen)
	} else {
		err = ms.create(fs, m, gen)
	}
	if err != nil {
		return fmt.Errorf("diskqueue: persist metadata %s: %w", ms.meta(), err)
	}
	ms.gen, ms.slotted = gen, true
	return nil
}

func (ms *metaStore) writeSlot(fs fileSystem, m meta, gen uint64) error {
	f, err := fs.OpenFile(ms.meta(), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(m.marshalSlot(gen), int64(gen%2)*metaSlotSize)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (ms *metaStore) create(fs fileSystem, m meta, gen uint64) error {
	b := make([]byte, metaFileSize)
	copy(b[(gen%2)*metaSlotSize:], m.marshalSlot(gen))
	return replaceFile(fs, ms.meta(), b)
}

// read returns the newest intact metadata and remembers its generation.
func (ms *metaStore) read() (meta, error) {
	b, err := os.ReadFile(ms.meta())
	if err != nil {
		return meta{}, err
	}
	if len(b) == metaV1Size {
		return unmarshalV1(b)
	}
	if len(b) != metaFileSize {
		return meta{}, errBadMeta
	}
	ms.slotted = true
	best, found := meta{}, false
	for slot := range 2 {
		m, gen, err := unmarshalSlot(b[slot*metaSlotSize : (slot+1)*metaSlotSize])
		if err == nil && (!found || gen > ms.gen) {
			best, ms.gen, found = m, gen, true
		}
	}
	if !found {
		return meta{}, errBadMeta
	}
	return best, nil
}

// SavedReadPosition is where the queue called name in dir resumes reading
// after a restart, as its metadata file says: the segment number and byte
// offset. It only reads; an open queue may move on at its next sync. For
// tools and tests that check what a crash would deliver again.
func SavedReadPosition(dir, name string) (segment, offset int64, err error) {
	ms := metaStore{files: files{dir: dir, name: name}}
	m, err := ms.read()
	if err != nil {
		return 0, 0, err
	}
	return m.read.seg, m.read.off, nil
}
