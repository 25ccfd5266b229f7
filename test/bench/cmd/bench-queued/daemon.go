package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// readyLimit bounds the wait for a daemon to answer /ping: nsqd is up in
	// milliseconds, so a daemon still silent after this is broken, not slow.
	readyLimit = 15 * time.Second
	pollEvery  = 20 * time.Millisecond
)

// daemon is one running nsqd-compatible process, started with nsqd's flags.
type daemon struct {
	cmd       *exec.Cmd
	tcpAddr   string
	httpAddr  string
	logPath   string
	killed    bool          // we sent SIGKILL, so a later kill is a no-op
	exited    chan struct{} // closed once the process has been reaped
	exitState error         // cmd.Wait's result; read only after exited closes
}

// startDaemon runs c on fresh loopback ports over dataDir and returns once
// it answers on both ports. Output is appended to logPath, so a restart on
// the same data keeps the whole story in one file.
func startDaemon(c contender, dataDir, logPath string, extra ...string) (*daemon, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	d := &daemon{
		tcpAddr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		httpAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		logPath:  logPath,
		exited:   make(chan struct{}),
	}
	args := append(slices.Clone(c.lead), "--tcp-address="+d.tcpAddr, "--http-address="+d.httpAddr,
		"--data-path="+dataDir)
	d.cmd = exec.Command(c.bin, append(args, extra...)...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	// If the benchmark itself dies, take the daemon with it rather than leave
	// it holding ports and disk.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { d.exitState = d.cmd.Wait(); close(d.exited) }()
	if err := d.waitReady(); err != nil {
		d.kill()
		return nil, fmt.Errorf("%w\n%s", err, logTail(logPath, 15))
	}
	return d, nil
}

// waitReady polls /ping, then dials the TCP port: /ping only proves the HTTP
// side is up, and an implementation may bring its listeners up in any order.
func (d *daemon) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyLimit)
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			return fmt.Errorf("daemon exited before answering /ping: %v", d.exitState)
		default:
		}
		if pingOK(client, d.httpAddr) {
			if c, err := net.DialTimeout("tcp", d.tcpAddr, time.Second); err == nil {
				return c.Close()
			}
		}
		time.Sleep(pollEvery)
	}
	return fmt.Errorf("no answer from http://%s/ping and %s within %v", d.httpAddr, d.tcpAddr, readyLimit)
}

func pingOK(client *http.Client, addr string) bool {
	resp, err := client.Get("http://" + addr + "/ping")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// kill ends the daemon with SIGKILL: nothing is left to flush at the end of a
// workload, and the durable check wants a crash, not a clean shutdown. It
// fails if the daemon had already died on its own, since figures taken from
// a crashed daemon mean nothing. Killing twice is allowed: the durable
// workload kills its daemon itself, and its caller kills it again.
func (d *daemon) kill() error {
	if d.killed {
		return nil
	}
	select {
	case <-d.exited:
		return fmt.Errorf("daemon died during the workload: %v\n%s", d.exitState, logTail(d.logPath, 15))
	default:
	}
	if err := d.cmd.Process.Kill(); err != nil {
		return err
	}
	d.killed = true
	<-d.exited
	return nil
}

// rssKiB reads the daemon's resident set size from /proc, as the kernel
// accounts it (the same figure ps and top show).
func (d *daemon) rssKiB() (float64, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(d.cmd.Process.Pid), "status"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strings.CutSuffix(strings.TrimSpace(v), " kB")
			return strconv.ParseFloat(kb, 64)
		}
	}
	return 0, errors.Join(errors.New("no VmRSS line in /proc status"), sc.Err())
}

// freePorts asks the kernel for n distinct free loopback ports. Holding all
// listeners open until every port is known keeps the n distinct; the short
// window between closing them and the daemon binding is an accepted race.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// logTail returns the last n lines of the daemon's log, for error messages.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no daemon log: " + err.Error() + ")"
	}
	text := strings.TrimRight(string(b), "\n")
	if text == "" {
		return "(daemon log " + path + " is empty)"
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "daemon log, last lines:\n  " + strings.Join(lines, "\n  ")
}
