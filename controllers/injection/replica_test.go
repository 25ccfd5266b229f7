package injection_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/sidequeue/sidequeue/internal/testenv"
)

// replicaEnv, set to a kubeconfig, makes the test binary a second replica
// of the suite's manager instead of running tests; its webhook port, cert
// dir and health address follow in the variables below. It runs until its
// standard input closes.
const (
	replicaEnv      = "INJECTION_TEST_REPLICA_KUBECONFIG"
	replicaPortEnv  = "INJECTION_TEST_REPLICA_PORT"
	replicaDirEnv   = "INJECTION_TEST_REPLICA_CERT_DIR"
	replicaProbeEnv = "INJECTION_TEST_REPLICA_PROBE"
)

func runReplica(kubeconfig string) int {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	restCfg = cfg
	port, _ := strconv.Atoi(os.Getenv(replicaPortEnv))
	stop, err := startManager(selfManaged(port, os.Getenv(replicaDirEnv)), os.Getenv(replicaProbeEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	stop()
	return 0
}

// A second replica, in a process of its own as in a Deployment, finds the
// certificates valid and serves them: it becomes ready without writing the
// Secret, and serves the certificate the first one does.
func TestSecondReplicaServesTheSameCertificate(t *testing.T) {
	var before corev1.Secret
	must(t, k8s.Get(context.Background(), secretKey, &before))

	user, err := testEnv.AddUser(envtest.User{Name: "replica", Groups: []string{"system:masters"}}, nil)
	must(t, err)
	kubeconfig, err := user.KubeConfig()
	must(t, err)
	dir := t.TempDir()
	must(t, os.WriteFile(dir+"/kubeconfig", kubeconfig, 0o600))
	port := freePort(t)
	probe, err := freeAddr()
	must(t, err)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), replicaEnv+"="+dir+"/kubeconfig", replicaPortEnv+"="+strconv.Itoa(port),
		replicaDirEnv+"="+dir+"/certs", replicaProbeEnv+"="+probe)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	stdin, err := cmd.StdinPipe()
	must(t, err)
	must(t, cmd.Start())
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(exited) }()
	defer func() {
		stdin.Close()
		<-exited
		if exitErr != nil {
			t.Errorf("replica: %v\n%s", exitErr, out.String())
		}
	}()

	testenv.Within(t, settle, "the second replica to be ready", func() bool {
		select {
		case <-exited:
			t.Fatalf("replica exited before it was ready")
		default:
		}
		return readyz(probe) == http.StatusOK
	})
	var after corev1.Secret
	must(t, k8s.Get(context.Background(), secretKey, &after))
	if after.ResourceVersion != before.ResourceVersion {
		t.Fatal("the second replica rewrote the Secret")
	}
	got := dial(t, port, &tls.Config{InsecureSkipVerify: true}).Raw //nolint:gosec // compared, not trusted
	if !bytes.Equal(got, pemBlock(t, after.Data["tls.crt"])) {
		t.Fatal("the second replica serves another certificate")
	}
}
