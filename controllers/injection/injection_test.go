package injection_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/sidequeue/sidequeue/controllers/injection"
	"github.com/sidequeue/sidequeue/internal/testenv"
)

func TestGenerateNamePodIsInjected(t *testing.T) {
	t.Parallel()
	ns := namespace(t, optedIn, true)
	pod := newPod(ns, "", asks, nil)
	pod.GenerateName = "publisher-"
	must(t, create(t, pod))
	if !strings.HasPrefix(pod.Name, "publisher-") {
		t.Fatalf("pod named %q", pod.Name)
	}
	assertInjected(t, pod)
	// No name and no controller when it was admitted: the event names it
	// by its prefix.
	waitEvent(t, ns, "Pod", "publisher-", "", injection.EventInjected)
}

// A pod as a Deployment's ReplicaSet creates it: generateName, the
// template's labels and annotations, the ReplicaSet as controller. The
// event goes to the ReplicaSet, where `kubectl describe` shows it.
func TestReplicaSetPodIsInjectedAndItsOwnerToldSo(t *testing.T) {
	t.Parallel()
	ns := namespace(t, optedIn, true)
	labels := map[string]string{"app": "publisher", "pod-template-hash": "5d8f7c9b4"}
	tmpl := newPod(ns, "", asks, labels)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "publisher-5d8f7c9b4", Labels: labels},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: tmpl.ObjectMeta, Spec: tmpl.Spec},
		},
	}
	must(t, k8s.Create(context.Background(), rs))
	pod := &corev1.Pod{ObjectMeta: *rs.Spec.Template.ObjectMeta.DeepCopy(), Spec: *rs.Spec.Template.Spec.DeepCopy()}
	pod.Namespace, pod.GenerateName = ns, rs.Name+"-"
	pod.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}}
	must(t, create(t, pod))
	assertInjected(t, pod)
	e := waitEvent(t, ns, "ReplicaSet", rs.Name, string(rs.UID), injection.EventInjected)
	if e.Type != corev1.EventTypeNormal || !strings.Contains(e.Note, rs.Name+"-") {
		t.Fatalf("event %s %q", e.Type, e.Note)
	}
}

// A webhook after ours changes the pod, so the API server calls ours again
// (reinvocationPolicy IfNeeded): the pod still has one sidecar.
func TestReinvocationAddsNoSecondSidecar(t *testing.T) {
	t.Parallel()
	ns := namespace(t, merge(optedIn, map[string]string{"test.sidequeue.io/touch": "true"}), true)
	installTouchWebhook(t)

	// The API server sees the new configuration a moment later: wait for
	// a pod to come back touched.
	var pod *corev1.Pod
	tries := 0
	testenv.Within(t, settle, "the touching webhook to be in effect", func() bool {
		tries++
		pod = newPod(ns, "", asks, nil)
		pod.GenerateName = "twice-" + strconv.Itoa(tries) + "-"
		must(t, create(t, pod))
		return pod.Annotations[touchedKey] == "true"
	})
	assertInjected(t, pod)
	ours := calls.matching(func(c *call) bool {
		return c.path == injection.Path && c.namespace == ns && c.generateName == pod.GenerateName
	})
	if len(ours) != 2 {
		t.Fatalf("webhook called %d times for the touched pod, want 2 (the second a reinvocation)", len(ours))
	}
}

const (
	touchPath  = "/test-touch"
	touchedKey = "test.sidequeue.io/touched"
)

var (
	touchOnce sync.Once
	touchErr  error
)

// touch annotates every pod it is sent.
var touch = &admission.Webhook{Handler: admission.HandlerFunc(func(_ context.Context, req admission.Request) admission.Response {
	var pod corev1.Pod
	if err := json.Unmarshal(req.Object.Raw, &pod); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[touchedKey] = "true"
	after, err := json.Marshal(&pod)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return admission.PatchResponseFromRaw(req.Object.Raw, after)
})}

// installTouchWebhook installs, once, a webhook configuration named to be
// called after sidequeue-injector, for the namespaces labelled
// test.sidequeue.io/touch: touch, served by the manager's server.
func installTouchWebhook(t testing.TB) {
	t.Helper()
	touchOnce.Do(func() {
		url := "https://localhost:" + strconv.Itoa(hookPort) + touchPath
		cfg := &admissionregv1.MutatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "zz-test-touch"},
			Webhooks: []admissionregv1.MutatingWebhook{{
				Name:                    "touch.test.sidequeue.io",
				AdmissionReviewVersions: []string{"v1"},
				ClientConfig:            admissionregv1.WebhookClientConfig{URL: &url, CABundle: caPEM(t)},
				Rules: []admissionregv1.RuleWithOperations{{
					Operations: []admissionregv1.OperationType{admissionregv1.Create},
					Rule:       admissionregv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
				}},
				NamespaceSelector:  &metav1.LabelSelector{MatchLabels: map[string]string{"test.sidequeue.io/touch": "true"}},
				SideEffects:        ptr.To(admissionregv1.SideEffectClassNone),
				ReinvocationPolicy: ptr.To(admissionregv1.NeverReinvocationPolicy),
				FailurePolicy:      ptr.To(admissionregv1.Fail),
			}},
		}
		touchErr = k8s.Create(context.Background(), cfg)
	})
	must(t, touchErr)
}

// caPEM is the self-managed CA, which the manager's server is trusted by.
func caPEM(t testing.TB) []byte {
	t.Helper()
	var s corev1.Secret
	must(t, k8s.Get(context.Background(), secretKey, &s))
	return s.Data["ca.crt"]
}

// A server-side dry run is answered like any request but leaves no event
// (sideEffects: None): the event of a real pod created after it arrives,
// the dry run's never does.
func TestDryRunRecordsNoEvent(t *testing.T) {
	t.Parallel()
	ns := namespace(t, optedIn, true)
	dry := newPod(ns, "dry", asks, nil)
	must(t, k8s.Create(context.Background(), dry, client.DryRunAll))
	assertInjected(t, dry)
	must(t, create(t, newPod(ns, "real", asks, nil)))
	waitEvent(t, ns, "Pod", "real", "", injection.EventInjected)
	var list eventsv1.EventList
	must(t, k8s.List(context.Background(), &list, client.InNamespace(ns)))
	for _, e := range list.Items {
		if e.Regarding.Name == "dry" {
			t.Fatalf("event %s %q about a dry run", e.Reason, e.Note)
		}
	}
}
