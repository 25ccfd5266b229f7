package protocol

import (
	"encoding/binary"
	"io"
)

// Frame types of protocol V2.
const (
	FrameTypeResponse int32 = 0
	FrameTypeError    int32 = 1
	FrameTypeMessage  int32 = 2
)

// MagicV1 and MagicV2 open a connection to lookupd and to a queue daemon.
const (
	MagicV1 = "  V1"
	MagicV2 = "  V2"
)

// AppendFrame appends a V2 frame: size (type + data), type, data.
func AppendFrame(dst []byte, frameType int32, data []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(data)+4))
	dst = binary.BigEndian.AppendUint32(dst, uint32(frameType))
	return append(dst, data...)
}

// WriteFrame writes one V2 frame with a single Write call.
func WriteFrame(w io.Writer, frameType int32, data []byte) error {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)+4))
	binary.BigEndian.PutUint32(hdr[4:], uint32(frameType))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}
