//go:build e2e

package cluster

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// ---------------------------------------------------------------------
// CLUSTER HOOK: killing a container from the node, which needs the test
// cluster's container runtime (hack/cluster). The images have no shell,
// so `kubectl exec ... kill` cannot do it; containerd's ctr on the host
// can, as an OOM kill or a crash would.
//
// E2E_CTR is the ctr command line for the cluster's containerd, as
// hack/cluster/up.sh is to provide it, e.g.
//   E2E_CTR="/work/bin/cluster/bin/ctr --address /work/bin/cluster/run/containerd.sock"
// The namespace is the CRI's, k8s.io; the container ID the kubelet's.
// ---------------------------------------------------------------------

// killContainer sends SIGKILL to the container's process (its task).
func killContainer(t testing.TB, status corev1.ContainerStatus) {
	t.Helper()
	ctr := strings.Fields(os.Getenv("E2E_CTR"))
	if len(ctr) == 0 {
		t.Fatal("E2E_CTR is not set: the ctr command line of the cluster's containerd (hack/cluster/up.sh provides it)")
	}
	runtime, id, ok := strings.Cut(status.ContainerID, "://")
	if !ok || runtime != "containerd" {
		t.Fatalf("container %s: ID %q is not a containerd one", status.Name, status.ContainerID)
	}
	args := append(ctr[1:], "--namespace", "k8s.io", "tasks", "kill", "--signal", "SIGKILL", id)
	if out, err := exec.Command(ctr[0], args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", ctr[0], strings.Join(args, " "), err, out)
	}
}
