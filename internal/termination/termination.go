// Package termination is the one-line summary that queued writes to its
// termination log and the operator reads from the sidecar's terminated
// state: whether the daemon left anything behind.
package termination

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Summary is {"drained":bool,"depth":N}. Drained is true only in the last
// summary of a daemon that stopped holding nothing; Depth counts every
// message held (topic and channel depth, in flight, deferred) when it was
// written.
type Summary struct {
	Drained bool  `json:"drained"`
	Depth   int64 `json:"depth"`
}

// Line is the summary as written: one JSON object and a newline.
func (s Summary) Line() []byte {
	b, _ := json.Marshal(s) // two plain fields: cannot fail
	return append(b, '\n')
}

// ErrNoSummary: the message is empty, as when the container was killed
// before it wrote anything.
var ErrNoSummary = errors.New("no summary in the termination message")

// Parse reads a termination message. Only its first line counts: a daemon
// killed while replacing a longer summary with a shorter one (in place:
// the kubelet's file cannot be renamed over) leaves the new line followed
// by the old one's tail. An empty or unparsable message is an error, and
// whoever reads it must then assume a backlog.
func Parse(msg string) (Summary, error) {
	line, _, _ := strings.Cut(msg, "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		return Summary{}, ErrNoSummary
	}
	var s Summary
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Summary{}, fmt.Errorf("termination message %q is not a summary: %w", line, err)
	}
	if s.Depth < 0 || (s.Drained && s.Depth != 0) {
		return Summary{}, fmt.Errorf("termination message %q contradicts itself", line)
	}
	return s, nil
}
