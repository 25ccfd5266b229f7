package queued

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sidequeue/sidequeue/internal/protocol"
)

// boolParams are the values nsqd accepts for its boolean parameters.
var boolParams = map[string]bool{"true": true, "1": true, "false": false, "0": false}

// pubTopic reads the topic of /pub and /mpub and, as nsqd does, creates
// it before anything else is checked; a draining daemon creates nothing.
func (s *httpServer) pubTopic(r *http.Request) (url.Values, string, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.d.log.Logf("ERROR", "failed to parse request params - %s", err)
		return nil, "", apiErr(400, "INVALID_REQUEST")
	}
	name, err := s.topicParam(v)
	if err != nil {
		return nil, "", err
	}
	if !s.d.drain.draining() {
		if _, err := s.d.GetTopic(name); err != nil {
			s.d.log.Logf("ERROR", "creating topic %s: %v", name, err)
			return nil, "", pubFailed(err)
		}
	}
	return v, name, nil
}

// pubFailed is the answer to a publish that failed: 503 EXITING, as nsqd
// answers a put to an exiting topic, followed by the cause when it is not
// the drain (a full disk, say), so the client can tell why.
func pubFailed(err error) error {
	if errors.Is(err, errDraining) {
		return apiErr(503, "EXITING")
	}
	return apiErr(503, "EXITING: "+err.Error())
}

// doPUB publishes the body as one message, deferred by defer= ms. A put
// that fails, draining included, is 503 EXITING (see pubFailed).
func (s *httpServer) doPUB(w http.ResponseWriter, r *http.Request) (any, error) {
	o := s.d.opts()
	if r.ContentLength > o.MaxMsgSize {
		return nil, apiErr(413, "MSG_TOO_BIG")
	}
	readMax := o.MaxMsgSize + 1
	body, err := io.ReadAll(io.LimitReader(r.Body, readMax))
	switch {
	case err != nil:
		return nil, apiErr(500, "INTERNAL_ERROR")
	case int64(len(body)) == readMax:
		return nil, apiErr(413, "MSG_TOO_BIG")
	case len(body) == 0:
		return nil, apiErr(400, "MSG_EMPTY")
	}
	v, topic, err := s.pubTopic(r)
	if err != nil {
		return nil, err
	}
	var delay time.Duration
	if ds, ok := queryFirst(v, "defer"); ok {
		ms, err := strconv.ParseInt(ds, 10, 64)
		delay = time.Duration(ms) * time.Millisecond
		if err != nil || delay < 0 || delay > o.MaxReqTimeout {
			return nil, apiErr(400, "INVALID_DEFER")
		}
	}
	if err := s.d.publish(topic, body, delay); err != nil {
		s.d.log.Logf("ERROR", "HTTP PUB to %s failed: %v", topic, err)
		return nil, pubFailed(err)
	}
	return "OK", nil
}

// doMPUB publishes a batch: newline-separated messages, or with binary=
// true (any value but false or 0) MPUB's framing without its size prefix.
func (s *httpServer) doMPUB(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.ContentLength > s.d.opts().MaxBodySize {
		return nil, apiErr(413, "BODY_TOO_BIG")
	}
	v, topic, err := s.pubTopic(r)
	if err != nil {
		return nil, err
	}
	binary := false
	if val, ok := queryFirst(v, "binary"); ok {
		if binary, ok = boolParams[val]; !ok {
			binary = true
			s.d.log.Logf("WARN", "deprecated value '%s' used for /mpub binary param", val)
		}
	}
	var msgs []*Message
	if binary {
		msgs, err = s.readBinaryMPUB(r.Body)
	} else {
		msgs, err = s.readTextMPUB(r.Body)
	}
	if err != nil {
		return nil, err
	}
	if err := s.d.publishBatch(topic, msgs); err != nil {
		s.d.log.Logf("ERROR", "HTTP MPUB to %s failed: %v", topic, err)
		return nil, pubFailed(err)
	}
	return "OK", nil
}

// readBinaryMPUB parses a count and size-prefixed messages, with TCP
// MPUB's checks; errors are 413 with the TCP code less its "E_".
func (s *httpServer) readBinaryMPUB(body io.Reader) ([]*Message, error) {
	msgs, err := (&protocolV2{d: s.d}).readMPUB(&client{Reader: bufio.NewReader(body)})
	if err != nil {
		var ce *protocol.ClientErr
		if errors.As(err, &ce) && len(ce.Code) > 2 {
			return nil, apiErr(413, ce.Code[2:])
		}
		return nil, apiErr(413, "BAD_BODY")
	}
	return msgs, nil
}

// readTextMPUB splits the body at newlines, skipping empty lines.
func (s *httpServer) readTextMPUB(body io.Reader) ([]*Message, error) {
	o := s.d.opts()
	readMax := o.MaxBodySize + 1
	rd := bufio.NewReader(io.LimitReader(body, readMax))
	var msgs []*Message
	total := int64(0)
	for {
		line, err := rd.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, apiErr(500, "INTERNAL_ERROR")
		}
		total += int64(len(line))
		if total == readMax {
			return nil, apiErr(413, "BODY_TOO_BIG")
		}
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
		}
		if int64(len(line)) > o.MaxMsgSize {
			return nil, apiErr(413, "MSG_TOO_BIG")
		}
		if len(line) > 0 {
			msgs = append(msgs, newMessage(s.d.ids.next(), line))
		}
		if err == io.EOF {
			return msgs, nil
		}
	}
}
