package queued

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// latencyScenario: topic t has channels c and idle; 3 messages published,
// all consumed and finished on c; topic empty has no channel.
func latencyScenario(t *testing.T, d *Daemon) {
	httpPost(t, d, "/topic/create?topic=t", nil).expect(t, 200, "")
	httpPost(t, d, "/channel/create?topic=t&channel=idle", nil).expect(t, 200, "")
	httpPost(t, d, "/topic/create?topic=empty", nil).expect(t, 200, "")
	sub := subscribe(t, d, "t", "c")
	pub := dial(t, d)
	for range 3 {
		pub.cmd("PUB t", []byte("m"))
		pub.expectOK()
	}
	sub.cmd("RDY 3")
	for range 3 {
		sub.cmd("FIN " + sub.message().id)
	}
	ch := mustChannel(t, d, "t", "c")
	waitFor(t, "all finished", func() bool { return ch.inFlightCount() == 0 && ch.Depth() == 0 })
}

// latencyOf decodes an e2e_processing_latency object.
func latencyOf(t *testing.T, o any) (count int, quantiles, values []float64) {
	t.Helper()
	raw, _ := json.Marshal(o)
	var r latencyResult
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("e2e_processing_latency %s: %v", raw, err)
	}
	for _, p := range r.Percentiles {
		if len(p) != 2 {
			t.Fatalf("percentile %v: want exactly quantile and value, as nsqd", p)
		}
		quantiles = append(quantiles, p["quantile"])
		values = append(values, p["value"])
	}
	return r.Count, quantiles, values
}

// With percentiles, /stats reports each channel's latencies over the window
// and each topic's over all its channels, in nsqd's shape: the option's
// order, zeros for a channel that finished nothing, and nsqd's empty object
// for a topic without channels.
func TestE2ELatencyInStatsJSON(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.E2EProcessingLatencyPercentiles = []float64{1, 0.99, 0.5} })
	latencyScenario(t, d)
	httpGet(t, d, "/config/e2e_processing_latency_percentiles").expect(t, 200, "[1,0.99,0.5]")
	httpGet(t, d, "/config/e2e_processing_latency_window_time").expect(t, 200, "600000000000")
	topics := getJSON(t, d, "/stats?format=json")["topics"].([]any)
	empty, tp := topics[0].(jsonObj), topics[1].(jsonObj)
	if raw, _ := json.Marshal(empty["e2e_processing_latency"]); string(raw) != `{"count":0,"percentiles":null}` {
		t.Errorf("topic without channels: %s, want nsqd's empty result", raw)
	}
	chans := tp["channels"].([]any)
	for what, o := range map[string]any{"topic t": tp["e2e_processing_latency"], "channel c": chans[0].(jsonObj)["e2e_processing_latency"]} {
		n, qs, vs := latencyOf(t, o)
		if n != 3 || !slices.Equal(qs, []float64{1, 0.99, 0.5}) {
			t.Fatalf("%s: count %d quantiles %v, want 3 and [1 0.99 0.5]", what, n, qs)
		}
		for _, v := range vs {
			if v <= 0 || v > float64(time.Minute) {
				t.Errorf("%s: latency %vns is not a plausible publish-to-FIN time", what, v)
			}
		}
	}
	if n, qs, vs := latencyOf(t, chans[1].(jsonObj)["e2e_processing_latency"]); n != 0 || len(qs) != 3 || !slices.Equal(vs, []float64{0, 0, 0}) {
		t.Errorf("idle channel: count %d quantiles %v values %v, want 0 and three zeros", n, qs, vs)
	}
}

func TestE2ELatencyInStatsText(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, func(o *Options) { o.E2EProcessingLatencyPercentiles = []float64{0.99, 0.5} })
	latencyScenario(t, d)
	body := httpGet(t, d, "/stats").body
	value := `\d+\.\d(ns|us|ms|s)`
	for _, re := range []string{
		`\n   \[empty          \] depth: 0 .* e2e%: \n`,
		`\n   \[t              \] depth: 0 .* e2e%: ` + value + `, ` + value + `\n`,
		`\n      \[c                        \] depth: 0 .* e2e%: ` + value + `, ` + value + `\n`,
		`\n      \[idle                     \] depth: 3 .* e2e%: 0\.0ns, 0\.0ns\n`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("text stats do not match %q:\n%s", re, body)
		}
	}
}

