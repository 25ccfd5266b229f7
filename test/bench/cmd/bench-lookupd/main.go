// Command bench-lookupd measures GET /lookup throughput of our lookupd
// against nsqlookupd v1.3.0, in the same run, alternating: both hold the
// same registrations (100 producers on raw protocol V1 connections, 1,000
// topics spread across them), then several keep-alive HTTP clients ask for
// random topics for a fixed time. The last line is the ratio of medians.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sidequeue/sidequeue/internal/lookupwire"
	"github.com/sidequeue/sidequeue/test/bench/internal/benchstat"
)

var (
	oursBin   = flag.String("ours", "../../bin/lookupd", "our lookupd binary")
	theirsBin = flag.String("nsqlookupd", "../../bin/upstream/nsqlookupd", "nsqlookupd v1.3.0 binary")
	producers = flag.Int("producers", 100, "registered producers (one V1 connection each)")
	topics    = flag.Int("topics", 1000, "registered topics")
	perTopic  = flag.Int("per-topic", 3, "producers per topic")
	clients   = flag.Int("clients", 8, "concurrent HTTP clients")
	duration  = flag.Duration("duration", 5*time.Second, "load time per run")
	runs      = flag.Int("runs", 3, "runs per daemon; medians are reported")
	logLevel  = flag.String("log-level", "info", "--log-level for both daemons (info: both log every request, their default)")
)

func main() {
	flag.Parse()
	ours, theirs := start("ours", *oursBin), start("upstream", *theirsBin)
	defer ours.cmd.Process.Kill()
	defer theirs.cmd.Process.Kill()
	for _, d := range []*daemon{ours, theirs} {
		d.register()
	}
	var o, u []float64
	for i := range *runs {
		o = append(o, ours.load())
		u = append(u, theirs.load())
		fmt.Printf("run %d: ours %.0f req/s, upstream %.0f req/s\n", i+1, o[i], u[i])
	}
	mo, mu := benchstat.Median(o), benchstat.Median(u)
	fmt.Printf("median: ours %.0f req/s, upstream %.0f req/s\n", mo, mu)
	fmt.Printf("lookupd ours/upstream: %.2f\n", mo/mu)
}

type daemon struct {
	name, tcp, http string
	cmd             *exec.Cmd
	conns           []net.Conn
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs bin on fresh loopback ports, output discarded, and waits for
// /ping.
func start(name, bin string) *daemon {
	d := &daemon{name: name, tcp: freeAddr(), http: freeAddr()}
	d.cmd = exec.Command(bin, "--tcp-address="+d.tcp, "--http-address="+d.http,
		"--broadcast-address=127.0.0.1", "--log-level="+*logLevel)
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + d.http + "/ping")
		if err == nil {
			resp.Body.Close()
			return d
		}
		if time.Now().After(deadline) {
			log.Fatalf("%s: not up: %v", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// register opens one V1 connection per producer and registers each topic
// (with a channel) by perTopic producers.
func (d *daemon) register() {
	for i := range *producers {
		c, err := net.Dial("tcp", d.tcp)
		if err != nil {
			log.Fatal(err)
		}
		lookupwire.WriteMagic(c)
		id, _ := lookupwire.Identify(lookupwire.PeerInfo{BroadcastAddress: "10.0.0." + strconv.Itoa(i),
			Hostname: "queue-" + strconv.Itoa(i), TCPPort: 4150, HTTPPort: 4151, Version: "1.3.0"})
		d.call(c, id)
		d.conns = append(d.conns, c)
	}
	for t := range *topics {
		for k := range *perTopic {
			c := d.conns[(t+k*(*producers / *perTopic))%*producers]
			d.call(c, lookupwire.Register(topicName(t), "ch"))
		}
	}
}

func (d *daemon) call(c net.Conn, cmd lookupwire.Command) {
	if err := lookupwire.WriteCommand(c, cmd); err != nil {
		log.Fatal(err)
	}
	resp, err := lookupwire.ReadResponse(c, 1<<20)
	if err != nil || lookupwire.ParseError(resp) != nil {
		log.Fatalf("%s: %s: %v %s", d.name, cmd, err, resp)
	}
}

func topicName(i int) string { return "topic-" + strconv.Itoa(i) }

// load runs the clients for the duration and returns requests per second.
func (d *daemon) load() float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(*duration)
	for range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			for time.Now().Before(stop) {
				resp, err := hc.Get("http://" + d.http + "/lookup?topic=" + topicName(rand.IntN(*topics)))
				if err != nil {
					log.Fatalf("%s: %v", d.name, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					log.Fatalf("%s: %s", d.name, resp.Status)
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / duration.Seconds()
}

func init() { log.SetOutput(os.Stderr) }
