package queued

import (
	"bytes"
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

type statsResponse struct {
	Version   string        `json:"version"`
	Health    string        `json:"health"`
	StartTime int64         `json:"start_time"`
	Topics    []topicStats  `json:"topics"`
	Memory    *memStats     `json:"memory,omitempty"`
	Producers []clientStats `json:"producers"`
}

// doStats answers /stats: text unless format=json; topic= and channel=
// narrow it; include_clients= and include_mem= (true unless false or 0)
// add clients and producers, and memory.
func (s *httpServer) doStats(w http.ResponseWriter, r *http.Request) (any, error) {
	v, err := s.reqParams(r)
	if err != nil {
		return nil, err
	}
	format, _ := queryFirst(v, "format")
	topic, _ := queryFirst(v, "topic")
	channel, _ := queryFirst(v, "channel")
	withClients := boolParam(v.Get("include_clients"))
	withMem := boolParam(v.Get("include_mem"))

	st := s.d.getStats(topic, channel, withClients)
	health, _ := s.health()
	var ms *memStats
	if withMem {
		m := getMemStats()
		ms = &m
	}
	if format != "json" {
		return printStats(st, ms, health, s.d.startTime), nil
	}
	return statsResponse{Version, health, s.d.startTime.Unix(), st.Topics, ms, st.Producers}, nil
}

// boolParam is nsqd's reading of include_clients and include_mem: only
// false and 0 turn them off.
func boolParam(s string) bool {
	b, ok := boolParams[s]
	return b || !ok
}

type memStats struct {
	HeapObjects       uint64 `json:"heap_objects"`
	HeapIdleBytes     uint64 `json:"heap_idle_bytes"`
	HeapInUseBytes    uint64 `json:"heap_in_use_bytes"`
	HeapReleasedBytes uint64 `json:"heap_released_bytes"`
	GCPauseUsec100    uint64 `json:"gc_pause_usec_100"`
	GCPauseUsec99     uint64 `json:"gc_pause_usec_99"`
	GCPauseUsec95     uint64 `json:"gc_pause_usec_95"`
	NextGCBytes       uint64 `json:"next_gc_bytes"`
	GCTotalRuns       uint32 `json:"gc_total_runs"`
}

func getMemStats() memStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	n := min(int(ms.NumGC), len(ms.PauseNs))
	pauses := slices.Clone(ms.PauseNs[:n])
	slices.Sort(pauses)
	return memStats{
		HeapObjects:       ms.HeapObjects,
		HeapIdleBytes:     ms.HeapIdle,
		HeapInUseBytes:    ms.HeapInuse,
		HeapReleasedBytes: ms.HeapReleased,
		GCPauseUsec100:    gcPercentile(100, pauses) / 1000,
		GCPauseUsec99:     gcPercentile(99, pauses) / 1000,
		GCPauseUsec95:     gcPercentile(95, pauses) / 1000,
		NextGCBytes:       ms.NextGC,
		GCTotalRuns:       ms.NumGC,
	}
}

// gcPercentile is nsqd's: the value at the rounded rank, of sorted values.
func gcPercentile(perc float64, sorted []uint64) uint64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Floor(perc/100*float64(len(sorted)) + 0.5))
	return sorted[min(i, len(sorted)-1)]
}

// printStats is nsqd's text /stats, line for line.
func printStats(st daemonStats, ms *memStats, health string, start time.Time) []byte {
	var w bytes.Buffer
	fmt.Fprintf(&w, "nsqd v%s (built w/%s)\n", Version, runtime.Version())
	fmt.Fprintf(&w, "start_time %v\n", start.Format(time.RFC3339))
	fmt.Fprintf(&w, "uptime %s\n", time.Since(start))
	fmt.Fprintf(&w, "\nHealth: %s\n", health)
	if ms != nil {
		printMemStats(&w, ms)
	}
	if len(st.Topics) == 0 {
		fmt.Fprintf(&w, "\nTopics: None\n")
	} else {
		fmt.Fprintf(&w, "\nTopics:")
	}
	for _, t := range st.Topics {
		printTopicStats(&w, t)
	}
	if len(st.Producers) == 0 {
		fmt.Fprintf(&w, "\nProducers: None\n")
	} else {
		fmt.Fprintf(&w, "\nProducers:\n")
		for _, c := range st.Producers {
			fmt.Fprintf(&w, "   %s\n", c)
		}
	}
	return w.Bytes()
}