// Off, nsqd's default, every object is the empty result (the shape the
// stats tests check); the flag takes nsqd's comma lists, repeated, highest
// first, and refuses what nsqd would not run with.
func TestE2ELatencyFlags(t *testing.T) {
	t.Parallel()
	o, _, err := ParseFlags([]string{"--e2e-processing-latency-percentile=0.5,1.0",
		"--e2e-processing-latency-percentile=0.99", "--e2e-processing-latency-window-time=1m"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.E2EProcessingLatencyPercentiles, []float64{1, 0.99, 0.5}) || o.E2EProcessingLatencyWindowTime != time.Minute {
		t.Fatalf("percentiles %v window %v", o.E2EProcessingLatencyPercentiles, o.E2EProcessingLatencyWindowTime)
	}
	// nsqd's config file key is plural, a TOML list.
	path := filepath.Join(t.TempDir(), "nsqd.cfg")
	os.WriteFile(path, []byte("e2e_processing_latency_percentiles = [0.5, 0.99]\nstatsd_address = \"127.0.0.1:8125\"\n"), 0o600)
	if o, _, err := ParseFlags([]string{"--config=" + path}); err != nil ||
		!slices.Equal(o.E2EProcessingLatencyPercentiles, []float64{0.99, 0.5}) || o.StatsdAddress != "127.0.0.1:8125" {
		t.Fatalf("from --config: %v, %+v", err, o)
	}
	if o := NewOptions(); o.E2EProcessingLatencyPercentiles != nil || o.E2EProcessingLatencyWindowTime != 10*time.Minute {
		t.Fatalf("defaults: %v %v, want none and 10m as nsqd", o.E2EProcessingLatencyPercentiles, o.E2EProcessingLatencyWindowTime)
	}
	for _, args := range [][]string{
		{"--e2e-processing-latency-percentile=0"},
		{"--e2e-processing-latency-percentile=1.5"},
		{"--e2e-processing-latency-percentile=0.99,p50"},
		{"--e2e-processing-latency-percentile=0.99", "--e2e-processing-latency-window-time=0s"},
	} {
		_, _, err := ParseFlags(args)
		flagName := strings.TrimLeft(strings.SplitN(args[len(args)-1], "=", 2)[0], "-")
		if err == nil || !strings.Contains(err.Error(), flagName) {
			t.Errorf("%v: error %v does not name %s", args, err, flagName)
		}
	}
}

// The window keeps between half and all of its span, as nsqd's two halves
// do, and an idle stream forgets everything at once.
func TestE2ELatencyWindow(t *testing.T) {
	t.Parallel()
	s := newLatencyStream(10*time.Second, []float64{0.5})
	base := s.halfStart
	at := func(d time.Duration) time.Time { return base.Add(d) }
	s.record(at(time.Second), at(0).UnixNano())
	for _, c := range []struct {
		when time.Duration
		want int
	}{{time.Second, 1}, {6 * time.Second, 1}, {11 * time.Second, 0}} {
		if n := s.resultAt(at(c.when)).Count; n != c.want {
			t.Fatalf("at %v: count %d, want %d", c.when, n, c.want)
		}
	}
	s.record(at(time.Hour), at(time.Hour-2*time.Millisecond).UnixNano())
	r := s.resultAt(at(time.Hour))
	if r.Count != 1 || r.Percentiles[0]["value"] != float64(2*time.Millisecond) {
		t.Fatalf("after an idle hour: %+v, want one sample of 2ms", r)
	}
	// nsqd's units: the largest one the value exceeds, so 1ms is 1000.0us.
	for v, want := range map[float64]string{2e6: "2.0ms", 1e6: "1000.0us", 1.5e9: "1.5s", 12: "12.0ns"} {
		if got := nanosToHuman(v); got != want {
			t.Errorf("%v ns in text: %q, want %q", v, got, want)
		}
	}
}

// FIN is the hot path: recording a latency allocates nothing per message,
// and with the option off there is no stream at all.
func TestE2ELatencyInsertDoesNotAllocate(t *testing.T) {
	if newLatencyStream(time.Minute, nil) != nil {
		t.Fatal("a stream without percentiles: want none")
	}
	s := newLatencyStream(time.Minute, []float64{0.99, 0.5})
	ts := time.Now().UnixNano()
	if n := testing.AllocsPerRun(5000, func() { s.insert(ts) }); n >= 1 {
		t.Fatalf("%v allocations per insert", n)
	}
}
