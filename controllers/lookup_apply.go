package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
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
	labels["app.kubernetes.io/managed-by"] = FieldOwner
	return labels
}

func lookupdName(l *v1alpha1.Lookup) string  { return l.Name + "-lookupd" }
func headlessName(l *v1alpha1.Lookup) string { return l.Name + "-lookupd-headless" }

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
// tell creation and change apart for events; ac holds the result after.
func (r *LookupReconciler) apply(ctx context.Context, l *v1alpha1.Lookup, ac namedApplyConfiguration, current client.Object) error {
	kind := reflect.TypeOf(current).Elem().Name()
	name := *ac.GetName()
	err := r.reader().Get(ctx, client.ObjectKey{Namespace: l.Namespace, Name: name}, current)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading %s %s: %w", kind, name, err)
	}
	before := current.GetResourceVersion()
	if err := r.Apply(ctx, ac, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", kind, name, err)
	}
	after, err := resourceVersion(ac)
	if err != nil {
		return fmt.Errorf("reading applied %s %s: %w", kind, name, err)
	}
	// The object is the event's related object: events about one Lookup
	// with the same reason are otherwise merged into one series.
	current.SetName(name)
	current.SetNamespace(l.Namespace)
	switch {
	case before == "":
		r.event(l, current, EventCreated, "Create", "created %s %s", kind, name)
	case after != before:
		r.event(l, current, EventUpdated, "Update", "updated %s %s to the declared spec", kind, name)
	}
	return nil
}

// namedApplyConfiguration is what every generated apply configuration of a
// namespaced object is.
type namedApplyConfiguration interface {
	runtime.ApplyConfiguration
	GetName() *string
}

// resourceVersion reads metadata.resourceVersion of an applied configuration,
// which the generated types hold but expose no getter for.
func resourceVersion(ac any) (string, error) {
	b, err := json.Marshal(ac)
	if err != nil {
		return "", err
	}
	var obj metav1.PartialObjectMetadata
	if err := json.Unmarshal(b, &obj); err != nil {
		return "", err
	}
	return obj.ResourceVersion, nil
}

func (r *LookupReconciler) reader() client.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}

func (r *LookupReconciler) event(l *v1alpha1.Lookup, related runtime.Object, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(l, related, corev1.EventTypeNormal, reason, action, note, args...)
	}
}
