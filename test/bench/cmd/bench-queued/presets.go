package main

import (
	"fmt"
	"strconv"
	"strings"
)

// workload is what a preset measures.
type workload int

const (
	// pubSub: pubConns connections MPUB batches of batchSize until
	// -messages are acknowledged, then subConns consumers at RDY subInFlight
	// drain them from one channel, each index checked to arrive exactly once.
	pubSub workload = iota
	// syncPub: writers connections each PUB one message at a time for
	// -duration; every acknowledged message must then survive a SIGKILL and
	// restart (the null server, which stores nothing, is not read back).
	syncPub
	// idle: VmRSS of a fresh daemon left idle for -idle.
	idle
)

// preset is one comparison: a workload and each daemon's flags for it.
type preset struct {
	name, about string
	work        workload
	// ours and theirs return queued's and nsqd's extra flags.
	ours, theirs func(config) []string
}

var presets = []preset{
	{"memory", "both hold every message in memory (--mem-queue-size=<messages>)",
		pubSub, inMemory, inMemory},
	{"disk-first", "queued --mem-queue-size=0 (its default --sync-every) against nsqd in memory, " +
		"the comparison users make", pubSub, diskFirst, inMemory},
	{"defaults", "both with their defaults (nsqd's 10,000-message memory queue overflows into go-diskqueue)",
		pubSub, noFlags, noFlags},
	{"fsync", fmt.Sprintf("both --mem-queue-size=0 --sync-every=1, %d synchronous publishers, "+
		"then SIGKILL and every acknowledged message read back", writers), syncPub, fsyncEach, fsyncEach},
	{"idle-rss", "VmRSS of a fresh daemon left idle", idle, noFlags, noFlags},
}

// inMemory makes the memory queues (a topic's and each channel's) big
// enough for the whole run, so nothing reaches the disk.
func inMemory(cfg config) []string {
	return []string{"--mem-queue-size=" + strconv.Itoa(cfg.messages)}
}

// diskFirst is the sidecar's durable default: every message goes through
// the disk queue, fsynced every --sync-every (default) messages.
func diskFirst(config) []string { return []string{"--mem-queue-size=0"} }

// fsyncEach makes every message go to disk and be fsynced before its PUB
// is acknowledged.
func fsyncEach(config) []string { return []string{"--mem-queue-size=0", "--sync-every=1"} }

func noFlags(config) []string { return nil }

// flags returns c's flags for this preset. The null server takes none of a
// daemon's, only how many messages its subscribers are to receive.
func (p preset) flags(c contender, cfg config) []string {
	switch c.name {
	case ours:
		return p.ours(cfg)
	case theirs:
		return p.theirs(cfg)
	}
	return []string{"--messages=" + strconv.Itoa(cfg.messages)}
}

// contenders returns who runs this preset: the null server has no idle RSS
// worth comparing (it holds nothing and serves nothing).
func (p preset) contenders(all []contender) []contender {
	if p.work == idle {
		return all[:2]
	}
	return all
}

// metrics are the figures this preset reports.
func (p preset) metrics() []metric {
	switch p.work {
	case pubSub:
		return []metric{{p.name + " pub", "msgs/s", true}, {p.name + " sub", "msgs/s", true}}
	case syncPub:
		return []metric{{p.name, "msgs/s", true}}
	}
	return []metric{{p.name, "MiB", false}}
}

// selectPresets parses -presets: a comma-separated list of preset names,
// or "all".
func selectPresets(list string) ([]preset, error) {
	if list == "all" {
		return presets, nil
	}
	var out []preset
	for name := range strings.SplitSeq(list, ",") {
		p, ok := presetNamed(strings.TrimSpace(name))
		if !ok {
			return nil, fmt.Errorf("-presets: no preset %q (have %s)", name, presetNames())
		}
		out = append(out, p)
	}
	return out, nil
}

func presetNamed(name string) (preset, bool) {
	for _, p := range presets {
		if p.name == name {
			return p, true
		}
	}
	return preset{}, false
}

func presetNames() string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.name
	}
	return strings.Join(names, ",")
}
