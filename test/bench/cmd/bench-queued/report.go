package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/sidequeue/sidequeue/test/bench/internal/benchstat"
)

// metric is one figure the benchmark reports per contender per run.
type metric struct {
	name, unit string
	higherWins bool
}

// figures holds, per metric name and contender name, one value per run.
type figures map[string]map[string][]float64

func (f figures) add(metric, contender string, v float64) {
	if f[metric] == nil {
		f[metric] = map[string][]float64{}
	}
	f[metric][contender] = append(f[metric][contender], v)
}

// report prints one median line per metric, then the summary line: every
// ours/nsqd ratio, then every ours/limit fraction.
func report(ps []preset, figs figures) {
	var vsNSQD, vsLimit []string
	for _, p := range ps {
		var n, l []string
		for _, m := range p.metrics() {
			label := strings.TrimSpace(strings.TrimPrefix(m.name, p.name))
			n = append(n, labelled(label, medianLine(m, figs[m.name])))
			if _, ok := figs[m.name][limitName]; ok {
				l = append(l, labelled(label, figs.ratio(m.name, limitName)))
			}
		}
		vsNSQD = append(vsNSQD, p.name+" "+strings.Join(n, " "))
		if len(l) > 0 {
			vsLimit = append(vsLimit, p.name+" "+strings.Join(l, " "))
		}
	}
	line := "queued ours/nsqd: " + strings.Join(vsNSQD, ", ")
	if len(vsLimit) > 0 {
		line += "; ours/limit: " + strings.Join(vsLimit, ", ")
	}
	fmt.Println(line)
}

// labelled is "pub 1.03" for a pub/sub preset's figure, "9.70" for a
// preset's only one.
func labelled(label string, ratio float64) string {
	if label == "" {
		return fmt.Sprintf("%.2f", ratio)
	}
	return fmt.Sprintf("%s %.2f", label, ratio)
}

// ratio is our median over c's.
func (f figures) ratio(metric, c string) float64 {
	return benchstat.Median(f[metric][ours]) / benchstat.Median(f[metric][c])
}

// medianLine prints every contender's median of m and the ratios between
// them, and returns ours/nsqd.
func medianLine(m metric, byContender map[string][]float64) float64 {
	med := map[string]float64{}
	var parts []string
	for _, c := range []string{ours, theirs, limitName} {
		if xs, ok := byContender[c]; ok {
			med[c] = benchstat.Median(xs)
			parts = append(parts, fmt.Sprintf("%s %.1f %s", c, med[c], m.unit))
		}
	}
	ratios := []string{fmt.Sprintf("ours/nsqd %.2f", med[ours]/med[theirs])}
	if l, ok := med[limitName]; ok {
		ratios = append(ratios, fmt.Sprintf("ours/limit %.2f", med[ours]/l),
			fmt.Sprintf("nsqd/limit %.2f", med[theirs]/l))
	}
	better := "higher"
	if !m.higherWins {
		better = "lower"
	}
	fmt.Printf("median %-14s %s; %s (%s is better)\n", m.name, strings.Join(parts, ", "),
		strings.Join(ratios, ", "), better)
	return med[ours] / med[theirs]
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }
