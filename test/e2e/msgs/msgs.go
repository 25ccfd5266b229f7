// Package msgs is what the end-to-end publisher, consumer and tests agree
// on: a message body that names its publisher and sequence number, a set
// of sequence numbers with a compact text form, and the JSON each program
// answers on GET /stats. One definition, so the tests count messages the
// way the programs record them.
package msgs

import (
	"fmt"
	"strconv"
	"strings"
)

// Body is the message a publisher sends as its seq-th: "<source>/<seq>",
// the source being its pod's name, so the messages of several publishers
// (and of a publisher's successive pods) stay apart.
func Body(source string, seq uint64) []byte {
	return []byte(source + "/" + strconv.FormatUint(seq, 10))
}

// Parse splits a body made by Body. The source is everything before the
// last "/", so it may hold any character a pod name can.
func Parse(body []byte) (source string, seq uint64, err error) {
	s := string(body)
	i := strings.LastIndexByte(s, '/')
	if i <= 0 {
		return "", 0, fmt.Errorf("body %q: want <source>/<seq>", s)
	}
	seq, err = strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("body %q: %w", s, err)
	}
	return s[:i], seq, nil
}

// PublisherStats is the publisher's GET /stats.
type PublisherStats struct {
	Source string `json:"source"`
	Topic  string `json:"topic"`
	// Acked counts the publishes the daemon answered OK; AckedIDs are
	// their sequence numbers.
	Acked    int `json:"acked"`
	AckedIDs Set `json:"ackedIDs"`
	// Failed counts the publishes answered with an error (or none):
	// those messages may or may not have been stored, so a consumer may
	// receive them, and nothing is said to be lost if it does not.
	Failed    int `json:"failed"`
	FailedIDs Set `json:"failedIDs"`
	// FirstError is the first publish error, for the test's message.
	FirstError string `json:"firstError,omitempty"`
	// Done: the publisher has stopped (it sent its count, or was told to
	// stop): these numbers are final.
	Done bool `json:"done"`
}

// ConsumerStats is the consumer's GET /stats.
type ConsumerStats struct {
	Topic   string `json:"topic"`
	Channel string `json:"channel"`
	// Distinct counts the messages received, each once; Duplicates the
	// deliveries beyond the first (at-least-once allows them).
	Distinct   int `json:"distinct"`
	Duplicates int `json:"duplicates"`
	// Malformed counts bodies that Parse refused.
	Malformed int `json:"malformed"`
	// Received holds the sequence numbers received, by source.
	Received map[string]Set `json:"received"`
}

// Missing is what a consumer has not received of what one publisher had
// acknowledged: the messages lost, once the consumer has had time to
// receive everything.
func Missing(p PublisherStats, c ConsumerStats) Set {
	return p.AckedIDs.Minus(c.Received[p.Source])
}
