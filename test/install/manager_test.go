package install

import (
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

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sidequeue/sidequeue/internal/testenv"
)

// managerProc is bin/manager running out of cluster as the chart's
// Deployment runs it: the container's args and environment, with what
// only a cluster provides replaced (listen addresses on loopback, a cert
// dir of its own, the namespace the downward API would give), the
// chart's ServiceAccount impersonated.
type managerProc struct {
	cmd   *exec.Cmd
	probe string
	log   string
	done  chan struct{}
}

// managerBinary is bin/manager (`make build`), or $MANAGER.
func managerBinary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("MANAGER")
	if bin == "" {
		bin = testenv.Path("bin", "manager")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the manager binary (run `make build`): %v", err)
	}
	return bin
}

// startManager runs the manager with the args of Deployment d, serving the
// webhook on 127.0.0.1:hookPort with a certificate that also names
// localhost (the chart's webhook.url in these tests), from certDir (a new
// one when empty).
func startManager(t *testing.T, d *unstructured.Unstructured, hookPort int, kubeconfig, certDir string) *managerProc {
	t.Helper()
	if certDir == "" {
		certDir = t.TempDir()
	}
	c := container(t, d)
	m := &managerProc{probe: freeAddr(t), log: filepath.Join(t.TempDir(), "manager.log"), done: make(chan struct{})}
	replace := map[string]string{
		"--health-probe-bind-address": m.probe,
		"--metrics-bind-address":      freeAddr(t),
		"--webhook-cert-dir":          certDir,
	}
	var args []string
	for _, a := range c.strs("args") {
		name, _, _ := strings.Cut(a, "=")
		if v, ok := replace[name]; ok {
			a = name + "=" + v
		}
		args = append(args, a)
	}
	if got := flagValue(args, "--webhook-port"); got != strconv.Itoa(hookPort) {
		t.Fatalf("the chart runs the webhook on port %s, the test calls it on %d", got, hookPort)
	}
	args = append(args, "--webhook-host=127.0.0.1", "--webhook-cert-dns-names=localhost")
	logf, err := os.Create(m.log)
	must(t, err)
	m.cmd = exec.Command(managerBinary(t), args...)
	m.cmd.Stdout, m.cmd.Stderr = logf, logf
	// POD_NAMESPACE is the chart's downward-API variable: its value here
	// is what the kubelet would set, the release namespace.
	m.cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "POD_NAMESPACE="+releaseNamespace)
	if env := c.str("env.0.name"); env != "POD_NAMESPACE" {
		t.Fatalf("the chart's manager gets no POD_NAMESPACE (env %v)", field(c.m, "env"))
	}
	must(t, m.cmd.Start())
	go func() { _ = m.cmd.Wait(); logf.Close(); close(m.done) }()
	t.Cleanup(m.stop)
	return m
}

// stop ends the manager with SIGTERM, as the kubelet would, and waits.
func (m *managerProc) stop() {
	select {
	case <-m.done:
		return
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(settle):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
}

// waitReady waits for /readyz: the webhook serves a valid certificate and
// its CA is in the caBundle.
func (m *managerProc) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(settle)
	for {
		resp, err := http.Get("http://" + m.probe + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-m.done:
			t.Fatalf("the manager exited:\n%s", m.tail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("manager not ready after %s:\n%s", settle, m.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tail is the end of the manager's log.
func (m *managerProc) tail() string {
	b, _ := os.ReadFile(m.log)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

// freeAddr is a loopback address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().String()
}

func freePort(t testing.TB) int {
	t.Helper()
	_, p, _ := net.SplitHostPort(freeAddr(t))
	n, err := strconv.Atoi(p)
	must(t, err)
	return n
}
