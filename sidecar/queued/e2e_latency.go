package queued

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/beorn7/perks/quantile"
)

// End-to-end processing latency, as nsqd's --e2e-processing-latency-percentile:
// each FIN records how long ago its message was published, in a quantile
// stream per channel; /stats reports the chosen percentiles of the last
// window per channel, and per topic over all its channels.
//
// The streams are perks' targeted quantiles with nsqd's rank error (perks is
// the library nsqd uses; beorn7's is the maintained fork of it, already in
// our module graph through the Prometheus client).

// latencyEpsilon is the rank error nsqd's streams have (perks' default).
const latencyEpsilon = 0.01

// latencyStream is one channel's window of latencies. As in nsqd, the window
// is two halves: FIN records into the current half, and when half the window
// has passed the older half is cleared and becomes the current one, so a
// result covers between half and all of the window.
type latencyStream struct {
	percentiles []float64
	half        time.Duration

	mu        sync.Mutex // per channel: FINs on other channels never wait for it
	halves    [2]*quantile.Stream
	current   int
	halfStart time.Time // when the current half began
}

// newLatencyStream returns nil when no percentile is tracked: a nil stream
// costs FIN one comparison and reports what nsqd does then.
func newLatencyStream(window time.Duration, percentiles []float64) *latencyStream {
	if len(percentiles) == 0 {
		return nil
	}
	s := &latencyStream{percentiles: percentiles, half: max(window/2, 1), halfStart: time.Now()}
	for i := range s.halves {
		s.halves[i] = newTargeted(percentiles)
	}
	return s
}

func newTargeted(percentiles []float64) *quantile.Stream {
	targets := make(map[float64]float64, len(percentiles))
	for _, p := range percentiles {
		targets[p] = latencyEpsilon
	}
	return quantile.NewTargeted(targets)
}

// insert records a message published at publishedAt (Unix nanoseconds) and
// finished now. perks buffers samples in a preallocated slice, so this does
// not allocate per message.
func (s *latencyStream) insert(publishedAt int64) { s.record(time.Now(), publishedAt) }

func (s *latencyStream) record(now time.Time, publishedAt int64) {
	s.mu.Lock()
	s.age(now)
	s.halves[s.current].Insert(float64(now.UnixNano() - publishedAt))
	s.mu.Unlock()
}

// age moves the window to now, with s.mu held. nsqd steps half a window at a
// time; stepping k halves at once is the same, and takes constant time
// however long the stream sat idle.
func (s *latencyStream) age(now time.Time) {
	elapsed := now.Sub(s.halfStart)
	if elapsed <= s.half {
		return
	}
	steps := (elapsed - 1) / s.half // the halves that began and ended since
	if steps >= 2 {
		s.halves[0].Reset()
		s.halves[1].Reset()
	} else {
		s.current ^= 1
		s.halves[s.current].Reset()
	}
	s.halfStart = s.halfStart.Add(steps * s.half)
}

// mergeInto adds the window's samples (as of now) to dst.
func (s *latencyStream) mergeInto(dst *quantile.Stream, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.age(now)
	for _, h := range s.halves {
		dst.Merge(h.Samples())
	}
}

// result is the channel's e2e_processing_latency in /stats.
func (s *latencyStream) result() *latencyResult { return s.resultAt(time.Now()) }

func (s *latencyStream) resultAt(now time.Time) *latencyResult {
	if s == nil {
		return &latencyResult{}
	}
	return aggregateLatency([]*latencyStream{s}, now)
}

// aggregateLatency merges streams into one result, as nsqd reports a topic:
// the percentiles of every channel's samples together. No stream (the
// option is off, or the topic has no channel) gives nsqd's empty result.
func aggregateLatency(streams []*latencyStream, now time.Time) *latencyResult {
	if len(streams) == 0 {
		return &latencyResult{}
	}
	percentiles := streams[0].percentiles
	merged := newTargeted(percentiles)
	for _, s := range streams {
		s.mergeInto(merged, now)
	}
	r := &latencyResult{Count: merged.Count(), Percentiles: make([]map[string]float64, len(percentiles))}
	for i, p := range percentiles {
		r.Percentiles[i] = map[string]float64{"quantile": p, "value": merged.Query(p)}
	}
	return r
}

// latencyResult returns the topic's e2e_processing_latency: its channels'
// streams merged.
func (t *Topic) latencyResult() *latencyResult {
	t.channelsMu.RLock()
	var streams []*latencyStream
	for _, c := range t.channels {
		if c.latency != nil {
			streams = append(streams, c.latency)
		}
	}
	t.channelsMu.RUnlock()
	return aggregateLatency(streams, time.Now())
}

// latencyResult is nsqd's e2e_processing_latency object: with the option
// off, {"count":0,"percentiles":null}; with it on, each percentile as
// {"quantile":q,"value":nanoseconds}, in the order of the option.
type latencyResult struct {
	Count       int                  `json:"count"`
	Percentiles []map[string]float64 `json:"percentiles"`
}

// String is how nsqd's text /stats prints it: the values, comma-separated.
func (r *latencyResult) String() string {
	values := make([]string, len(r.Percentiles))
	for i, p := range r.Percentiles {
		values[i] = nanosToHuman(p["value"])
	}
	return strings.Join(values, ", ")
}

// nanosToHuman is nsqd's rendering of a duration in nanoseconds: one
// decimal, in the largest unit it exceeds.
func nanosToHuman(v float64) string {
	switch {
	case v > 1e9:
		return fmt.Sprintf("%0.1fs", v/1e9)
	case v > 1e6:
		return fmt.Sprintf("%0.1fms", v/1e6)
	case v > 1e3:
		return fmt.Sprintf("%0.1fus", v/1e3)
	}
	return fmt.Sprintf("%0.1fns", v)
}
