package lookupwire

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// OK is the response to a successful REGISTER, UNREGISTER and PING.
var OK = []byte("OK")

// WriteResponse frames data as a response (server side), in one Write call.
func WriteResponse(w io.Writer, data []byte) error {
	buf := make([]byte, 4+len(data))
	binary.BigEndian.PutUint32(buf, uint32(len(data)))
	copy(buf[4:], data)
	_, err := w.Write(buf)
	return err
}

// ReadResponse reads one framed response (client side). A size above
// maxSize, or negative, is refused before anything is allocated, because the
// size comes from the peer.
func ReadResponse(r io.Reader, maxSize int64) ([]byte, error) {
	var size int32
	if err := binary.Read(r, binary.BigEndian, &size); err != nil {
		return nil, err
	}
	if size < 0 || int64(size) > maxSize {
		return nil, fmt.Errorf("lookupwire: response size %d out of range [0, %d]", size, maxSize)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// Error is a protocol error: its text, Code + " " + Desc, is what travels
// in the response. Err is the local cause, never sent.
type Error struct {
	Code string
	Desc string
	Err  error
}

func (e *Error) Error() string {
	if e.Desc == "" {
		return e.Code
	}
	return e.Code + " " + e.Desc
}

func (e *Error) Unwrap() error { return e.Err }

// ParseError returns the error carried by a response, or nil when the
// response is not an error. nsqlookupd's error codes all start with "E_".
func ParseError(resp []byte) *Error {
	s := string(resp)
	if !strings.HasPrefix(s, "E_") {
		return nil
	}
	code, desc, _ := strings.Cut(s, " ")
	return &Error{Code: code, Desc: desc}
}

// The errors nsqlookupd v1.3.0 answers with, word for word, so that our
// lookupd answers alike. Each is fatal: the server closes after sending it.
var (
	ErrMustIdentify  = &Error{Code: "E_INVALID", Desc: "client must IDENTIFY"}
	ErrIdentifyAgain = &Error{Code: "E_INVALID", Desc: "cannot IDENTIFY again"}
	ErrMissingFields = &Error{Code: "E_BAD_BODY", Desc: "IDENTIFY missing fields"}
)

// ErrInvalidCommand is the answer to an unknown command name.
func ErrInvalidCommand(name string) *Error {
	return &Error{Code: "E_INVALID", Desc: "invalid command " + name}
}

// PeerInfo is the JSON body of IDENTIFY, and also the shape of lookupd's
// answer to it (the same five keys, describing the lookupd). Fields are in
// alphabetical order so that the JSON is byte-identical to nsqd's, which
// marshals a map (sorted keys).
type PeerInfo struct {
	BroadcastAddress string `json:"broadcast_address"`
	Hostname         string `json:"hostname"`
	HTTPPort         int    `json:"http_port"`
	TCPPort          int    `json:"tcp_port"`
	Version          string `json:"version"`
}

// Identify builds the IDENTIFY command carrying info.
func Identify(info PeerInfo) (Command, error) {
	body, err := json.Marshal(info)
	if err != nil {
		return Command{}, err
	}
	return Command{Name: CmdIdentify, Body: body}, nil
}

// DecodeIdentify parses an IDENTIFY body as nsqlookupd does, including its
// rule that broadcast_address, tcp_port, http_port and version are required
// (hostname is not).
func DecodeIdentify(body []byte) (PeerInfo, error) {
	var info PeerInfo
	if err := json.Unmarshal(body, &info); err != nil {
		return PeerInfo{}, &Error{Code: "E_BAD_BODY", Desc: "IDENTIFY failed to decode JSON body", Err: err}
	}
	if info.BroadcastAddress == "" || info.TCPPort == 0 || info.HTTPPort == 0 || info.Version == "" {
		return PeerInfo{}, ErrMissingFields
	}
	return info, nil
}

// ParseTopicChannel extracts the topic and optional channel of a REGISTER
// or UNREGISTER, with nsqlookupd's checks and error texts. Parameters after
// the channel are ignored, as nsqlookupd ignores them.
func ParseTopicChannel(c Command) (topic, channel string, err error) {
	if len(c.Params) == 0 {
		return "", "", &Error{Code: "E_INVALID", Desc: c.Name + " insufficient number of params"}
	}
	topic = c.Params[0]
	if len(c.Params) >= 2 {
		channel = c.Params[1]
	}
	if !ValidName(topic) {
		return "", "", &Error{Code: "E_BAD_TOPIC",
			Desc: fmt.Sprintf("%s topic name '%s' is not valid", c.Name, topic)}
	}
	if channel != "" && !ValidName(channel) {
		return "", "", &Error{Code: "E_BAD_CHANNEL",
			Desc: fmt.Sprintf("%s channel name '%s' is not valid", c.Name, channel)}
	}
	return topic, channel, nil
}

// EphemeralSuffix marks topics and channels that lookupd forgets entirely
// once their last producer unregisters them.
const EphemeralSuffix = protocol.EphemeralSuffix

// ValidName reports whether name is a legal NSQ topic or channel name; the
// rule is the one both daemons share.
func ValidName(name string) bool { return protocol.ValidName(name) }
