package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// FieldOwner is the operator's name in managedFields.
const FieldOwner = "sidequeue-operator"

// Labels on everything a managed Lookup owns. The selector labels are the
// subset that never changes, since a Deployment's selector is immutable.
func lookupSelector(l *v1alpha1.Lookup) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":     "lookupd",
		"app.kubernetes.io/instance": l.Name,
	}
}

func lookupLabels(l *v1alpha1.Lookup) map[string]string {
	labels := lookupSelector(l)
	labels["app.kubernetes.io/component"] = "lookup"
	labels["app.kubernetes.io/part-of"] = "sidequeue"
	labels[managedByLabel] = FieldOwner
	return labels
}

func lookupdName(l *v1alpha1.Lookup) string  { return l.Name + "-lookupd" }
func headlessName(l *v1alpha1.Lookup) string { return headlessServiceName(l.Name) }

func headlessServiceName(lookup string) string { return v1alpha1.HeadlessServiceName(lookup) }

func ownerRef(l *v1alpha1.Lookup) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(v1alpha1.GroupVersion.String()).
		WithKind("Lookup").
		WithName(l.Name).
		WithUID(l.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// apply server-side applies ac, forcing the operator's ownership of every
// field it declares: an edit to one of them (drift) is undone on the next
// reconcile, and the owned-object watch makes that the moment of the edit.
// current is an empty object of ac's kind, read uncached before the apply to
// refuse adopting an object that is not the Lookup's and to tell creation
// and change apart for events; ac holds the result after.
func (r *LookupReconciler) apply(ctx context.Context, l *v1alpha1.Lookup, ac namedApplyConfiguration, current client.Object) error {
	kind := reflect.TypeOf(current).Elem().Name()
	name := *ac.GetName()
	err := r.reader().Get(ctx, client.ObjectKey{Namespace: l.Namespace, Name: name}, current)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading %s %s: %w", kind, name, err)
	}
	existed := err == nil
	if existed && !metav1.IsControlledBy(current, l) {
		return fmt.Errorf("%s %s exists and does not belong to Lookup %s: delete or rename it, or rename the Lookup", kind, name, l.Name)
	}
	before, err := declared(current)
	if err != nil {
		return fmt.Errorf("reading %s %s: %w", kind, name, err)
	}
	if err := r.Apply(ctx, ac, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", kind, name, err)
	}
	after, err := declared(ac)
	if err != nil {
		return fmt.Errorf("reading applied %s %s: %w", kind, name, err)
	}
	// The object is the event's related object: events about one Lookup
	// with the same reason are otherwise merged into one series.
	current.SetName(name)
	current.SetNamespace(l.Namespace)
	switch {
	case !existed:
		record(r.Recorder, l, current, corev1.EventTypeNormal, EventCreated, "Create", "created %s %s", kind, name)
	case !equality.Semantic.DeepEqual(before, after):
		record(r.Recorder, l, current, corev1.EventTypeNormal, EventUpdated, "Update", "updated %s %s to the declared spec", kind, name)
	}
	return nil
}

// namedApplyConfiguration is what every generated apply configuration of a
// namespaced object is.
type namedApplyConfiguration interface {
	runtime.ApplyConfiguration
	GetName() *string
}

// declared is the part of an object (or of an applied configuration, which
// holds the API server's answer) that the operator declares: labels, owner
// and spec, not status or resourceVersion, which others write all the time.
// The generation is in it too: an edit that lands between the read and the
// apply, which the apply undoes, still shows as a change.
func declared(obj any) (map[string]any, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var o struct {
		Metadata struct {
			Generation      int64                   `json:"generation"`
			Labels          map[string]string       `json:"labels"`
			OwnerReferences []metav1.OwnerReference `json:"ownerReferences"`
		} `json:"metadata"`
		Spec json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, err
	}
	var spec any
	if len(o.Spec) > 0 {
		if err := json.Unmarshal(o.Spec, &spec); err != nil {
			return nil, err
		}
	}
	return map[string]any{"generation": o.Metadata.Generation, "labels": o.Metadata.Labels,
		"owners": o.Metadata.OwnerReferences, "spec": spec}, nil
}

// deleteManaged deletes what the Lookup owned while it was managed: it has
// become external, and a lookupd tier nobody uses would run on.
func (r *LookupReconciler) deleteManaged(ctx context.Context, l *v1alpha1.Lookup) error {
	owned := []struct {
		obj  client.Object
		name string
	}{
		{&appsv1.Deployment{}, lookupdName(l)},
		{&corev1.Service{}, lookupdName(l)},
		{&corev1.Service{}, headlessName(l)},
		{&policyv1.PodDisruptionBudget{}, lookupdName(l)},
	}
	for _, o := range owned {
		kind := reflect.TypeOf(o.obj).Elem().Name()
		err := r.Get(ctx, client.ObjectKey{Namespace: l.Namespace, Name: o.name}, o.obj)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s %s: %w", kind, o.name, err)
		}
		if !metav1.IsControlledBy(o.obj, l) {
			continue
		}
		if err := r.Delete(ctx, o.obj); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting %s %s: %w", kind, o.name, err)
		}
		record(r.Recorder, l, o.obj, corev1.EventTypeNormal, EventDeleted, "Delete", "deleted %s %s: the Lookup is external now", kind, o.name)
	}
	return nil
}

func (r *LookupReconciler) reader() client.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}
