package injection_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/injection"
)

// Who the API server sends to the webhook, as config/webhook says: the
// two entries, their matchConditions and exclusions, counted in calls.

// Either ask is sent once and injected: the annotation in an opted-in
// namespace, the label anywhere else.
func TestPodsThatAskAreInjected(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name                          string
		nsLabels, annotations, labels map[string]string
	}{
		{"annotated-in-opted-in-namespace", optedIn, asks, nil},
		{"labelled-in-other-namespace", nil, nil, asks},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := namespace(t, c.nsLabels, true)
			pod := newPod(ns, c.name, c.annotations, c.labels)
			must(t, create(t, pod))
			assertInjected(t, pod)
			if n := calls.count(injection.Path, ns); n != 1 {
				t.Fatalf("webhook called %d times, want 1", n)
			}
		})
	}
}

// Pods that did not ask are created unchanged, and the API server does not
// even call the webhook for them: an outage cannot touch them.
func TestPodsThatDidNotAskAreNotSent(t *testing.T) {
	t.Parallel()
	other := namespace(t, nil, true)
	in := namespace(t, optedIn, true)
	cases := []*corev1.Pod{
		newPod(other, "annotation-only", asks, nil),                                         // annotation outside an opted-in namespace
		newPod(other, "neither", nil, nil),                                                  // nothing
		newPod(in, "neither", nil, nil),                                                     // opted-in namespace, pod did not ask
		newPod(in, "label-only", nil, asks),                                                 // the label is the ask of other namespaces
		newPod(in, "annotation-false", map[string]string{v1alpha1.InjectKey: "false"}, nil), // asked not to
	}
	for _, pod := range cases {
		must(t, create(t, pod))
		assertUntouched(t, pod)
	}
	for _, ns := range []string{other, in} {
		if n := calls.count(injection.Path, ns); n != 0 {
			t.Errorf("webhook called %d times for pods in %s, want 0", n, ns)
		}
	}
}

// kube-system and the operator's namespace are never sent, whatever their
// labels and their pods ask: opted in, an annotated pod (the namespace
// entry); not, a labelled pod (the object entry).
func TestSystemAndOperatorNamespacesAreNeverSent(t *testing.T) {
	for _, ns := range []string{"kube-system", operatorNS} {
		setNamespaceLabel(t, ns, v1alpha1.NamespaceInjectionEnabled)
		annotated := newPod(ns, "test-annotated", asks, nil)
		must(t, create(t, annotated))
		setNamespaceLabel(t, ns, "")
		labelled := newPod(ns, "test-labelled", asks, asks)
		must(t, create(t, labelled))
		for _, pod := range []*corev1.Pod{annotated, labelled} {
			assertUntouched(t, pod)
			must(t, k8s.Delete(context.Background(), pod))
		}
		if n := calls.count(injection.Path, ns); n != 0 {
			t.Errorf("webhook called %d times for pods in %s, want 0", n, ns)
		}
	}
}

// setNamespaceLabel sets the injection label of namespace ns to value, or
// removes it when value is empty.
func setNamespaceLabel(t testing.TB, ns, value string) {
	t.Helper()
	var n corev1.Namespace
	must(t, k8s.Get(context.Background(), client.ObjectKey{Name: ns}, &n))
	before := n.DeepCopy()
	if value == "" {
		delete(n.Labels, v1alpha1.NamespaceInjectionLabel)
	} else {
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		n.Labels[v1alpha1.NamespaceInjectionLabel] = value
	}
	must(t, k8s.Patch(context.Background(), &n, client.MergeFrom(before)))
}
