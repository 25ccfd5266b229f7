package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nsqio/go-nsq"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

const (
	lookupTCP  = "127.0.0.1:4160" // the sample Lookup's addresses
	lookupHTTP = "127.0.0.1:4161"
	topic      = "orders"
	channel    = "billing"
	// Names of the sample resources in config/samples.
	lookupName  = "default"
	topicName   = "orders"
	channelName = "orders-billing"
)

// demo is one run: the processes it started, where their files are, and
// the clients it publishes and consumes with.
type demo struct {
	root      string // repository root
	dir       string // work directory: kubeconfig, logs, data
	ci        bool
	log       *os.File // the demo's own client logs (controller-runtime, go-nsq)
	procs     *supervisor
	env       *envtest.Environment
	kube      *kube
	daemons   []daemon
	producers []*nsq.Producer
	consumer  *nsq.Consumer
	tally     *tally
	shown     channelView // the channel status kubectl showed last
	shownAt   time.Time   // and when
	// shownTables is the output of kubectl get topics,channels shown last,
	// without its AGE column.
	shownTables string
	succeeded   bool // the round trip is done
}

func newDemo(root string, ci bool, fail context.CancelCauseFunc) (*demo, error) {
	dir, err := newWorkDir()
	if err != nil {
		return nil, err
	}
	// Everything the demo's libraries put in temporary directories (envtest's
	// webhook certificates, for one) goes in the work directory, so that it
	// goes with it.
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	if err := os.Setenv("TMPDIR", tmp); err != nil {
		return nil, fmt.Errorf("TMPDIR: %w", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "demo.log"))
	if err != nil {
		return nil, fmt.Errorf("demo log: %w", err)
	}
	// envtest and the Kubernetes client log through controller-runtime; to
	// the file, so that their retries do not interleave with the progress.
	ctrllog.SetLogger(zap.New(zap.WriteTo(logFile)))
	return &demo{root: root, dir: dir, ci: ci, log: logFile, procs: newSupervisor(dir, fail)}, nil
}

// run does everything up to the end of the round trip.
func (d *demo) run(ctx context.Context) error {
	fmt.Printf("==> work directory %s (kubeconfig, logs, data)\n", d.dir)
	steps := []func(context.Context) error{
		d.startControlPlane,
		d.installCRDs,
		d.startLookupd,
		d.startDaemons,
		d.startManager,
		d.applySamples,
		d.waitReady,
		d.publish,
		d.consume,
		d.showInjection,
	}
	for _, s := range steps {
		if err := s(ctx); err != nil {
			return err
		}
	}
	d.succeeded = true
	return nil
}

// step prints what is about to happen, runs fn and says how long it took.
// fn prints nothing, so that the outcome lands on the same line.
func step(what, done string, fn func() error) error {
	fmt.Printf("==> %s ... ", what)
	start := time.Now()
	if err := fn(); err != nil {
		if stopRequested(err) {
			fmt.Println("interrupted")
		} else {
			fmt.Println("failed")
		}
		return err
	}
	fmt.Printf("%s in %.1fs\n", done, time.Since(start).Seconds())
	return nil
}

// stop stops the clients first, so that they do not log the daemons going
// away, then every process, newest first, then the control plane.
func (d *demo) stop() {
	if d.consumer != nil {
		d.consumer.Stop()
		<-d.consumer.StopChan
	}
	for _, p := range d.producers {
		p.Stop()
	}
	d.procs.stopAll()
	if d.env != nil {
		if err := d.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "==> stopping etcd and kube-apiserver:", err)
		}
	}
}

func (d *demo) removeDir() {
	d.log.Close()
	if err := os.RemoveAll(d.dir); err != nil {
		fmt.Fprintln(os.Stderr, "==> removing the work directory:", err)
	}
}

func (d *demo) printHints() {
	kubectl := d.kubectlCommand()
	q1, q2 := d.daemons[0], d.daemons[1]
	fmt.Printf(`
==> everything keeps running; Ctrl-C stops it all. Try, in another shell:

    export KUBECONFIG=%[1]s
    %[2]s get lookups,topics,channels
    curl -d hi '%[3]s/pub?topic=orders'     # the demo's consumer prints it below
    %[2]s patch channel orders-billing --type merge -p '{"spec":{"paused":true}}'
    curl -d held '%[4]s/pub?topic=orders'   # DEPTH 1 until the channel is unpaused
    %[2]s patch channel orders-billing --type merge -p '{"spec":{"paused":false}}'
    %[2]s get channel orders-billing -o yaml
    curl -s '%[5]s/lookup?topic=orders'
    curl -s '%[3]s/stats'

    queued-1: TCP %[6]s, HTTP %[3]s   queued-2: TCP %[7]s, HTTP %[4]s
    lookupd:  TCP %[8]s, HTTP %[5]s
    logs:     %[9]s/*.log

    The managed Lookup sample (config/samples/sidequeue_v1alpha1_lookup_managed.yaml)
    applies, but here it waits forever: no kubelet runs its lookupd pods. Deleting
    it leaves its Deployment, Services and PodDisruptionBudget: no garbage
    collector runs here either. A real cluster has both.

`, d.kube.configPath, kubectl, q1.http, q2.http, lookupHTTP, q1.tcp, q2.tcp, lookupTCP, d.dir)
}

// kubectlCommand is how to run bin/k8s/kubectl from the working directory.
func (d *demo) kubectlCommand() string {
	if wd, _ := os.Getwd(); wd == d.root {
		return filepath.Join("bin", "k8s", "kubectl")
	}
	return filepath.Join(d.root, "bin", "k8s", "kubectl")
}

// logsError is an error whose cause is likely in the named processes' logs.
type logsError struct {
	err  error
	logs []string
}

func (e *logsError) Error() string { return e.err.Error() }
func (e *logsError) Unwrap() error { return e.err }

// withLogs names logs worth reading about err, after any err names already.
func withLogs(err error, logs ...string) error {
	if err == nil {
		return nil
	}
	var inner *logsError
	if errors.As(err, &inner) {
		logs = append(slices.Clone(inner.logs), logs...)
	}
	return &logsError{err: err, logs: logs}
}

const tailLines = 20

// printLogTails prints the end of the logs err names.
func (d *demo) printLogTails(w io.Writer, err error) {
	var le *logsError
	if !errors.As(err, &le) {
		return
	}
	printed := map[string]bool{}
	for _, name := range le.logs {
		if printed[name] {
			continue
		}
		printed[name] = true
		path := filepath.Join(d.dir, name+".log")
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		lines = lines[max(0, len(lines)-tailLines):]
		fmt.Fprintf(w, "---- %s (last %d lines)\n%s\n", path, len(lines), strings.Join(lines, "\n"))
	}
}
