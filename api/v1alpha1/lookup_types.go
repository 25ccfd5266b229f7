package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LookupSpec is either a managed lookup tier (replicas, image, resources,
// scheduling, lookupd flags), which the operator runs as a Deployment behind a
// ClusterIP Service for consumers, a headless Service for queue daemons and a
// PodDisruptionBudget, or spec.external: an NSQ lookup tier that already runs.
//
// +kubebuilder:validation:XValidation:rule="!has(self.external) || (!has(self.image) && !has(self.resources) && !has(self.nodeSelector) && !has(self.tolerations) && !has(self.affinity) && !has(self.topologySpreadConstraints) && !has(self.priorityClassName) && !has(self.inactiveProducerTimeout) && !has(self.tombstoneLifetime))",message="an external Lookup takes only spec.external: image, resources, scheduling fields, inactiveProducerTimeout and tombstoneLifetime apply to a managed Lookup"
// +kubebuilder:validation:XValidation:rule="!has(self.external) || !has(self.replicas) || self.replicas == 2",message="spec.replicas does not apply to an external Lookup"
type LookupSpec struct {
	// replicas is the number of lookupd pods of a managed Lookup. Replicas share
	// no state: every queue daemon registers with every replica.
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// image runs lookupd; empty means the operator's own image.
	// +optional
	Image string `json:"image,omitempty"`

	// resources of the lookupd container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`

	// nodeSelector of the lookupd pods.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// tolerations of the lookupd pods.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// affinity of the lookupd pods.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`

	// topologySpreadConstraints of the lookupd pods; empty means the operator
	// spreads them over nodes as well as it can.
	// +optional
	// +listType=atomic
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`

	// priorityClassName of the lookupd pods.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// inactiveProducerTimeout is lookupd's --inactive-producer-timeout
	// (nsqlookupd's default, 300s, when empty).
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|ms|s|m|h))+$') && duration(self) >= duration('1s') && duration(self) <= duration('8760h')",message="must be a duration from 1s to 8760h, such as 300s, 5m or 1h30m"
	// +optional
	InactiveProducerTimeout *metav1.Duration `json:"inactiveProducerTimeout,omitempty"`

	// tombstoneLifetime is lookupd's --tombstone-lifetime (nsqlookupd's
	// default, 45s, when empty).
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ns|us|ms|s|m|h))+$') && duration(self) >= duration('1s') && duration(self) <= duration('8760h')",message="must be a duration from 1s to 8760h, such as 300s, 5m or 1h30m"
	// +optional
	TombstoneLifetime *metav1.Duration `json:"tombstoneLifetime,omitempty"`

	// external points at an NSQ lookup tier that already runs; the operator
	// then runs nothing for this Lookup and only uses the addresses.
	// +optional
	External *ExternalLookup `json:"external,omitempty"`
}

// ExternalLookup is an existing lookup tier: nsqlookupd or lookupd daemons.
type ExternalLookup struct {
	// tcpAddresses are host:port addresses of the lookup daemons' TCP port
	// (4160 by default), where queue daemons register.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:items:MinLength=1
	// +listType=atomic
	// +required
	TCPAddresses []string `json:"tcpAddresses"`

	// httpAddresses are host:port addresses of the lookup daemons' HTTP port
	// (4161 by default), where consumers and the operator look up.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:items:MinLength=1
	// +listType=atomic
	// +required
	HTTPAddresses []string `json:"httpAddresses"`
}

// LookupAddresses are the lookup tier's addresses for one kind of client.
type LookupAddresses struct {
	// tcpAddresses are host:port addresses of the TCP protocol (registration).
	// +optional
	// +listType=atomic
	TCPAddresses []string `json:"tcpAddresses,omitempty"`

	// httpAddresses are host:port addresses of the HTTP API (/lookup, /nodes, ...).
	// +optional
	// +listType=atomic
	HTTPAddresses []string `json:"httpAddresses,omitempty"`
}

// LookupStatus is what the operator observed of the lookup tier.
type LookupStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// readyReplicas is the number of ready lookupd pods of a managed Lookup,
	// or the number of external lookup daemons that answer /ping.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`

	// consumerAddresses are the addresses for consumers (nsqlookupd_http_addresses
	// in go-nsq terms): the ClusterIP Service of a managed Lookup, or
	// spec.external's addresses.
	// +optional
	ConsumerAddresses *LookupAddresses `json:"consumerAddresses,omitempty"`

	// daemonAddresses are the addresses queue daemons register with
	// (--lookupd-tcp-address): the headless Service of a managed Lookup, which
	// resolves to every replica, or spec.external's addresses.
	// +optional
	DaemonAddresses *LookupAddresses `json:"daemonAddresses,omitempty"`

	// producers is the number of queue daemons registered with the lookup tier
	// (distinct entries of /nodes).
	// +optional
	Producers int32 `json:"producers"`

	// conditions: Ready, with reasons such as Unreachable.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// Lookup is the lookup tier that the Topics in its namespace use: managed by
// the operator, or external.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=sqlk,categories=sidequeue
// +kubebuilder:validation:XValidation:rule="has(self.spec.external) || (size(self.metadata.name) <= 46 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$'))",message="a managed Lookup's name is the start of its Service names (<name>-lookupd-headless): at most 46 characters of lowercase letters, digits and '-', starting with a letter",fieldPath=`.spec`,reason=FieldValueInvalid
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.spec.replicas`,priority=1
// +kubebuilder:printcolumn:name="Producers",type=integer,JSONPath=`.status.producers`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Lookup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired lookup tier.
	// +kubebuilder:default={}
	// +optional
	Spec LookupSpec `json:"spec,omitempty"`

	// status is the observed lookup tier.
	// +optional
	Status LookupStatus `json:"status,omitempty"`
}

// IsExternal reports whether the Lookup points at an existing lookup tier.
func (l *Lookup) IsExternal() bool { return l.Spec.External != nil }

// +kubebuilder:object:root=true

// LookupList is a list of Lookups.
type LookupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Lookup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Lookup{}, &LookupList{})
}
