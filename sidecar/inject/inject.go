// Package inject is the pod mutation of sidecar injection, as plain
// functions over a Config: given a pod, its namespace and the Lookup it
// names, it adds the queued sidecar, its volume and its settings, or refuses
// the pod with a message that names the annotation or field and the fix. It
// talks to no server: the webhook in cmd/manager fetches what it needs and
// applies the result. It imports only API types.
//
// Pod works in two steps so that a pod is never half-injected: plan reads
// the pod and its annotations and decides everything (any refusal comes
// from there, with the pod untouched), then apply writes the plan.
package inject

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// Config is what the manager knows beyond the pod.
type Config struct {
	// Image is the sidecar image when the pod names none
	// (sidequeue.io/image): the manager's --sidecar-image. When both are
	// empty the pod is refused (NoImage).
	Image string
	// ValidateFlags is queued's own flag parser, so that flags that would
	// make the sidecar crash-loop are refused at admission instead. It is
	// given the sidecar's whole argument list; nil skips the check.
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
// metrics and events, one of the Reason* constants.
type Refusal struct {
	Field   string
	Reason  string
	Message string
}

func (r *Refusal) Error() string { return fmt.Sprintf("%s: %s", r.Field, r.Message) }

// The reasons of a Refusal.
const (
	// ReasonInvalidAnnotation: a sidequeue.io/* value that does not parse
	// (size, duration, quantity, preset, bool, name).
	ReasonInvalidAnnotation = "InvalidAnnotation"
	// ReasonUnknownAnnotation: a sidequeue.io/* key that is not ours,
	// most often a misspelt one.
	ReasonUnknownAnnotation = "UnknownAnnotation"
	// ReasonInvalidResources: a request above its limit.
	ReasonInvalidResources = "InvalidResources"
	// ReasonInvalidQueuedFlags: sidequeue.io/queued-flags that queued
	// would not start with, or that take over what injection sets.
	ReasonInvalidQueuedFlags = "InvalidQueuedFlags"
	// ReasonLookupNotFound: the Lookup the pod names does not exist.
	ReasonLookupNotFound = "LookupNotFound"
	// ReasonInvalidLookup: an external Lookup without TCP addresses.
	ReasonInvalidLookup = "InvalidLookup"
	// ReasonHostNetwork: the sidecar's ports would be the node's.
	ReasonHostNetwork = "HostNetwork"
	// ReasonConflict: the pod already uses the sidecar's volume name or
	// one of its ports.
	ReasonConflict = "Conflict"
	// ReasonNoImage: neither sidequeue.io/image nor the manager's
	// --sidecar-image names an image.
	ReasonNoImage = "NoImage"
)

func refuse(field, reason, format string, args ...any) *Refusal {
	return &Refusal{Field: field, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// LookupName is the name of the Lookup the pod's sidecar registers with
// (sidequeue.io/lookup, default "default"), for the caller to fetch.
func LookupName(pod *corev1.Pod) string {
	if name := pod.Annotations[v1alpha1.AnnotationLookup]; name != "" {
		return name
	}
	return v1alpha1.DefaultLookupName
}

// Pod mutates pod in place, or returns a *Refusal and leaves it untouched.
// lookup is the Lookup named by LookupName in the pod's namespace, nil if
// it does not exist. ns is the pod's namespace (its labels say whether the
// annotation opts in; nil reads as an unlabelled namespace).
func Pod(pod *corev1.Pod, ns *corev1.Namespace, lookup *v1alpha1.Lookup, cfg Config) (Outcome, error) {
	if !requested(pod, ns) {
		return NotRequested, nil
	}
	if hasSidecar(pod) {
		return AlreadyInjected, nil
	}
	p, refusal := plan(pod, ns, lookup, cfg)
	if refusal != nil {
		return "", refusal
	}
	apply(pod, p)
	return Injected, nil
}

// requested: the annotation counts only in a namespace that opted in (the
// webhook cannot select on annotations elsewhere); the label counts anywhere.
func requested(pod *corev1.Pod, ns *corev1.Namespace) bool {
	if pod.Labels[v1alpha1.InjectKey] == "true" {
		return true
	}
	return ns != nil && ns.Labels[v1alpha1.NamespaceInjectionLabel] == v1alpha1.NamespaceInjectionEnabled &&
		pod.Annotations[v1alpha1.InjectKey] == "true"
}

// hasSidecar makes injection idempotent: the API server reinvokes the
// webhook (reinvocationPolicy IfNeeded), and a pod may be created from the
// spec of one that was already injected.
func hasSidecar(pod *corev1.Pod) bool {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if c.Name == v1alpha1.SidecarContainerName {
				return true
			}
		}
	}
	return false
}

// namespaceOf is the pod's namespace: an admission request's pod may carry
// none, the namespace object always does.
func namespaceOf(pod *corev1.Pod, ns *corev1.Namespace) string {
	if ns != nil && ns.Name != "" {
		return ns.Name
	}
	return pod.Namespace
}
