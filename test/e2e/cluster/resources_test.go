//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// The messaging every scenario sets up: a managed Lookup, a Topic on it
// and a Channel, all Ready, before any app runs (a Channel created first
// misses nothing, DESIGN.md "The custom resources").
type messaging struct {
	ns, lookup, topic, channel string
	// lookupHTTP is where consumers find the daemons: the Lookup's Service
	// from its status (consumerAddresses), as a user would read it.
	lookupHTTP string
}

// setUpMessaging applies Lookup "default" (replicas lookupd pods), Topic
// "orders" and Channel "billing" in ns and waits for each to be Ready.
func (h *harness) setUpMessaging(t *testing.T, ns string, replicas int32) messaging {
	t.Helper()
	m := messaging{ns: ns, lookup: v1alpha1.DefaultLookupName, topic: "orders", channel: "billing"}
	l := &v1alpha1.Lookup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: m.lookup},
		Spec: v1alpha1.LookupSpec{Replicas: &replicas}}
	must(t, h.k8s.Create(ctx(t), l))
	h.waitReady(t, l)
	m.lookupHTTP = h.consumerAddress(t, l)

	// A typed client sends lookupRef even when empty, so the schema's
	// default does not apply: name it.
	tp := &v1alpha1.Topic{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: m.topic},
		Spec: v1alpha1.TopicSpec{LookupRef: v1alpha1.LocalObjectReference{Name: m.lookup}}}
	must(t, h.k8s.Create(ctx(t), tp))
	h.waitReady(t, tp)
	ch := &v1alpha1.Channel{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: m.channel},
		Spec: v1alpha1.ChannelSpec{TopicRef: v1alpha1.LocalObjectReference{Name: m.topic}}}
	must(t, h.k8s.Create(ctx(t), ch))
	h.waitReady(t, ch)
	return m
}

// conditions are a sidequeue resource's status conditions and the
// generation its status describes.
func conditions(obj client.Object) ([]metav1.Condition, int64) {
	switch o := obj.(type) {
	case *v1alpha1.Lookup:
		return o.Status.Conditions, o.Status.ObservedGeneration
	case *v1alpha1.Topic:
		return o.Status.Conditions, o.Status.ObservedGeneration
	case *v1alpha1.Channel:
		return o.Status.Conditions, o.Status.ObservedGeneration
	}
	panic(fmt.Sprintf("no conditions on %T", obj))
}

// waitReady waits until obj's status is current and Ready; obj is left
// as last read.
func (h *harness) waitReady(t testing.TB, obj client.Object) {
	t.Helper()
	what := fmt.Sprintf("%T %s/%s Ready", obj, obj.GetNamespace(), obj.GetName())
	eventually(t, medium, what, func(ctx context.Context) (bool, error) {
		if err := h.k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, err
		}
		conds, observed := conditions(obj)
		c := meta.FindStatusCondition(conds, v1alpha1.ConditionReady)
		if c == nil || observed < obj.GetGeneration() || c.Status != metav1.ConditionTrue {
			return false, fmt.Errorf("observed generation %d of %d, Ready: %+v", observed, obj.GetGeneration(), c)
		}
		return true, nil
	})
}

// consumerAddress is the first HTTP address the Lookup's status gives
// consumers.
func (h *harness) consumerAddress(t testing.TB, l *v1alpha1.Lookup) string {
	t.Helper()
	a := l.Status.ConsumerAddresses
	if a == nil || len(a.HTTPAddresses) == 0 {
		t.Fatalf("Lookup %s/%s is Ready without consumer addresses: %+v", l.Namespace, l.Name, l.Status)
	}
	return a.HTTPAddresses[0]
}

// lookupdPods are the running, ready pods of the Deployment the Lookup
// controls (found by its ownerReference, not by a name of the operator's).
func (h *harness) lookupdPods(t testing.TB, l *v1alpha1.Lookup) []corev1.Pod {
	t.Helper()
	var ds appsv1.DeploymentList
	must(t, h.k8s.List(ctx(t), &ds, client.InNamespace(l.Namespace)))
	for _, d := range ds.Items {
		if ref := metav1.GetControllerOf(&d); ref == nil || ref.UID != l.UID {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		must(t, err)
		var pods corev1.PodList
		must(t, h.k8s.List(ctx(t), &pods, client.InNamespace(l.Namespace), client.MatchingLabelsSelector{Selector: sel}))
		var ready []corev1.Pod
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && podReady(&p) {
				ready = append(ready, p)
			}
		}
		return ready
	}
	t.Fatalf("no Deployment controlled by Lookup %s/%s", l.Namespace, l.Name)
	return nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
