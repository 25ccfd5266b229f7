package install

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers"
	"github.com/sidequeue/sidequeue/internal/testutil"
)

// exerciseControllers makes the manager do, under the chart's
// ServiceAccount, what its reconcilers do in a cluster: run the chart's
// default Lookup and a managed Lookup of its own, retire that one when it
// turns external, and take a Topic and a Channel through their lives.
// The least-privilege check then finds each permission used.
func exerciseControllers(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	waitOwned(t, releaseNamespace, v1alpha1.DefaultLookupName, true)

	tier := &v1alpha1.Lookup{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tier"}}
	must(t, k8s.Create(ctx, tier))
	waitOwned(t, ns, "tier", true)
	within(t, "Lookup tier turned external", func() bool {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(tier), tier); err != nil {
			return false
		}
		tier.Spec.External = &v1alpha1.ExternalLookup{TCPAddresses: []string{"127.0.0.1:1"}, HTTPAddresses: []string{"127.0.0.1:1"}}
		return k8s.Update(ctx, tier) == nil
	})
	waitOwned(t, ns, "tier", false)

	// A Topic on an external Lookup, with a Channel; one on the managed
	// one, whose lookupd replicas are found from EndpointSlices.
	topic := &v1alpha1.Topic{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders"},
		Spec: v1alpha1.TopicSpec{LookupRef: v1alpha1.LocalObjectReference{Name: v1alpha1.DefaultLookupName}}}
	channel := &v1alpha1.Channel{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "audit"},
		Spec: v1alpha1.ChannelSpec{TopicRef: v1alpha1.LocalObjectReference{Name: "orders"}}}
	onManaged := &v1alpha1.Topic{ObjectMeta: metav1.ObjectMeta{Namespace: releaseNamespace, Name: "metrics"},
		Spec: v1alpha1.TopicSpec{LookupRef: v1alpha1.LocalObjectReference{Name: v1alpha1.DefaultLookupName}}}
	for _, o := range []client.Object{topic, channel, onManaged} {
		must(t, k8s.Create(ctx, o))
	}
	within(t, "the Topic and Channel reconciled", func() bool {
		must(t, k8s.Get(ctx, client.ObjectKeyFromObject(topic), topic))
		must(t, k8s.Get(ctx, client.ObjectKeyFromObject(channel), channel))
		must(t, k8s.Get(ctx, client.ObjectKeyFromObject(onManaged), onManaged))
		return hasFinalizer(topic) && hasFinalizer(channel) && hasFinalizer(onManaged) &&
			topic.Status.ObservedGeneration > 0 && channel.Status.ObservedGeneration > 0 &&
			onManaged.Status.ObservedGeneration > 0
	})
	for _, o := range []client.Object{channel, topic, onManaged} {
		must(t, k8s.Delete(ctx, o))
		within(t, o.GetName()+" deleted", func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(o), o))
		})
	}
}

func hasFinalizer(o client.Object) bool {
	for _, f := range o.GetFinalizers() {
		if f == controllers.Finalizer {
			return true
		}
	}
	return false
}

// waitOwned waits until Lookup name in ns owns a Deployment, a Service
// and a PodDisruptionBudget (want), or none (!want).
func waitOwned(t *testing.T, ns, name string, want bool) {
	t.Helper()
	within(t, "the objects of Lookup "+ns+"/"+name, func() bool {
		return owns(t, ns, name, &appsv1.DeploymentList{}) == want &&
			owns(t, ns, name, &corev1.ServiceList{}) == want &&
			owns(t, ns, name, &policyv1.PodDisruptionBudgetList{}) == want
	})
}

// owns reports whether Lookup name owns an object of list's kind in ns.
func owns(t *testing.T, ns, name string, list client.ObjectList) bool {
	must(t, k8s.List(context.Background(), list, client.InNamespace(ns),
		client.MatchingLabels{"app.kubernetes.io/managed-by": controllers.FieldOwner}))
	for _, o := range metaItems(list) {
		for _, r := range o.GetOwnerReferences() {
			if r.Kind == "Lookup" && r.Name == name {
				return true
			}
		}
	}
	return false
}

// metaItems are the items of the lists owns reads.
func metaItems(list client.ObjectList) []metav1.Object {
	var out []metav1.Object
	switch l := list.(type) {
	case *appsv1.DeploymentList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *corev1.ServiceList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *policyv1.PodDisruptionBudgetList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	}
	return out
}

// within polls cond until it holds, failing t when settle passes first.
func within(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.WaitEvery(t, what, settle, 50*time.Millisecond, cond)
}
