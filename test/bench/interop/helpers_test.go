// Package interop runs our daemons against nsq v1.3.0's own binaries
// (built by hack/build-upstream-nsq.sh) and go-nsq, to prove they mix:
// upstream nsqd with our lookupd, queued with upstream nsqlookupd, and
// nsqadmin and a go-nsq consumer on top.
package interop

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/internal/testutil"
)

// bin returns the path of a binary under the repository's bin/, skipping
// the test when it has not been built.
func bin(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "..", "bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not built: run `make build upstream` (make test-interop does)", p)
	}
	return p
}

// freeAddr returns a loopback address with a port free a moment ago: the
// binaries take their ports as flags, so they cannot use port 0.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a running daemon: its addresses, killed when the test ends.
type proc struct {
	tcp, http string
}

// start runs binary name with args plus its addresses, and returns once
// /ping answers (and the TCP port accepts, when it has one).
func start(t *testing.T, name string, tcp bool, args ...string) *proc {
	t.Helper()
	p := &proc{http: freeAddr(t)}
	args = append(args, "--http-address="+p.http)
	if tcp {
		p.tcp = freeAddr(t)
		args = append(args, "--tcp-address="+p.tcp)
	}
	cmd := exec.Command(bin(t, name), args...)
	logf, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(name)+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	waitFor(t, name+" to answer /ping", 15*time.Second, func() bool {
		code, _ := httpDo("GET", "http://"+p.http+"/ping")
		if code != 200 {
			return false
		}
		if !tcp {
			return true
		}
		c, err := net.Dial("tcp", p.tcp)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return p
}

// queueDaemon runs bin (nsqd or queued) registered with lookupdTCP, with
// any extra flags.
func queueDaemon(t *testing.T, name, lookupdTCP string, extra ...string) *proc {
	return start(t, name, true, append([]string{"--data-path=" + t.TempDir(), "--broadcast-address=127.0.0.1",
		"--lookupd-tcp-address=" + lookupdTCP}, extra...)...)
}

func lookupd(t *testing.T, name string) *proc {
	return start(t, name, true, "--broadcast-address=127.0.0.1")
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func portNum(addr string) int {
	n, _ := strconv.Atoi(port(addr))
	return n
}

var client = &http.Client{Timeout: 5 * time.Second}

// httpDo makes one request and returns the status and body; 0 on error.
func httpDo(method, url string) (int, string) { return httpDoBody(method, url, "") }

func httpDoBody(method, url, body string) (int, string) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func mustDo(t *testing.T, method, url string) string {
	t.Helper()
	code, body := httpDo(method, url)
	if code != 200 {
		t.Fatalf("%s %s: %d %s", method, url, code, body)
	}
	return body
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	testutil.WaitEvery(t, what, d, 20*time.Millisecond, cond)
}

// bodyHas waits until GET url answers 200 with every one of parts in it.
func bodyHas(t *testing.T, url string, parts ...string) string {
	t.Helper()
	var body string
	waitFor(t, fmt.Sprintf("%s to list %q", url, parts), 10*time.Second, func() bool {
		var code int
		code, body = httpDo("GET", url)
		if code != 200 {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(body, p) {
				return false
			}
		}
		return true
	})
	return body
}
