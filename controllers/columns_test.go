package controllers_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// kubectl runs bin/k8s/kubectl against the suite's API server as an
// administrator and returns its output.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	user, err := testEnv.AddUser(envtest.User{Name: "kubectl", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, os.WriteFile(path, kc, 0o600))
	out, err := exec.Command(filepath.Join("..", "bin", "k8s", "kubectl"), append([]string{"--kubeconfig=" + path}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// column is the value of the named column in the row of name in a table
// kubectl printed.
func column(t *testing.T, table, name, col string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(table), "\n")
	header := strings.Fields(lines[0])
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != len(header) || f[0] != name {
			continue
		}
		for i, h := range header {
			if h == col {
				return f[i]
			}
		}
	}
	t.Fatalf("no %s column for %s in:\n%s", col, name, table)
	return ""
}

// `kubectl get channels` and `kubectl get topics` show PAUSED, as status
// has it once the daemons are paused.
func TestPausedColumn(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, true)
	topic := ns + "-columns"
	must(t, k8s.Create(ctx, newTopic(ns, topic, v1alpha1.DeletionPolicyDelete)))
	topicReady(t, ns, topic)
	ch := newChannel(ns, "held", topic, v1alpha1.DeletionPolicyDelete)
	ch.Spec.Paused = true
	must(t, k8s.Create(ctx, ch))
	eventually(t, "channel paused in status", func() bool { return get(t, ns, ch.Name, ch) && ch.Status.Paused })

	table := kubectl(t, "get", "channels", "-n", ns)
	t.Logf("kubectl get channels:\n%s", table)
	if got := column(t, table, "held", "PAUSED"); got != "true" {
		t.Errorf("channel PAUSED %q, want true", got)
	}
	table = kubectl(t, "get", "topics", "-n", ns)
	t.Logf("kubectl get topics:\n%s", table)
	if got := column(t, table, topic, "PAUSED"); got != "false" {
		t.Errorf("topic PAUSED %q, want false", got)
	}
}
