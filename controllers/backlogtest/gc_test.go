package backlogtest

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// collectGarbage plays kube-controller-manager's garbage collector over
// the kinds of a handoff in ns, until nothing changes:
//   - an owner deleted with the orphan policy: its dependents lose the
//     reference, then the owner its "orphan" finalizer;
//   - an owner deleted in the foreground: a dependent with another solid
//     owner loses the reference, any other is deleted (in the foreground
//     too); once none is left, the owner loses "foregroundDeletion";
//   - a dependent whose owners are all gone is deleted (background); one
//     with some left loses the references of those that are gone.
//
// A solid owner exists and is not being deleted in the foreground.
func collectGarbage(t *testing.T, ns string) {
	t.Helper()
	for round := 0; round < 20; round++ {
		if !gcRound(t, ns) {
			return
		}
	}
	t.Fatal("the garbage collector did not settle")
}

var gcKinds = []schema.GroupVersionKind{
	{Version: "v1", Kind: "Pod"},
	{Version: "v1", Kind: "PersistentVolumeClaim"},
	{Group: "apps", Version: "v1", Kind: "ReplicaSet"},
	{Group: "batch", Version: "v1", Kind: "Job"},
	{Group: "sidequeue.io", Version: "v1alpha1", Kind: "Backlog"},
}

const (
	finalizerOrphan     = metav1.FinalizerOrphanDependents
	finalizerForeground = metav1.FinalizerDeleteDependents
)

// gcRound makes one pass and reports whether it changed anything.
func gcRound(t *testing.T, ns string) bool {
	ctx := context.Background()
	objs := map[types.UID]*metav1.PartialObjectMetadata{}
	for _, gvk := range gcKinds {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		must(t, k8s.List(ctx, list, client.InNamespace(ns)))
		for i := range list.Items {
			o := &list.Items[i]
			o.SetGroupVersionKind(gvk)
			objs[o.UID] = o
		}
	}
	changed := false
	for _, o := range objs {
		if o.DeletionTimestamp == nil {
			continue
		}
		if slices.Contains(o.Finalizers, finalizerOrphan) {
			for _, d := range dependents(objs, o.UID) {
				dropOwners(t, d, func(ref metav1.OwnerReference) bool { return ref.UID == o.UID })
			}
			dropFinalizer(t, o, finalizerOrphan)
			changed = true
		}
		if slices.Contains(o.Finalizers, finalizerForeground) {
			deps := dependents(objs, o.UID)
			for _, d := range deps {
				if hasSolidOwner(objs, d, o.UID) {
					dropOwners(t, d, func(ref metav1.OwnerReference) bool { return ref.UID == o.UID })
					changed = true
				} else if d.DeletionTimestamp == nil {
					must(t, client.IgnoreNotFound(k8s.Delete(ctx, d, client.PropagationPolicy(metav1.DeletePropagationForeground))))
					changed = true
				} // else it is going: the owner waits for it
			}
			if len(deps) == 0 {
				dropFinalizer(t, o, finalizerForeground)
				changed = true
			}
		}
	}
	for _, d := range objs {
		if len(d.OwnerReferences) == 0 || d.DeletionTimestamp != nil {
			continue
		}
		isGone := func(ref metav1.OwnerReference) bool { return objs[ref.UID] == nil }
		switch n := countFunc(d.OwnerReferences, isGone); {
		case n == len(d.OwnerReferences):
			must(t, client.IgnoreNotFound(k8s.Delete(ctx, d, client.PropagationPolicy(metav1.DeletePropagationBackground))))
			changed = true
		case n > 0:
			dropOwners(t, d, isGone)
			changed = true
		}
	}
	return changed
}

func dependents(objs map[types.UID]*metav1.PartialObjectMetadata, owner types.UID) []*metav1.PartialObjectMetadata {
	var out []*metav1.PartialObjectMetadata
	for _, o := range objs {
		if slices.ContainsFunc(o.OwnerReferences, func(ref metav1.OwnerReference) bool { return ref.UID == owner }) {
			out = append(out, o)
		}
	}
	return out
}

func hasSolidOwner(objs map[types.UID]*metav1.PartialObjectMetadata, d *metav1.PartialObjectMetadata, besides types.UID) bool {
	return slices.ContainsFunc(d.OwnerReferences, func(ref metav1.OwnerReference) bool {
		o := objs[ref.UID]
		return ref.UID != besides && o != nil &&
			!(o.DeletionTimestamp != nil && slices.Contains(o.Finalizers, finalizerForeground))
	})
}

func dropOwners(t *testing.T, o *metav1.PartialObjectMetadata, drop func(metav1.OwnerReference) bool) {
	t.Helper()
	patched := o.DeepCopy()
	patched.OwnerReferences = slices.DeleteFunc(patched.OwnerReferences, drop)
	must(t, client.IgnoreNotFound(k8s.Patch(context.Background(), patched, client.MergeFrom(o))))
}

func dropFinalizer(t *testing.T, o *metav1.PartialObjectMetadata, name string) {
	t.Helper()
	patched := o.DeepCopy()
	patched.Finalizers = slices.DeleteFunc(patched.Finalizers, func(f string) bool { return f == name })
	must(t, client.IgnoreNotFound(k8s.Patch(context.Background(), patched, client.MergeFrom(o))))
}

func countFunc[T any](s []T, f func(T) bool) int {
	n := 0
	for _, v := range s {
		if f(v) {
			n++
		}
	}
	return n
}
