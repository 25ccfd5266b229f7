package injection_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/internal/testenv"
)

// countingServer is the manager's webhook server with every registered
// handler wrapped to log its calls.
type countingServer struct {
	webhook.Server
	log *callLog
}

func (s countingServer) Register(path string, h http.Handler) {
	s.Server.Register(path, s.log.wrap(path, h))
}

// call is one AdmissionReview the API server sent.
type call struct {
	path, namespace, generateName string
	took                          time.Duration // in the handler
}

type callLog struct {
	mu    sync.Mutex
	calls []*call
}

// wrap logs a call when it arrives, before it is answered, so a call is
// logged by the time the API server's answer to its client is.
func (l *callLog) wrap(path string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var review admissionv1.AdmissionReview
		var pod metav1.PartialObjectMetadata
		c := &call{path: path}
		if json.Unmarshal(body, &review) == nil && review.Request != nil {
			_ = json.Unmarshal(review.Request.Object.Raw, &pod)
			c.namespace, c.generateName = review.Request.Namespace, pod.GenerateName
		}
		l.mu.Lock()
		l.calls = append(l.calls, c)
		l.mu.Unlock()
		start := time.Now()
		h.ServeHTTP(w, r)
		l.mu.Lock()
		c.took = time.Since(start)
		l.mu.Unlock()
	})
}

// count is the number of calls to path about pods in namespace ns.
func (l *callLog) count(path, ns string) int {
	return len(l.matching(func(c *call) bool { return c.path == path && c.namespace == ns }))
}

// durations are the handler times of the answered calls to path about
// pods in ns.
func (l *callLog) durations(path, ns string) []time.Duration {
	var d []time.Duration
	for _, c := range l.matching(func(c *call) bool { return c.path == path && c.namespace == ns && c.took > 0 }) {
		d = append(d, c.took)
	}
	return d
}

// matching are copies of the calls that keep accepts.
func (l *callLog) matching(keep func(*call) bool) []call {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []call
	for _, c := range l.calls {
		if keep(c) {
			out = append(out, *c)
		}
	}
	return out
}

var nsCounter atomic.Int32

// Namespace labels.
var (
	optedIn = map[string]string{v1alpha1.NamespaceInjectionLabel: v1alpha1.NamespaceInjectionEnabled}
	// A pod's ask, as annotation (opted-in namespaces) or label (others).
	asks = map[string]string{v1alpha1.InjectKey: "true"}
)

// namespace creates a fresh namespace with labels and, withLookup, an
// external Lookup "default" (the webhook reads it; nothing dials it).
func namespace(t testing.TB, labels map[string]string, withLookup bool) string {
	t.Helper()
	ns := fmt.Sprintf("inj-%d", nsCounter.Add(1))
	must(t, k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}))
	if withLookup {
		must(t, k8s.Create(context.Background(), &v1alpha1.Lookup{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.DefaultLookupName},
			Spec: v1alpha1.LookupSpec{External: &v1alpha1.ExternalLookup{
				TCPAddresses: []string{"127.0.0.1:4160"}, HTTPAddresses: []string{"127.0.0.1:4161"},
			}},
		}))
	}
	return ns
}

// newPod is a pod whose app passes the restricted Pod Security Standard
// and sets requests and limits.
func newPod(ns, name string, annotations, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations, Labels: labels},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr.To(true),
				RunAsUser:      ptr.To[int64](1000),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: "app", Image: "publisher:1",
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
				},
			}},
		},
	}
}

func create(t testing.TB, pod *corev1.Pod) error {
	t.Helper()
	return k8s.Create(context.Background(), pod)
}

// sidecars counts the containers named sidequeue, app and init.
func sidecars(pod *corev1.Pod) int {
	n := 0
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if c.Name == v1alpha1.SidecarContainerName {
			n++
		}
	}
	return n
}

// assertInjected checks what DESIGN.md promises of an injected pod: the
// sidecar once, as the first init container, restartPolicy Always, and the
// injected label.
func assertInjected(t testing.TB, pod *corev1.Pod) {
	t.Helper()
	if n := sidecars(pod); n != 1 {
		t.Fatalf("pod %s has %d sidecars, want 1", pod.Name, n)
	}
	first := pod.Spec.InitContainers[0]
	if first.Name != v1alpha1.SidecarContainerName || first.RestartPolicy == nil || *first.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Fatalf("pod %s: first init container %s (restartPolicy %v), want %s with Always", pod.Name, first.Name, first.RestartPolicy, v1alpha1.SidecarContainerName)
	}
	if pod.Labels[v1alpha1.LabelInjected] != "true" {
		t.Fatalf("pod %s: labels %v lack %s=true", pod.Name, pod.Labels, v1alpha1.LabelInjected)
	}
	// A log on a claim is handed off when the pod goes: the pod waits for it.
	claim := slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Ephemeral != nil })
	if held := slices.Contains(pod.Finalizers, v1alpha1.FinalizerBacklog); claim != held {
		t.Fatalf("pod %s: finalizers %v with a claim %t", pod.Name, pod.Finalizers, claim)
	}
}

func assertUntouched(t testing.TB, pod *corev1.Pod) {
	t.Helper()
	if n := sidecars(pod); n != 0 || len(pod.Spec.InitContainers) != 0 || pod.Labels[v1alpha1.LabelInjected] != "" {
		t.Fatalf("pod %s was changed: %d sidecars, init containers %v, labels %v", pod.Name, n, pod.Spec.InitContainers, pod.Labels)
	}
}

// admissions is the value of sidequeue_injector_admissions_total for
// result and reason in the manager's metrics registry.
func admissions(t testing.TB, result, reason string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	must(t, err)
	for _, f := range families {
		if f.GetName() != "sidequeue_injector_admissions_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["result"] == result && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// waitEvent waits for an event in ns about the object of the given kind
// and name (and uid, unless empty) with reason, and returns it.
func waitEvent(t testing.TB, ns, kind, name, uid, reason string) eventsv1.Event {
	t.Helper()
	var found eventsv1.Event
	testenv.Within(t, settle, fmt.Sprintf("event %s on %s %s", reason, kind, name), func() bool {
		var list eventsv1.EventList
		must(t, k8s.List(context.Background(), &list, client.InNamespace(ns)))
		for _, e := range list.Items {
			r := e.Regarding
			if r.Kind == kind && r.Name == name && (uid == "" || string(r.UID) == uid) && e.Reason == reason {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// percentile is the p-th percentile (0 < p <= 100) of d, which it sorts.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(float64(len(d))*p/100+0.5) - 1
	return d[max(0, min(i, len(d)-1))]
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
