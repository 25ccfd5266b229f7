// Package inject is the pod mutation of sidecar injection, as plain
// functions over a Config: given a pod, its namespace and the Lookup it
// names, it adds the queued sidecar, its volume and its settings, or refuses
// the pod with a message that names the annotation or field and the fix. It
// talks to no server: the webhook in cmd/manager fetches what it needs and
// applies the result. It imports only API types.
package inject

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// Config is what the manager knows beyond the pod.
type Config struct {
	// Image is the sidecar image when the pod names none
	// (sidequeue.io/image): the manager's --sidecar-image.
	Image string
	// ValidateFlags is queued's own flag parser, so that flags that would
	// make the sidecar crash-loop are refused at admission instead.
	ValidateFlags func(args []string) error
}

// Outcome says what Pod did to a pod it did not refuse.
type Outcome string

const (
	Injected        Outcome = "injected"
	AlreadyInjected Outcome = "already-injected" // a container named sidequeue is there: unchanged
	NotRequested    Outcome = "not-requested"    // the pod does not ask for the sidecar: unchanged
)

// Refusal is why a pod is not admitted: the annotation or field at fault,
// what is wrong, and how to fix it. Reason is a short stable word for
// metrics and events (e.g. "InvalidAnnotation", "LookupNotFound").
type Refusal struct {
	Field   string
	Reason  string
	Message string
}

func (r *Refusal) Error() string { return fmt.Sprintf("%s: %s", r.Field, r.Message) }

// LookupName is the name of the Lookup the pod's sidecar registers with
// (sidequeue.io/lookup, default "default"), for the caller to fetch.
func LookupName(pod *corev1.Pod) string {
	if name := pod.Annotations[v1alpha1.AnnotationLookup]; name != "" {
		return name
	}
	return "default"
}

// Pod mutates pod in place, or returns a *Refusal and leaves it untouched.
// lookup is the Lookup named by LookupName in the pod's namespace, nil if
// it does not exist.
func Pod(pod *corev1.Pod, ns *corev1.Namespace, lookup *v1alpha1.Lookup, cfg Config) (Outcome, error) {
	return NotRequested, fmt.Errorf("inject: not implemented yet")
}
