package diskqueue

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// A record on disk is a 12-byte header and the payload:
//
//	magic  uint32  recordMagic, so a reader can find the next record after damage
//	length uint32  payload length
//	crc    uint32  CRC-32C of the length bytes and the payload
//
// The CRC covers the length so that a damaged length is caught, not trusted.
const (
	recordMagic = 0x53514431 // "SQD1"
	headerSize  = 12
)

var (
	castagnoli  = crc32.MakeTable(crc32.Castagnoli)
	magicBytes  = binary.BigEndian.AppendUint32(nil, recordMagic)
	errShort    = errors.New("record continues past the bytes given")
	errBadFrame = errors.New("record damaged")
)

func recordSize(payloadLen int) int64 { return headerSize + int64(payloadLen) }

// RecordSize is the size on disk of a record of payloadLen bytes.
func RecordSize(payloadLen int) int64 { return recordSize(payloadLen) }

// appendRecord frames payload and appends it to dst.
func appendRecord(dst, payload []byte) []byte {
	var h [headerSize]byte
	binary.BigEndian.PutUint32(h[0:4], recordMagic)
	binary.BigEndian.PutUint32(h[4:8], uint32(len(payload)))
	crc := crc32.Update(0, castagnoli, h[4:8])
	crc = crc32.Update(crc, castagnoli, payload)
	binary.BigEndian.PutUint32(h[8:12], crc)
	return append(append(dst, h[:]...), payload...)
}

// parseRecord decodes the record at the start of b. It returns errShort when
// b ends before the record does (need says how many bytes would settle it),
// and errBadFrame when the bytes are not an intact record.
func parseRecord(b []byte, maxPayload int) (payload []byte, size int, need int, err error) {
	if len(b) < headerSize {
		if len(b) >= 4 && binary.BigEndian.Uint32(b) != recordMagic {
			return nil, 0, 0, errBadFrame
		}
		return nil, 0, headerSize, errShort
	}
	if binary.BigEndian.Uint32(b[0:4]) != recordMagic {
		return nil, 0, 0, errBadFrame
	}
	n := binary.BigEndian.Uint32(b[4:8])
	if uint64(n) > uint64(maxPayload) {
		return nil, 0, 0, errBadFrame
	}
	size = headerSize + int(n)
	if len(b) < size {
		return nil, 0, size, errShort
	}
	crc := crc32.Update(0, castagnoli, b[4:8])
	crc = crc32.Update(crc, castagnoli, b[headerSize:size])
	if crc != binary.BigEndian.Uint32(b[8:12]) {
		return nil, 0, 0, errBadFrame
	}
	return b[headerSize:size], size, 0, nil
}
