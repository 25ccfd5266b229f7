package backlogtest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
	"github.com/sidequeue/sidequeue/internal/testenv"
	"github.com/sidequeue/sidequeue/sidecar/queued"
)

// The drain Job runs the sidecar again on the claim, with --drain-only,
// registered with the same Lookup, as restricted as the sidecar; it is the
// Backlog's, has no TTL, and its pod passes restricted Pod Security.
func TestDrainJobRunsTheSidecarOnTheClaim(t *testing.T) {
	t.Parallel()
	ns, pod := attachedPublisher(t)
	stopPod(t, pod, summary(false, 1))
	b := inPhase(t, pod, v1alpha1.BacklogDraining)
	job := jobs(t, ns)[0]

	if ref := metav1.GetControllerOf(&job); ref == nil || ref.UID != b.UID {
		t.Errorf("job owners %+v, want its backlog", job.OwnerReferences)
	}
	if job.Spec.TTLSecondsAfterFinished != nil || job.Spec.BackoffLimit == nil ||
		job.Spec.ActiveDeadlineSeconds == nil || *job.Spec.ActiveDeadlineSeconds != 24*3600 {
		t.Errorf("job spec ttl %v backoffLimit %v deadline %v", job.Spec.TTLSecondsAfterFinished,
			job.Spec.BackoffLimit, job.Spec.ActiveDeadlineSeconds)
	}
	spec := job.Spec.Template.Spec
	if len(spec.Volumes) != 1 || spec.Volumes[0].PersistentVolumeClaim == nil ||
		spec.Volumes[0].PersistentVolumeClaim.ClaimName != v1alpha1.ClaimName(pod.Name) {
		t.Errorf("job volumes %+v, want the pod's claim", spec.Volumes)
	}
	c := spec.Containers[0]
	for _, arg := range []string{"--drain-only", "--lookupd-tcp-address=" + lookupAddr, "--data-path=" + v1alpha1.SidecarDataPath} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("drain args %v lack %s", c.Args, arg)
		}
	}
	if c.Image != testImage {
		t.Errorf("drain image %s, want the sidecar's %s", c.Image, testImage)
	}
	if !slices.ContainsFunc(spec.Tolerations, func(tl corev1.Toleration) bool { return tl.Key == corev1.TaintNodeUnschedulable }) {
		t.Errorf("tolerations %+v do not tolerate a cordoned node", spec.Tolerations)
	}
	assertRestricted(t, job)
}

// assertRestricted creates the Job's pod as the Job controller would, in a
// namespace that enforces the restricted Pod Security Standard.
func assertRestricted(t *testing.T, job batchv1.Job) {
	t.Helper()
	ns := namespace(t)
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	update(t, nsObj, func() {
		nsObj.Labels = map[string]string{
			"pod-security.kubernetes.io/enforce":         "restricted",
			"pod-security.kubernetes.io/enforce-version": "latest",
		}
	}, false)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "drain"}, Spec: job.Spec.Template.Spec}
	if err := k8s.Create(context.Background(), pod); err != nil {
		t.Errorf("the drain pod is refused where restricted is enforced: %v", err)
	}
}

