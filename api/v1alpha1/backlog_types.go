package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// BacklogSpec is what the operator recorded of an injected pod when its
// volume appeared: enough to run the pod's queue again, as a drain Job,
// after the pod is gone. The operator writes it; it never changes.
//
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a Backlog's spec is written by the operator and never changes"
type BacklogSpec struct {
	// claimName is the PersistentVolumeClaim holding the queue's log: the
	// pod's generic ephemeral volume, named like the Backlog.
	// +kubebuilder:validation:MinLength=1
	// +required
	ClaimName string `json:"claimName"`

	// podUID is the UID of the pod that wrote the log.
	// +required
	PodUID types.UID `json:"podUID"`

	// image is the sidecar's image, which the drain Job runs.
	// +kubebuilder:validation:MinLength=1
	// +required
	Image string `json:"image"`

	// args are the sidecar's queued arguments; the drain Job runs them with
	// --drain-only, so it registers with the same Lookup.
	// +listType=atomic
	// +optional
	Args []string `json:"args,omitempty"`

	// resources of the sidecar, given to the drain Job's container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// BacklogPhase is where a Backlog is in its handoff.
// +kubebuilder:validation:Enum=Attached;Fencing;Draining;Failed;Lost
type BacklogPhase string

const (
	// BacklogAttached: the pod runs; its sidecar serves the queue.
	BacklogAttached BacklogPhase = "Attached"
	// BacklogFencing: the pod's node stopped answering while the pod was
	// being deleted; no drain starts until the pod is fenced (the node
	// deleted, or tainted node.kubernetes.io/out-of-service), so two
	// daemons never write one volume.
	BacklogFencing BacklogPhase = "Fencing"
	// BacklogDraining: the pod left messages behind; a drain Job serves them.
	BacklogDraining BacklogPhase = "Draining"
	// BacklogFailed: the last drain Job failed; another is started after a
	// backoff, and the volume is kept meanwhile.
	BacklogFailed BacklogPhase = "Failed"
	// BacklogLost: the volume is bound to a node that no longer exists.
	BacklogLost BacklogPhase = "Lost"
)

// BacklogStatus is what the operator observed of the handoff.
type BacklogStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase: Attached, Fencing, Draining, Failed or Lost.
	// +optional
	Phase BacklogPhase `json:"phase,omitempty"`

	// pod is the pod that wrote the log.
	// +optional
	Pod string `json:"pod,omitempty"`

	// node is where that pod ran.
	// +optional
	Node string `json:"node,omitempty"`

	// depth is the number of messages the sidecar reported holding when it
	// exited; absent while unknown.
	// +optional
	Depth *int64 `json:"depth,omitempty"`

	// job is the current drain Job.
	// +optional
	Job string `json:"job,omitempty"`

	// attempts is the number of drain Jobs started.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`

	// conditions: Ready (true once the backlog is being drained or needs
	// nothing), with the reason it waits otherwise.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// Backlog keeps an injected pod's queue volume until what its sidecar held
// is consumed: it owns the volume, so the garbage collector keeps it
// however the pod goes, and the operator drains it with a Job when the
// sidecar could not. The operator creates and deletes Backlogs.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=sqbl,categories=sidequeue
// +kubebuilder:printcolumn:name="Pod",type=string,JSONPath=`.status.pod`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Depth",type=integer,JSONPath=`.status.depth`
// +kubebuilder:printcolumn:name="Job",type=string,JSONPath=`.status.job`,priority=1
// +kubebuilder:printcolumn:name="Node",type=string,JSONPath=`.status.node`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Backlog struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the recorded sidecar.
	// +required
	Spec BacklogSpec `json:"spec"`

	// status is the observed handoff.
	// +optional
	Status BacklogStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// BacklogList is a list of Backlogs.
type BacklogList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Backlog `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Backlog{}, &BacklogList{})
}
