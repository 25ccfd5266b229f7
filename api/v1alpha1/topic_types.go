package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TopicSpec declares an NSQ topic.
//
// +kubebuilder:validation:XValidation:rule="has(self.topicName) == has(oldSelf.topicName)",message="spec.topicName is immutable: it cannot be added or removed after creation"
type TopicSpec struct {
	// lookupRef names the Lookup, in the same namespace, whose lookup tier and
	// queue daemons carry this topic. Immutable.
	// +kubebuilder:default={name: "default"}
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.lookupRef is immutable"
	// +optional
	LookupRef LocalObjectReference `json:"lookupRef,omitzero"`

	// topicName is the NSQ topic name; empty means metadata.name (the schema
	// cannot default a field from metadata, so the operator does). NSQ name
	// rules: 1 to 64 characters of [.a-zA-Z0-9_-], optionally ending in
	// "#ephemeral". Immutable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[.a-zA-Z0-9_-]+(#ephemeral)?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.topicName is immutable"
	// +optional
	TopicName string `json:"topicName,omitempty"`

	// paused pauses the topic on every queue daemon: messages are kept, none
	// reach the channels (nsqd's /topic/pause).
	// +optional
	Paused bool `json:"paused,omitempty"`

	// deletionPolicy says what deleting this resource does to the topic:
	// Retain (the default) leaves it and its messages on the daemons; Delete
	// deletes it from every daemon and lookup replica.
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// TopicStatus is what the operator last observed of the topic on the daemons.
type TopicStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// nodes is the number of queue daemons holding the topic.
	// +optional
	Nodes int32 `json:"nodes"`

	// depth is the number of messages waiting in the topic, summed over the
	// daemons (memory and disk; channels' depths are not included).
	// +optional
	Depth int64 `json:"depth"`

	// messageCount is the number of messages ever published to the topic,
	// summed over the daemons (nsqd's message_count).
	// +optional
	MessageCount int64 `json:"messageCount"`

	// channels are the names of the topic's channels found on the daemons,
	// sorted: declared Channels and channels consumers created alike. Not
	// omitted when empty: status is written as a merge patch, where an
	// omitted key would keep the last list.
	// +optional
	// +listType=set
	Channels []string `json:"channels"`

	// paused is true when the topic is paused on every daemon holding it.
	// +optional
	Paused bool `json:"paused"`

	// conditions: Ready, with reasons such as LookupNotFound or Unreachable.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// Topic declares an NSQ topic: the operator registers it with every lookup
// replica and creates it on every queue daemon the lookup knows.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=sqt,categories=sidequeue
// +kubebuilder:validation:XValidation:rule="(has(self.spec) && has(self.spec.topicName)) || size(self.metadata.name) <= 64",message="metadata.name is the topic's NSQ name when spec.topicName is not set, and NSQ allows at most 64 characters: set spec.topicName to a shorter name",fieldPath=`.spec.topicName`,reason=FieldValueInvalid
// +kubebuilder:printcolumn:name="Topic",type=string,JSONPath=`.spec.topicName`,priority=1
// +kubebuilder:printcolumn:name="Depth",type=integer,JSONPath=`.status.depth`
// +kubebuilder:printcolumn:name="Nodes",type=integer,JSONPath=`.status.nodes`
// +kubebuilder:printcolumn:name="Paused",type=boolean,JSONPath=`.status.paused`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Topic struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired topic.
	// +kubebuilder:default={}
	// +optional
	Spec TopicSpec `json:"spec,omitempty"`

	// status is the observed topic.
	// +optional
	Status TopicStatus `json:"status,omitempty"`
}

// NSQName is the topic's name on the daemons: spec.topicName, or
// metadata.name when it is empty.
func (t *Topic) NSQName() string {
	if t.Spec.TopicName != "" {
		return t.Spec.TopicName
	}
	return t.Name
}

// +kubebuilder:object:root=true

// TopicList is a list of Topics.
type TopicList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Topic `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Topic{}, &TopicList{})
}