// kubectl get backlogs, with a Backlog in each phase, as a user sees it.
func TestKubectlGetBacklogs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := namespace(t)
	startOperator(t, ns, func(r *controllers.BacklogReconciler) { r.RetryBackoff = time.Hour })
	n := node(t, ns+"-n1")
	silent := node(t, ns+"-n2")
	removed := node(t, ns+"-n3")
	attached := publisher(t, ns, "web-7d9f-attached", n.Name)
	draining := publisher(t, ns, "web-7d9f-draining", n.Name)
	failed := publisher(t, ns, "web-7d9f-failed", n.Name)
	fencing := publisher(t, ns, "web-7d9f-fencing", silent.Name)
	lost := publisher(t, ns, "web-7d9f-lost", removed.Name)
	for _, p := range []*corev1.Pod{attached, draining, failed, fencing, lost} {
		inPhase(t, p, v1alpha1.BacklogAttached)
	}
	stopPod(t, draining, summary(false, 1204))
	stopPod(t, failed, summary(false, 310))
	inPhase(t, failed, v1alpha1.BacklogDraining)
	for _, j := range jobs(t, ns) {
		if strings.HasPrefix(j.Name, v1alpha1.ClaimName(failed.Name)) {
			finishJob(t, &j, false)
		}
	}
	setNodeReady(t, silent, false)
	must(t, k8s.Delete(ctx, fencing, client.GracePeriodSeconds(1)))
	bindToLocalVolume(t, claimOf(t, lost), removed.Name)
	must(t, k8s.Delete(ctx, removed))
	sidecarExits(t, lost, corev1.PodFailed, "")
	inPhase(t, lost, v1alpha1.BacklogLost)
	inPhase(t, draining, v1alpha1.BacklogDraining)
	inPhase(t, failed, v1alpha1.BacklogFailed)
	inPhase(t, fencing, v1alpha1.BacklogFencing)

	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, os.WriteFile(kubeconfig, env.KubeConfig, 0o600))
	out, err := exec.Command(testenv.Path("bin", "k8s", "kubectl"), "--kubeconfig", kubeconfig,
		"get", "backlogs", "-n", ns, "-o", "wide").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl: %v\n%s", err, out)
	}
	t.Logf("kubectl get backlogs -o wide\n%s", out)
	for _, want := range []string{"PHASE", "DEPTH", "Attached", "Draining", "1204", "Failed", "310", "Fencing", "Lost"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kubectl output lacks %q", want)
		}
	}
	if got := backlogGauges(t, ns); got != "Attached=1 Draining=1 Failed=1 Fencing=1 Lost=1" {
		t.Errorf("sidequeue_backlogs for %s: %s, want one in each phase", ns, got)
	}
}

// backlogGauges is what the manager's /metrics says of ns's Backlogs,
// sidequeue_backlogs by phase, as "Phase=N" in phase order.
func backlogGauges(t *testing.T, ns string) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(controllers.NewBacklogMetrics(k8s))
	families, err := reg.Gather()
	must(t, err)
	var got []string
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if f.GetName() == "sidequeue_backlogs" && labels["namespace"] == ns {
				got = append(got, fmt.Sprintf("%s=%g", labels["phase"], m.GetGauge().GetValue()))
			}
		}
	}
	slices.Sort(got)
	return strings.Join(got, " ")
}

// While the drain Job runs, DEPTH is what its daemon still holds, asked
// every stats interval: it falls as consumers drain.
func TestDepthFollowsTheDrain(t *testing.T) {
	t.Parallel()
	daemon, port := drainDaemon(t)
	ns := namespace(t)
	startOperator(t, ns, func(r *controllers.BacklogReconciler) {
		r.NSQ, r.DrainHTTPPort, r.StatsInterval = nsqapi.NewClient(), port, 200*time.Millisecond
	})
	pod := publisher(t, ns, "pub", node(t, ns+"-n1").Name)
	inPhase(t, pod, v1alpha1.BacklogAttached)
	stopPod(t, pod, summary(false, 20000))
	b := inPhase(t, pod, v1alpha1.BacklogDraining)

	// The Job controller's and the kubelet's part: the Job's pod runs, its
	// daemon (in process here, at 127.0.0.1) holding 7 messages.
	publishHTTP(t, daemon, "orders", 7)
	jobPod(t, ns, b.Status.Job)
	within(t, "DEPTH to be the drain daemon's", func() bool {
		b = backlogOf(t, pod)
		return b.Status.Depth != nil && *b.Status.Depth == 7
	})
}

// drainDaemon is a queued in process, standing for the drain Job's.
func drainDaemon(t *testing.T) (httpAddr string, port int) {
	t.Helper()
	o := queued.NewOptions()
	o.TCPAddress, o.HTTPAddress, o.DataPath, o.LogLevel = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), "error"
	d, err := queued.New(o)
	must(t, err)
	go d.Main()
	t.Cleanup(d.Exit)
	return d.HTTPAddr().String(), d.HTTPAddr().Port
}

func publishHTTP(t *testing.T, addr, topic string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		resp, err := http.Post("http://"+addr+"/pub?topic="+topic, "text/plain", strings.NewReader("m"))
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("publish: %s", resp.Status)
		}
	}
}

// jobPod is the running pod of job, at 127.0.0.1.
func jobPod(t *testing.T, ns, job string) {
	t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: job + "-x1", Labels: map[string]string{batchv1.JobNameLabel: job}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "sidequeue", Image: testImage}}},
	}
	must(t, k8s.Create(context.Background(), p))
	update(t, p, func() {
		p.Status.Phase = corev1.PodRunning
		p.Status.PodIP, p.Status.PodIPs = "127.0.0.1", []corev1.PodIP{{IP: "127.0.0.1"}}
	}, true)
}
