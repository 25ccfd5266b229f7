// Package eventlog logs what the manager does, with the same facts as the
// Kubernetes events it records: events expire after an hour and are not
// where a person running the manager looks, its log is. Both the
// reconcilers (controllers.record) and the injection webhook log here, so
// every action is logged once, in one shape.
package eventlog

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Log logs one event at info level (a Warning event too: it is an action
// taken, or refused, not a failure of the manager's), naming the object as
// kubectl does: Kind namespace/name.
func Log(regarding runtime.Object, typ, reason, note string, args ...any) {
	kind, name := Describe(regarding)
	ctrl.Log.WithName("events").Info(fmt.Sprintf(note, args...),
		"kind", kind, "object", name, "reason", reason, "type", typ)
}

// Describe is the kind and namespace/name of an object, or of what an
// ObjectReference points to.
func Describe(obj runtime.Object) (kind, name string) {
	if ref, ok := obj.(*corev1.ObjectReference); ok {
		return ref.Kind, join(ref.Namespace, ref.Name)
	}
	kind = obj.GetObjectKind().GroupVersionKind().Kind
	if kind == "" { // typed objects read from the cache carry no TypeMeta
		if t := reflect.TypeOf(obj); t.Kind() == reflect.Pointer {
			kind = t.Elem().Name()
		}
	}
	if m, err := meta.Accessor(obj); err == nil {
		name = join(m.GetNamespace(), m.GetName())
	}
	return kind, name
}

func join(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}
