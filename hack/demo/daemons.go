package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

// daemon is one queued the demo runs.
type daemon struct {
	name      string
	tcp, http string // host:port
}

func (d *demo) bin(name string) string { return filepath.Join(d.root, "bin", name) }

func (d *demo) startLookupd(ctx context.Context) error {
	return step(fmt.Sprintf("starting lookupd on %s (TCP) and %s (HTTP)", lookupTCP, lookupHTTP), "ready", func() error {
		err := d.procs.start("lookupd", nil, d.bin("lookupd"),
			"--tcp-address="+lookupTCP, "--http-address="+lookupHTTP, "--broadcast-address=127.0.0.1")
		if err == nil {
			err = waitFor(ctx, 10*time.Second, "lookupd /ping", ping(lookupHTTP))
		}
		return withLogs(err, "lookupd")
	})
}

// checkLookupPorts fails when something listens where lookupd must: the
// sample Lookup names these addresses, so they cannot be moved. Checked
// before anything starts, so that the error comes at once and says what to
// do rather than being left in lookupd's log.
func checkLookupPorts() error {
	for _, addr := range []string{lookupTCP, lookupHTTP} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s is in use (another lookupd or nsqlookupd?): %w\n"+
				"    the sample Lookup in config/samples points at lookupd on %s and %s;\n"+
				"    stop what listens there (lsof -i :%s) and run again", addr, err, lookupTCP, lookupHTTP, port(addr))
		}
		l.Close()
	}
	return nil
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// startDaemons starts two queued on free ports (4150/4151 are left to
// `make test`), registered with lookupd.
func (d *demo) startDaemons(ctx context.Context) error {
	return step("starting queued-1 and queued-2", "registered with lookupd", func() error {
		ports, err := freePorts(4)
		if err != nil {
			return err
		}
		for i := range 2 {
			q := daemon{
				name: fmt.Sprintf("queued-%d", i+1),
				tcp:  fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
				http: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			}
			if err := d.startDaemon(ctx, q, i+1); err != nil {
				return withLogs(err, q.name)
			}
			d.daemons = append(d.daemons, q)
		}
		err = waitFor(ctx, 10*time.Second, "both daemons in lookupd's /nodes", d.daemonsRegistered)
		return withLogs(err, "lookupd", "queued-1", "queued-2")
	})
}

func (d *demo) startDaemon(ctx context.Context, q daemon, nodeID int) error {
	err := d.procs.start(q.name, nil, d.bin("queued"),
		"--tcp-address="+q.tcp, "--http-address="+q.http,
		"--broadcast-address=127.0.0.1", "--lookupd-tcp-address="+lookupTCP,
		"--data-path="+filepath.Join(d.dir, q.name), fmt.Sprintf("--node-id=%d", nodeID),
		// A backlog left at Ctrl-C is deleted with the work directory:
		// no point serving it to consumers for the default 30s first.
		"--drain-timeout=2s")
	if err != nil {
		return err
	}
	return waitFor(ctx, 10*time.Second, q.name+" /ping", ping(q.http))
}

// freePorts returns n distinct ports free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close() // held until all are chosen, so that none repeats
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (d *demo) daemonsRegistered(ctx context.Context) error {
	nodes, err := nsqHTTP.Nodes(ctx, lookupHTTP)
	if err != nil {
		return err
	}
	var registered []string
	for _, p := range nodes {
		registered = append(registered, net.JoinHostPort(p.BroadcastAddress, fmt.Sprint(p.TCPPort)))
	}
	for _, q := range d.daemons {
		if !slices.Contains(registered, q.tcp) {
			return fmt.Errorf("%s (%s) is not in lookupd's /nodes %v", q.name, q.tcp, registered)
		}
	}
	return nil
}

// startManager runs the operator out of cluster against the demo's API
// server, refreshing status every second so that the depth moves visibly,
// and serving the injection webhook on the port and certificates envtest
// registered it with.
func (d *demo) startManager(ctx context.Context) error {
	return step("starting the manager (out of cluster)", "ready", func() error {
		ports, err := freePorts(1)
		if err != nil {
			return err
		}
		probe := fmt.Sprintf("127.0.0.1:%d", ports[0])
		hook := d.env.WebhookInstallOptions
		err = d.procs.start("manager", []string{"KUBECONFIG=" + d.kube.configPath}, d.bin("manager"),
			"--webhook-cert-mode=external", "--webhook-cert-dir="+hook.LocalServingCertDir,
			fmt.Sprintf("--webhook-port=%d", hook.LocalServingPort),
			"--metrics-bind-address=0", "--health-probe-bind-address="+probe, "--stats-interval=1s")
		if err == nil {
			err = waitFor(ctx, 30*time.Second, "the manager's /readyz", httpOK(probe, "/readyz"))
		}
		return withLogs(err, "manager")
	})
}

// channelOnEveryDaemon checks the daemons themselves: the channel exists on
// each before anything is published, so no message misses it.
func (d *demo) channelOnEveryDaemon(ctx context.Context) error {
	for _, q := range d.daemons {
		stats, err := nsqHTTP.Stats(ctx, q.http, topic)
		if err != nil {
			return err
		}
		if stats == nil || !slices.ContainsFunc(stats.Channels, func(c nsqapi.ChannelStats) bool { return c.ChannelName == channel }) {
			return fmt.Errorf("%s has no channel %s/%s yet", q.name, topic, channel)
		}
	}
	return nil
}

// nsqHTTP is the operator's own client for the NSQ HTTP API.
var nsqHTTP = nsqapi.NewClient()

func ping(addr string) func(context.Context) error {
	return func(ctx context.Context) error { return nsqHTTP.Ping(ctx, addr) }
}

var httpClient = &http.Client{Timeout: 3 * time.Second}

// httpOK checks that GET http://addr+path answers 200.
func httpOK(addr, path string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return err
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s%s: %s", addr, path, resp.Status)
		}
		return nil
	}
}
