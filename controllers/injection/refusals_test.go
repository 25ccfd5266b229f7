package injection_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/injection"
)

// Every refusal of DESIGN.md reaches whoever created the pod through the real
// API server: the creation fails with sidecar/inject's message (the
// annotation or field, and the fix), marked as sidequeue's; the refusal is
// counted and told in an event on the pod.
func TestRefusalsReachTheUser(t *testing.T) {
	t.Parallel()
	ns := namespace(t, optedIn, true)
	cases := []struct {
		name        string
		annotations map[string]string
		reason      string   // the counter's, sidecar/inject's Refusal.Reason
		says        []string // in the message
		spec        func(*corev1.Pod)
	}{
		{"bad-size", map[string]string{v1alpha1.AnnotationStorageSize: "1Gx"}, "InvalidAnnotation",
			[]string{v1alpha1.AnnotationStorageSize, "1Gx"}, nil},
		{"no-lookup", map[string]string{v1alpha1.AnnotationLookup: "nowhere"}, "LookupNotFound",
			[]string{v1alpha1.AnnotationLookup, "nowhere"}, nil},
		{"bad-duration", map[string]string{v1alpha1.AnnotationDrainTimeout: "soon"}, "InvalidAnnotation",
			[]string{v1alpha1.AnnotationDrainTimeout, "soon"}, nil},
		{"bad-quantity", map[string]string{v1alpha1.AnnotationCPULimit: "lots"}, "InvalidAnnotation",
			[]string{v1alpha1.AnnotationCPULimit, "lots"}, nil},
		{"bad-preset", map[string]string{v1alpha1.AnnotationDurability: "paranoid"}, "InvalidAnnotation",
			[]string{v1alpha1.AnnotationDurability, "paranoid", "fsync"}, nil},
		{"misspelt", map[string]string{"sidequeue.io/drain-timout": "30s"}, "UnknownAnnotation",
			[]string{"did you mean " + v1alpha1.AnnotationDrainTimeout}, nil},
		{"bad-flags", map[string]string{v1alpha1.AnnotationQueuedFlags: "--max-msg-size=big"}, "InvalidQueuedFlags",
			[]string{v1alpha1.AnnotationQueuedFlags, "max-msg-size"}, nil},
		{"host-network", nil, "HostNetwork", []string{"spec.hostNetwork"},
			func(p *corev1.Pod) { p.Spec.HostNetwork = true }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			annotations := map[string]string{v1alpha1.InjectKey: "true"}
			for k, v := range c.annotations {
				annotations[k] = v
			}
			before := admissions(t, "refused", c.reason)
			pod := newPod(ns, c.name, annotations, nil)
			if c.spec != nil {
				c.spec(pod)
			}
			err := create(t, pod)
			if !apierrors.IsForbidden(err) {
				t.Fatalf("creating the pod: %v, want it refused (Forbidden)", err)
			}
			msg := err.Error()
			for _, want := range append([]string{`admission webhook "namespace.inject.sidequeue.io" denied the request: sidequeue: `}, c.says...) {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q lacks %q", msg, want)
				}
			}
			if after := admissions(t, "refused", c.reason); after < before+1 {
				t.Errorf("sidequeue_injector_admissions_total{result=refused,reason=%s} went from %v to %v", c.reason, before, after)
			}
			e := waitEvent(t, ns, "Pod", c.name, "", injection.EventRefused)
			if e.Type != corev1.EventTypeWarning || !strings.Contains(e.Note, "sidequeue: ") {
				t.Errorf("event %s %q", e.Type, e.Note)
			}
		})
	}
}
