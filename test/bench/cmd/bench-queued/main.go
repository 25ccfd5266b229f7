// Command bench-queued compares queued with upstream nsqd v1.3.0 over TCP
// with go-nsq v1.1.0 clients and 200-byte messages, in the same run, under
// presets (-presets, all by default):
//
//   - memory: both daemons hold every message in memory;
//   - disk-first: queued with --mem-queue-size=0 against nsqd in memory;
//   - defaults: both with their defaults (nsqd overflows into go-diskqueue);
//   - fsync: both --mem-queue-size=0 --sync-every=1, 16 synchronous
//     publishers, every acknowledged message read back after SIGKILL;
//   - idle-rss: VmRSS of a fresh daemon left idle.
//
// memory, disk-first and defaults each give a pub figure (4 connections
// MPUB batches of 200 until -messages are acknowledged) and a sub figure (4
// consumers at RDY 2500 drain them, each index checked to arrive exactly
// once).
//
// Every preset but idle-rss also runs against the limit: a null server
// (nullserver.go) that answers the same client traffic at once and stores
// nothing, so each figure also reads as a fraction of what the clients can
// do on this machine.
//
// Each contender runs every workload fresh (new data directory, new loopback
// ports), and each round rotates which goes first, so drift in the machine
// hits all alike. Medians follow, one line per figure, then one summary
// line with every ratio.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sidequeue/sidequeue/test/bench/internal/benchstat"
)

// contender is a daemon binary under a display name; lead comes before the
// daemon flags (the null server is this binary with a leading argument).
type contender struct {
	name, bin string
	lead      []string
}

const (
	ours      = "queued"
	theirs    = "nsqd"
	limitName = "limit"
)

// config is what every workload takes from the command line.
type config struct {
	messages int
	duration time.Duration
	idle     time.Duration
	dir      string
}

