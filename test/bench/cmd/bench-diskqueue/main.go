// Command bench-diskqueue compares our crash-safe disk queue
// (sidecar/diskqueue) with github.com/nsqio/go-diskqueue v1.1.0, the queue
// nsqd uses, on the same machine in the same run:
//
//   - default-sync: write -records 200-byte records, then read them all
//     back, under nsqd's default sync policy (every 2500 operations or 2s);
//   - durable: 16 goroutines Put for -duration with a sync after every
//     write, counting acknowledged Puts per second.
//
// Each round runs every workload on both queues back to back, so drift in
// the machine (page cache, thermal, neighbours) hits both alike; the last
// line is the ratio of the medians.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sidequeue/sidequeue/test/bench/internal/benchstat"
)

func main() {
	runs := flag.Int("runs", 5, "rounds; each runs every workload on both queues")
	duration := flag.Duration("duration", 10*time.Second, "how long the durable writers run")
	records := flag.Int("records", 1_000_000, "records written and read back in default-sync")
	dir := flag.String("dir", os.TempDir(), "base directory for each run's fresh temporary directory")
	flag.Parse()
	if *runs < 1 || *records < 1 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "bench-diskqueue: -runs and -records must be at least 1, -duration positive")
		os.Exit(2)
	}
	cfg := config{records: *records, duration: *duration, dir: *dir}
	if err := bench(*runs, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench-diskqueue:", err)
		os.Exit(1)
	}
}

// figures holds one number per run for each queue, keyed by queue name.
type figures map[string][]float64

func bench(runs int, cfg config) error {
	fmt.Printf("bench-diskqueue: %d-byte records; default-sync %d records; durable %d writers for %v; %d runs; dir %s\n",
		recordSize, cfg.records, writers, cfg.duration, runs, cfg.dir)
	defSync, durable := figures{}, figures{}
	for run := 1; run <= runs; run++ {
		order := roundOrder(run)
		for _, c := range order {
			res, err := runDefaultSync(c, cfg)
			if err != nil {
				return fmt.Errorf("run %d, default-sync, %s: %w", run, c.name, err)
			}
			fmt.Printf("run %d default-sync %-12s %10.0f rec/s  (write %10.0f rec/s in %v, read %10.0f rec/s in %v)\n",
				run, c.name, res.totalRate(), res.writeRate(), benchstat.Rounded(res.write), res.readRate(), benchstat.Rounded(res.read))
			defSync[c.name] = append(defSync[c.name], res.totalRate())
		}
		for _, c := range order {
			res, err := runDurable(c, cfg)
			if err != nil {
				return fmt.Errorf("run %d, durable, %s: %w", run, c.name, err)
			}
			fmt.Printf("run %d durable      %-12s %10.0f puts/s (%d acknowledged in %v)\n",
				run, c.name, res.putRate(), res.acked, benchstat.Rounded(res.elapsed))
			durable[c.name] = append(durable[c.name], res.putRate())
		}
	}
	report(defSync, durable)
	return nil
}

// roundOrder alternates which queue goes first, so neither always runs on
// the disk state (dirty pages still being written back, say) the other
// left behind.
func roundOrder(run int) [2]contender {
	if run%2 == 0 {
		return [2]contender{contenders[1], contenders[0]}
	}
	return contenders
}

func report(defSync, durable figures) {
	ours, theirs := contenders[0].name, contenders[1].name
	for _, name := range []string{ours, theirs} {
		fmt.Printf("median default-sync %-12s %10.0f rec/s\n", name, benchstat.Median(defSync[name]))
	}
	for _, name := range []string{ours, theirs} {
		fmt.Printf("median durable      %-12s %10.0f puts/s\n", name, benchstat.Median(durable[name]))
	}
	fmt.Printf("diskqueue ours/go-diskqueue: durable %.2f, default-sync %.2f\n",
		benchstat.Median(durable[ours])/benchstat.Median(durable[theirs]),
		benchstat.Median(defSync[ours])/benchstat.Median(defSync[theirs]))
}
