package inject

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// presetFlags are the queued flags of each durability preset: disk keeps
// every message in the segment log before OK (a killed sidecar loses
// nothing), fsync waits for the group-committed fsync too (a lost machine
// loses nothing), memory is nsqd's default.
var presetFlags = map[string][]string{
	durabilityDisk:   {"--mem-queue-size=0"},
	durabilityFsync:  {"--mem-queue-size=0", "--sync-every=1"},
	durabilityMemory: {"--mem-queue-size=10000"},
}

// queuedArgs is the sidecar's whole argument list: what injection sets,
// then the pod's own sidequeue.io/queued-flags, checked by queued's parser
// so that the sidecar cannot crash-loop on a bad flag.
func queuedArgs(s *settings, lookupAddrs []string, validate func([]string) error) ([]string, *Refusal) {
	if r := checkReserved(s); r != nil {
		return nil, r
	}
	args := []string{
		"--data-path=" + v1alpha1.SidecarDataPath,
		fmt.Sprintf("--tcp-address=0.0.0.0:%d", v1alpha1.QueueTCPPort),
		fmt.Sprintf("--http-address=0.0.0.0:%d", v1alpha1.QueueHTTPPort),
		"--broadcast-address=$(" + podIPEnv + ")", // expanded by the kubelet
	}
	for _, addr := range lookupAddrs {
		args = append(args, "--lookupd-tcp-address="+addr)
	}
	args = append(args, presetFlags[s.durability]...)
	args = append(args,
		"--drain-timeout="+formatDuration(s.drainTimeout),
		"--termination-log="+corev1.TerminationMessagePathDefault)
	args = append(args, s.queuedFlags...)
	if validate == nil {
		return args, nil
	}
	if err := validate(args); err != nil {
		key := v1alpha1.AnnotationQueuedFlags
		if len(s.queuedFlags) == 0 {
			return nil, refuse(key, ReasonInvalidQueuedFlags,
				"queued rejects the flags injection writes (%v): the manager and the sidecar image %s disagree; use an image of the manager's version", err, s.image)
		}
		return nil, refuse(key, ReasonInvalidQueuedFlags,
			"the sidecar would not run with %s %q: %v: fix or remove that flag (queued takes nsqd's flags)", key, strings.Join(s.queuedFlags, " "), err)
	}
	return args, nil
}

// reserved are the flags that queued-flags may not take over, because
// injection sets them (the rest of the pod depends on their values) or
// because they would stop the sidecar from serving; each says what to do
// instead.
func reserved(durability string) map[string]string {
	const ports = "the sidecar's ports are 4150 and 4151, which its probes and the app's NSQD_* variables use"
	const exits = "it makes queued exit at once, and the sidecar restart for ever"
	m := map[string]string{
		"data-path":           "the data path is the sidecar's volume: choose it with sidequeue.io/storage, sidequeue.io/storage-size and sidequeue.io/storage-class",
		"tcp-address":         ports,
		"http-address":        ports,
		"broadcast-address":   "injection registers the pod's IP, where consumers reach the sidecar",
		"lookupd-tcp-address": "use sidequeue.io/lookup to name a Lookup (an external Lookup lists any lookupd addresses)",
		"drain-timeout":       "use sidequeue.io/drain-timeout, which also raises the pod's grace period to match",
		"termination-log":     "the operator reads the drain summary from the kubelet's termination message, " + corev1.TerminationMessagePathDefault,
		"config":              "the webhook cannot read a file inside the pod to check it: put its flags in sidequeue.io/queued-flags",
		"drain-only":          "a publisher's sidecar must accept publishes",
		"version":             exits,
		"help":                exits,
		"h":                   exits,
	}
	if durability != durabilityMemory {
		m["mem-queue-size"] = "the durability preset " + durability + " sets it to 0: use sidequeue.io/durability: memory for an in-memory queue"
	}
	if durability == durabilityFsync {
		m["sync-every"] = "the durability preset fsync sets it to 1: use sidequeue.io/durability: disk to fsync in batches"
	}
	return m
}

func checkReserved(s *settings) *Refusal {
	reservedFlags := reserved(s.durability)
	for _, word := range s.queuedFlags {
		if word == "--" {
			break // the rest is positional, and queued refuses it
		}
		name, ok := flagName(word)
		if !ok {
			continue
		}
		if why, taken := reservedFlags[name]; taken {
			return refuse(v1alpha1.AnnotationQueuedFlags, ReasonInvalidQueuedFlags,
				"%s may not set --%s: %s", v1alpha1.AnnotationQueuedFlags, name, why)
		}
	}
	return nil
}

// flagName is the name in -name, --name or --name=value, as Go's flag
// package reads it.
func flagName(word string) (string, bool) {
	if len(word) < 2 || word[0] != '-' {
		return "", false
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(word[1:], "-"), "=")
	return name, name != ""
}

// lookupAddresses are the lookupd TCP addresses the sidecar registers
// with: a managed Lookup's headless Service (queued resolves it to every
// replica, again and again), or an external Lookup's own list.
func lookupAddresses(pod *corev1.Pod, ns *corev1.Namespace, lookup *v1alpha1.Lookup, name string) ([]string, *Refusal) {
	namespace := namespaceOf(pod, ns)
	key := v1alpha1.AnnotationLookup
	if lookup == nil {
		return nil, refuse(key, ReasonLookupNotFound,
			"Lookup %q does not exist in namespace %q: create it (kind: Lookup, apiVersion: sidequeue.io/v1alpha1, with spec.replicas to run lookupd, or spec.external to use an NSQ installation), or set %s to an existing one",
			name, namespace, key)
	}
	if lookup.IsExternal() {
		if len(lookup.Spec.External.TCPAddresses) == 0 {
			return nil, refuse(key, ReasonInvalidLookup,
				"Lookup %q has no spec.external.tcpAddresses: add the lookupd TCP addresses (host:4160) the sidecar registers with", name)
		}
		return slices.Clone(lookup.Spec.External.TCPAddresses), nil
	}
	if lookup.Namespace != "" {
		namespace = lookup.Namespace
	}
	if lookup.Name != "" {
		name = lookup.Name
	}
	return []string{fmt.Sprintf("%s.%s.svc:%d", v1alpha1.HeadlessServiceName(name), namespace, v1alpha1.LookupTCPPort)}, nil
}

// formatDuration writes whole seconds as "75s" rather than "1m15s".
func formatDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}
