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

// Summary is {"drained":bool,"depth":N}: drained is true only when the
// daemon exited holding nothing; depth counts what it held.
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

// Parse reads a termination message. Kubernetes keeps only the message's
// last 4096 bytes, so it reads the last non-empty line.
func Parse(msg string) (Summary, error) {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return Summary{}, ErrNoSummary
	}
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = msg[i+1:]
	}
	var s Summary
	dec := json.NewDecoder(strings.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Summary{}, fmt.Errorf("termination message %q is not a summary: %w", msg, err)
	}
	if s.Depth < 0 || (s.Drained && s.Depth != 0) {
		return Summary{}, fmt.Errorf("termination message %q contradicts itself", msg)
	}
	return s, nil
}
