// Command bench-queued compares queued with upstream nsqd v1.3.0 over TCP
// with go-nsq v1.1.0 clients and 200-byte messages, in the same run:
//
//   - pub: 4 connections MPUB batches of 200 until -messages are acknowledged;
//   - sub: 4 consumers at RDY 2500 on one channel drain those messages, each
//     index checked to arrive exactly once;
//   - durable: with --mem-queue-size=0 --sync-every=1, 16 connections each
//     PUB one message at a time for -duration; every acknowledged message
//     must then survive a SIGKILL and restart;
//   - idle-rss: VmRSS of a fresh daemon left idle for -idle.
//
// Each daemon runs every workload fresh (new data directory, new loopback
// ports), and each round alternates which daemon goes first, so drift in the
// machine hits both alike. The last line gives the ratios of the medians.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"time"
)

// contender is a daemon binary under a display name.
type contender struct{ name, bin string }

// metric is one figure the benchmark reports per daemon per run.
type metric struct {
	name, unit string
	higherWins bool
}

var metrics = []metric{
	{"pub", "msgs/s", true},
	{"sub", "msgs/s", true},
	{"durable", "msgs/s", true},
	{"idle-rss", "MiB", false},
}

// figures holds, per metric name and daemon name, one value per run.
type figures map[string]map[string][]float64

func (f figures) add(metric, daemon string, v float64) {
	if f[metric] == nil {
		f[metric] = map[string][]float64{}
	}
	f[metric][daemon] = append(f[metric][daemon], v)
}

func main() {
	// The null server (nullserver.go) is this binary run again.
	if len(os.Args) > 1 && os.Args[1] == nullServerArg {
		err := runNullServer(os.Args[2:])
		fmt.Fprintln(os.Stderr, "null server:", err)
		os.Exit(1)
	}
	ours := flag.String("ours", "", "path to our daemon (bin/queued)")
	nsqd := flag.String("nsqd", "", "path to upstream nsqd v1.3.0 (bin/upstream/nsqd)")
	runs := flag.Int("runs", 3, "rounds; each runs every workload on both daemons")
	cfg := config{}
	flag.IntVar(&cfg.messages, "messages", 1_000_000, "messages published, then consumed, by pub and sub")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long the durable publishers run")
	flag.DurationVar(&cfg.idle, "idle", 2*time.Second, "how long a fresh daemon sits idle before its RSS is read")
	flag.StringVar(&cfg.dir, "dir", os.TempDir(), "base directory for each workload's fresh temporary directory")
	flag.Parse()
	if err := checkArgs(*ours, *nsqd, *runs, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench-queued:", err)
		os.Exit(2)
	}
	cs := [2]contender{{"queued", *ours}, {"nsqd", *nsqd}}
	if err := bench(cs, *runs, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench-queued:", err)
		os.Exit(1)
	}
}

func checkArgs(ours, nsqd string, runs int, cfg config) error {
	if runs < 1 || cfg.messages < 1 || cfg.duration <= 0 || cfg.idle < 0 {
		return fmt.Errorf("-runs and -messages must be at least 1, -duration positive, -idle not negative")
	}
	for _, f := range [][2]string{{"-ours", ours}, {"-nsqd", nsqd}} {
		if f[1] == "" {
			return fmt.Errorf("%s is required", f[0])
		}
		if _, err := os.Stat(f[1]); err != nil {
			return fmt.Errorf("%s: %w", f[0], err)
		}
	}
	return nil
}

func bench(cs [2]contender, runs int, cfg config) error {
	fmt.Printf("bench-queued: %d-byte messages; pub/sub %d msgs (%d conns MPUB %d; %d consumers RDY %d); "+
		"durable %d publishers for %v; idle %v; %d runs\n",
		msgSize, cfg.messages, pubConns, batchSize, subConns, subInFlight, writers, cfg.duration, cfg.idle, runs)
	fmt.Printf("bench-queued: queued=%s nsqd=%s\n", cs[0].bin, cs[1].bin)
	figs := figures{}
	for run := 1; run <= runs; run++ {
		if err := round(run, roundOrder(cs, run), cfg, figs); err != nil {
			return err
		}
	}
	report(figs, cs[0].name, cs[1].name)
	return nil
}

// roundOrder alternates which daemon goes first, so neither always runs on
// the disk and page-cache state the other left behind.
func roundOrder(cs [2]contender, run int) [2]contender {
	if run%2 == 0 {
		return [2]contender{cs[1], cs[0]}
	}
	return cs
}

// round runs each workload on both daemons back to back, so the two figures
// of a workload are taken as close together in time as possible.
func round(run int, order [2]contender, cfg config, figs figures) error {
	for _, c := range order {
		r, err := runPubSub(cfg, c.bin)
		if err != nil {
			return fmt.Errorf("run %d, pub/sub, %s: %w", run, c.name, err)
		}
		pub, sub := rate(cfg.messages, r.pub), rate(cfg.messages, r.sub)
		fmt.Printf("run %d pub      %-6s %10.0f msgs/s (%d acknowledged in %v)\n", run, c.name, pub, cfg.messages, rounded(r.pub))
		fmt.Printf("run %d sub      %-6s %10.0f msgs/s (%d delivered once each in %v)\n", run, c.name, sub, cfg.messages, rounded(r.sub))
		figs.add("pub", c.name, pub)
		figs.add("sub", c.name, sub)
	}
	for _, c := range order {
		r, err := runDurable(cfg, c.bin)
		if err != nil {
			return fmt.Errorf("run %d, durable, %s: %w", run, c.name, err)
		}
		v := rate(r.acked, r.elapsed)
		fmt.Printf("run %d durable  %-6s %10.0f msgs/s (%d acknowledged in %v, all read back after SIGKILL and restart)\n",
			run, c.name, v, r.acked, rounded(r.elapsed))
		figs.add("durable", c.name, v)
	}
	for _, c := range order {
		kib, err := runIdle(cfg, c.bin)
		if err != nil {
			return fmt.Errorf("run %d, idle-rss, %s: %w", run, c.name, err)
		}
		fmt.Printf("run %d idle-rss %-6s %10.1f MiB (median of %d VmRSS reads after %v idle)\n", run, c.name, kib/1024, rssReads, cfg.idle)
		figs.add("idle-rss", c.name, kib/1024)
	}
	return nil
}

func report(figs figures, ours, theirs string) {
	ratios := make([]float64, len(metrics))
	for i, m := range metrics {
		o, t := median(figs[m.name][ours]), median(figs[m.name][theirs])
		ratios[i] = o / t
		better := "higher"
		if !m.higherWins {
			better = "lower"
		}
		fmt.Printf("median %-8s %s %.1f %s, %s %.1f %s, ours/nsqd %.2f (%s is better)\n",
			m.name, ours, o, m.unit, theirs, t, m.unit, ratios[i], better)
	}
	fmt.Printf("queued ours/nsqd: pub %.2f, sub %.2f, durable %.2f, idle-rss %.2f\n",
		ratios[0], ratios[1], ratios[2], ratios[3])
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

func rounded(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
