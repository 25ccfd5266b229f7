//go:build e2e

package cluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/internal/testenv"
)

// What a failed test leaves in bin/e2e-logs/<test>/<namespace>/: every
// object of the kinds below as YAML, `kubectl describe` of them when a
// kubectl is at hand, and every container's log, current and previous.

// dumpKinds are listed in each namespace; the plural names are also what
// kubectl describe takes.
var dumpKinds = []struct {
	gvk    schema.GroupVersionKind
	plural string
}{
	{corev1.SchemeGroupVersion.WithKind("PodList"), "pods"},
	{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DeploymentList"}, "deployments"},
	{schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSetList"}, "replicasets"},
	{schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "JobList"}, "jobs"},
	{corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaimList"), "persistentvolumeclaims"},
	{corev1.SchemeGroupVersion.WithKind("ServiceList"), "services"},
	{corev1.SchemeGroupVersion.WithKind("EventList"), "events"},
	{v1alpha1.GroupVersion.WithKind("LookupList"), "lookups"},
	{v1alpha1.GroupVersion.WithKind("TopicList"), "topics"},
	{v1alpha1.GroupVersion.WithKind("ChannelList"), "channels"},
	{v1alpha1.GroupVersion.WithKind("BacklogList"), "backlogs"},
}

// dump writes what is in ns; it never fails the test (it is already failed).
func (h *harness) dump(t *testing.T, ns string) {
	dir := filepath.Join(h.logs, strings.ReplaceAll(t.Name(), "/", "_"), ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("dump: %v", err)
		return
	}
	for _, k := range dumpKinds {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(k.gvk)
		if err := h.k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			t.Logf("dump: listing %s in %s: %v", k.plural, ns, err)
			continue
		}
		if len(list.Items) == 0 {
			continue
		}
		for i := range list.Items {
			// Who wrote which field is noise when reading what happened.
			list.Items[i].SetManagedFields(nil)
		}
		h.write(t, filepath.Join(dir, k.plural+".yaml"), list)
		h.describe(t, filepath.Join(dir, k.plural+".describe.txt"), ns, k.plural)
	}
	h.dumpLogs(t, dir, ns)
	t.Logf("dumped namespace %s into %s", ns, dir)
}

// dumpRelease dumps the operator's namespace and what is cluster-scoped
// and ours to look at: nodes, volumes, the webhook configuration.
func (h *harness) dumpRelease(t *testing.T) {
	h.dump(t, releaseNamespace)
	dir := filepath.Join(h.logs, strings.ReplaceAll(t.Name(), "/", "_"), "cluster")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	for _, kind := range []string{"nodes", "persistentvolumes", "mutatingwebhookconfigurations", "storageclasses"} {
		h.describe(t, filepath.Join(dir, kind+".describe.txt"), "", kind)
	}
}

func (h *harness) write(t *testing.T, path string, obj any) {
	b, err := yaml.Marshal(obj)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Logf("dump: %s: %v", path, err)
	}
}

// describe runs `kubectl describe kind` into path, when a kubectl is found:
// $KUBECTL, bin/cluster/kubectl or bin/k8s/kubectl (make k8s-bin), PATH.
func (h *harness) describe(t *testing.T, path, ns, kind string) {
	kubectl := kubectlPath()
	if kubectl == "" {
		return
	}
	args := []string{"--kubeconfig", h.kubeconfig, "describe", kind}
	if ns != "" {
		args = append(args, "-n", ns)
	}
	out, err := exec.Command(kubectl, args...).CombinedOutput()
	if err != nil {
		out = append(out, []byte("\nkubectl: "+err.Error()+"\n")...)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Logf("dump: %s: %v", path, err)
	}
}

func kubectlPath() string {
	for _, p := range []string{os.Getenv("KUBECTL"), testenv.Path("bin", "cluster", "kubectl"), testenv.Path("bin", "k8s", "kubectl")} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("kubectl")
	return p
}

// dumpLogs writes each container's log, and the previous one's of a
// container that restarted (the sidecar after a kill, say).
func (h *harness) dumpLogs(t *testing.T, dir, ns string) {
	var pods corev1.PodList
	if err := h.k8s.List(context.Background(), &pods, client.InNamespace(ns)); err != nil {
		return
	}
	for _, p := range pods.Items {
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			h.dumpLog(t, filepath.Join(dir, p.Name+"."+c.Name+".log"), ns, p.Name, c.Name, false)
			h.dumpLog(t, filepath.Join(dir, p.Name+"."+c.Name+".previous.log"), ns, p.Name, c.Name, true)
		}
	}
}

// dumpLog writes one container's log; a previous one that does not exist
// (the usual case) writes nothing.
func (h *harness) dumpLog(t *testing.T, path, ns, pod, container string, previous bool) {
	req := h.cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: container, Previous: previous})
	b, err := req.DoRaw(context.Background())
	if err != nil && previous {
		return
	}
	if err != nil {
		b = []byte("logs: " + err.Error() + "\n")
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Logf("dump: %v", err)
	}
}
