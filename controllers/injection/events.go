package injection

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sidequeue/sidequeue/controllers/eventlog"
)

// Event reasons.
const (
	EventInjected = "SidecarInjected"
	EventRefused  = "InjectionRefused"
)

// record emits d's event on the pod's controller (its ReplicaSet, Job,
// StatefulSet...), where `kubectl describe` of what the user created shows
// it, or else on the pod. The pod does not exist yet, so its event names
// it without a UID; a pod that has no name yet (generateName) is named by
// its prefix.
// Every decision is logged too, with or without a recorder.
func (h *Handler) record(pod *corev1.Pod, ns string, d decision) {
	typ, reason := corev1.EventTypeNormal, EventInjected
	if d.result == resultRefused {
		typ, reason = corev1.EventTypeWarning, EventRefused
	}
	target := eventTarget(pod, ns)
	eventlog.Log(target, typ, reason, "%s", d.note)
	if h.Recorder != nil {
		h.Recorder.Eventf(target, nil, typ, reason, "Inject", "%s", d.note)
	}
}

func eventTarget(pod *corev1.Pod, ns string) *corev1.ObjectReference {
	if o := metav1.GetControllerOf(pod); o != nil {
		return &corev1.ObjectReference{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: ns, Name: o.Name, UID: o.UID}
	}
	name := pod.Name
	if name == "" {
		name = pod.GenerateName
	}
	return &corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name}
}

// podName is the pod's name, or its generateName and a star where the API
// server will add the rest.
func podName(pod *corev1.Pod) string {
	if pod.Name != "" {
		return pod.Name
	}
	return pod.GenerateName + "*"
}