func printMemStats(w *bytes.Buffer, ms *memStats) {
	fmt.Fprintf(w, "\nMemory:\n")
	for _, kv := range []struct {
		k string
		v uint64
	}{
		{"heap_objects", ms.HeapObjects}, {"heap_idle_bytes", ms.HeapIdleBytes},
		{"heap_in_use_bytes", ms.HeapInUseBytes}, {"heap_released_bytes", ms.HeapReleasedBytes},
		{"gc_pause_usec_100", ms.GCPauseUsec100}, {"gc_pause_usec_99", ms.GCPauseUsec99},
		{"gc_pause_usec_95", ms.GCPauseUsec95}, {"next_gc_bytes", ms.NextGCBytes},
		{"gc_total_runs", uint64(ms.GCTotalRuns)},
	} {
		fmt.Fprintf(w, "   %-25s\t%d\n", kv.k, kv.v)
	}
}

func printTopicStats(w *bytes.Buffer, t topicStats) {
	prefix := "   "
	if t.Paused {
		prefix = "*P "
	}
	fmt.Fprintf(w, "\n%s[%-15s] depth: %-5d be-depth: %-5d msgs: %-8d e2e%%: %s\n",
		prefix, t.TopicName, t.Depth, t.BackendDepth, t.MessageCount, t.E2eProcessingLatency)
	for _, c := range t.Channels {
		prefix = "      "
		if c.Paused {
			prefix = "   *P "
		}
		fmt.Fprintf(w, "%s[%-25s] depth: %-5d be-depth: %-5d inflt: %-4d def: %-4d re-q: %-5d timeout: %-5d msgs: %-8d e2e%%: %s\n",
			prefix, c.ChannelName, c.Depth, c.BackendDepth, c.InFlightCount, c.DeferredCount,
			c.RequeueCount, c.TimeoutCount, c.MessageCount, c.E2eProcessingLatency)
		for _, cl := range c.Clients {
			fmt.Fprintf(w, "        %s\n", cl)
		}
	}
}

// String is nsqd's one-line summary of a client, a producer's or a
// consumer's.
func (s clientStats) String() string {
	connected := time.Since(time.Unix(s.ConnectTime, 0)).Truncate(time.Second)
	_, port, _ := net.SplitHostPort(s.RemoteAddress)
	id := fmt.Sprintf("%s:%s %s", s.Hostname, port, s.UserAgent)
	if len(s.PubCounts) > 0 {
		var total uint64
		var topics []string
		for _, p := range s.PubCounts {
			total += p.Count
			topics = append(topics, fmt.Sprintf("%s=%d", p.Topic, p.Count))
		}
		return fmt.Sprintf("[%s %-21s] msgs: %-8d topics: %s connected: %s",
			s.Version, id, total, strings.Join(topics, ","), connected)
	}
	return fmt.Sprintf("[%s %-21s] state: %d inflt: %-4d rdy: %-4d fin: %-8d re-q: %-8d msgs: %-8d connected: %s",
		s.Version, id, s.State, s.InFlightCount, s.ReadyCount, s.FinishCount, s.RequeueCount, s.MessageCount, connected)
}

// getStats collects nsqd's GetStats: every topic (or the named one, with
// every channel or the named one) sorted by name, and with clients, the
// consumers of each channel and the producers (clients that published).
// A named topic or channel that does not exist gives no topics at all.
func (d *Daemon) getStats(topic, channel string, withClients bool) daemonStats {
	var st daemonStats
	topics := d.sortedTopics()
	if topic != "" {
		t, err := d.GetExistingTopic(topic)
		if err != nil {
			return st
		}
		topics = []*Topic{t}
	}
	st.Topics = make([]topicStats, 0, len(topics))
	for _, t := range topics {
		chans := t.sortedChannels()
		if channel != "" {
			c, err := t.GetExistingChannel(channel)
			if err != nil {
				continue
			}
			chans = []*Channel{c}
		}
		cs := make([]channelStats, 0, len(chans))
		for _, c := range chans {
			cs = append(cs, c.stats(topic, withClients))
		}
		st.Topics = append(st.Topics, t.stats(cs))
	}
	if withClients {
		st.Producers = d.clients.producerStats(topic)
	}
	return st
}

func (d *Daemon) sortedTopics() []*Topic {
	d.topicsMu.RLock()
	out := make([]*Topic, 0, len(d.topics))
	for _, t := range d.topics {
		out = append(out, t)
	}
	d.topicsMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
