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

const (
	metaMagic   = 0x5351444d // "SQDM"
	metaVersion = 1
	metaSize    = 4 + 4 + 5*8 + 4
)

func (m meta) marshal() []byte {
	b := make([]byte, 0, metaSize)
	b = binary.BigEndian.AppendUint32(b, metaMagic)
	b = binary.BigEndian.AppendUint32(b, metaVersion)
	for _, v := range []int64{m.read.seg, m.read.off, m.write.seg, m.write.off, m.depth} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

var errBadMeta = errors.New("metadata damaged")

func unmarshalMeta(b []byte) (meta, error) {
	if len(b) != metaSize || binary.BigEndian.Uint32(b) != metaMagic ||
		binary.BigEndian.Uint32(b[4:]) != metaVersion ||
		crc32.Checksum(b[:metaSize-4], castagnoli) != binary.BigEndian.Uint32(b[metaSize-4:]) {
		return meta{}, errBadMeta
	}
	v := func(i int) int64 { return int64(binary.BigEndian.Uint64(b[8+8*i:])) }
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

// writeMeta replaces the metadata file atomically: temp file, fsync,
// rename, fsync of the directory.
func (fl files) writeMeta(fs fileSystem, m meta) error {
	tmp := fl.meta() + ".tmp"
	f, err := fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(m.marshal())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Rename(tmp, fl.meta())
	}
	if err == nil {
		err = fs.SyncDir(fl.dir)
	}
	if err != nil {
		return fmt.Errorf("diskqueue: persist metadata %s: %w", fl.meta(), err)
	}
	return nil
}

func (fl files) readMeta() (meta, error) {
	b, err := os.ReadFile(fl.meta())
	if err != nil {
		return meta{}, err
	}
	return unmarshalMeta(b)
}