func main() {
	// The null server (nullserver.go) is this binary run again.
	if len(os.Args) > 1 && os.Args[1] == nullServerArg {
		err := runNullServer(os.Args[2:])
		fmt.Fprintln(os.Stderr, "null server:", err)
		os.Exit(1)
	}
	oursBin := flag.String("ours", "", "path to our daemon (bin/queued)")
	nsqdBin := flag.String("nsqd", "", "path to upstream nsqd v1.3.0 (bin/upstream/nsqd)")
	runs := flag.Int("runs", 3, "rounds; each runs every selected preset on every contender")
	list := flag.String("presets", "all", "comma-separated presets to run ("+presetNames()+"), or all")
	limit := flag.Bool("limit", true, "also run each preset but idle-rss against the null server (the limit)")
	cfg := config{}
	flag.IntVar(&cfg.messages, "messages", 500_000, "messages published, then consumed, per pub/sub run "+
		"(500,000, not the 1,000,000 of earlier figures, keeps make bench under 15 minutes on 2 cores)")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long the fsync preset's publishers run")
	flag.DurationVar(&cfg.idle, "idle", 2*time.Second, "how long a fresh daemon sits idle before its RSS is read")
	flag.StringVar(&cfg.dir, "dir", os.TempDir(), "base directory for each workload's fresh temporary directory")
	flag.Parse()
	ps, err := selectPresets(*list)
	if err == nil {
		err = checkArgs(*oursBin, *nsqdBin, *runs, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-queued:", err)
		os.Exit(2)
	}
	all, err := contenders(*oursBin, *nsqdBin, *limit)
	if err == nil {
		err = bench(ps, all, *runs, cfg)
	}
	if err != nil {
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

// contenders are queued, nsqd and, with limit, the null server: this very
// binary, run again with nullServerArg.
func contenders(oursBin, nsqdBin string, limit bool) ([]contender, error) {
	cs := []contender{{name: ours, bin: oursBin}, {name: theirs, bin: nsqdBin}}
	if !limit {
		return cs, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this binary to run the null server: %w", err)
	}
	return append(cs, contender{name: limitName, bin: self, lead: []string{nullServerArg}}), nil
}

func bench(ps []preset, all []contender, runs int, cfg config) error {
	fmt.Printf("bench-queued: %d-byte messages; pub/sub %d msgs (%d conns MPUB %d; %d consumers RDY %d); "+
		"fsync %d publishers for %v; idle %v; %d runs\n",
		msgSize, cfg.messages, pubConns, batchSize, subConns, subInFlight, writers, cfg.duration, cfg.idle, runs)
	for _, c := range all {
		fmt.Printf("bench-queued: %s=%s\n", c.name, c.bin)
	}
	for _, p := range ps {
		fmt.Printf("preset %-10s %s\n", p.name, p.about)
	}
	figs := figures{}
	for run := 1; run <= runs; run++ {
		start := time.Now()
		if err := round(run, ps, all, cfg, figs); err != nil {
			return err
		}
		fmt.Printf("run %d took %v\n", run, time.Since(start).Round(time.Second))
	}
	report(ps, figs)
	return nil
}

// rotate starts the order at a different contender each round, so none
// always runs on the disk and page-cache state another left behind.
func rotate(cs []contender, run int) []contender {
	k := (run - 1) % len(cs)
	return append(cs[k:len(cs):len(cs)], cs[:k]...)
}

// round runs each preset on every contender back to back, so the figures
// compared are taken as close together in time as possible.
func round(run int, ps []preset, all []contender, cfg config, figs figures) error {
	for _, p := range ps {
		for _, c := range rotate(p.contenders(all), run) {
			if err := measure(run, p, c, cfg, figs); err != nil {
				return fmt.Errorf("run %d, %s, %s: %w", run, p.name, c.name, err)
			}
		}
	}
	return nil
}

// measure runs p's workload once on c, prints the figures and records them.
func measure(run int, p preset, c contender, cfg config, figs figures) error {
	flags := p.flags(c, cfg)
	switch p.work {
	case pubSub:
		return measurePubSub(run, p, c, flags, cfg, figs)
	case syncPub:
		return measureSyncPub(run, p, c, flags, cfg, figs)
	}
	return measureIdle(run, p, c, flags, cfg, figs)
}

func measurePubSub(run int, p preset, c contender, flags []string, cfg config, figs figures) error {
	r, err := runPubSub(cfg, c, flags)
	if err != nil {
		return err
	}
	pub, sub := rate(cfg.messages, r.pub), rate(cfg.messages, r.sub)
	fmt.Printf("run %d %-14s %-6s %10.0f msgs/s (%d acknowledged in %v)\n",
		run, p.name+" pub", c.name, pub, cfg.messages, benchstat.Rounded(r.pub))
	fmt.Printf("run %d %-14s %-6s %10.0f msgs/s (%d delivered once each in %v)\n",
		run, p.name+" sub", c.name, sub, cfg.messages, benchstat.Rounded(r.sub))
	figs.add(p.name+" pub", c.name, pub)
	figs.add(p.name+" sub", c.name, sub)
	return nil
}

func measureSyncPub(run int, p preset, c contender, flags []string, cfg config, figs figures) error {
	r, err := runDurable(cfg, c, flags)
	if err != nil {
		return err
	}
	v := rate(r.acked, r.elapsed)
	check := "all read back after SIGKILL and restart"
	if c.name == limitName {
		check = "nothing stored, nothing to read back"
	}
	fmt.Printf("run %d %-14s %-6s %10.0f msgs/s (%d acknowledged in %v, %s)\n",
		run, p.name, c.name, v, r.acked, benchstat.Rounded(r.elapsed), check)
	figs.add(p.name, c.name, v)
	return nil
}

func measureIdle(run int, p preset, c contender, flags []string, cfg config, figs figures) error {
	kib, err := runIdle(cfg, c, flags)
	if err != nil {
		return err
	}
	fmt.Printf("run %d %-14s %-6s %10.1f MiB (median of %d VmRSS reads after %v idle)\n",
		run, p.name, c.name, kib/1024, rssReads, cfg.idle)
	figs.add(p.name, c.name, kib/1024)
	return nil
}
