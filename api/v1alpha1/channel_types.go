package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ChannelSpec declares an NSQ channel of a Topic.
//
// +kubebuilder:validation:XValidation:rule="has(self.channelName) == has(oldSelf.channelName)",message="spec.channelName is immutable: it cannot be added or removed after creation"
type ChannelSpec struct {
	// topicRef names the Topic resource, in the same namespace, this channel
	// belongs to. Immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.topicRef is immutable"
	// +required
	TopicRef LocalObjectReference `json:"topicRef"`

	// channelName is the NSQ channel name; empty means metadata.name (the
	// schema cannot default a field from metadata, so the operator does). NSQ
	// name rules: 1 to 64 characters of [.a-zA-Z0-9_-], optionally ending in
	// "#ephemeral". Immutable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[.a-zA-Z0-9_-]+(#ephemeral)?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.channelName is immutable"
	// +optional
	ChannelName string `json:"channelName,omitempty"`

	// paused pauses the channel on every queue daemon: messages are kept, none
	// are delivered to consumers (nsqd's /channel/pause).
	// +optional
	Paused bool `json:"paused,omitempty"`

	// deletionPolicy says what deleting this resource does to the channel:
	// Retain (the default) leaves it and its messages on the daemons; Delete
	// deletes it from every daemon and lookup replica.
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// ChannelStatus is what the operator last observed of the channel, summed
// over the daemons holding its topic.
type ChannelStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// depth is the number of messages waiting in the channel (memory and disk).
	// +optional
	Depth int64 `json:"depth"`

	// inFlight is the number of messages sent to consumers and not yet
	// finished, requeued or timed out.
	// +optional
	InFlight int64 `json:"inFlight"`

	// deferred is the number of messages waiting for their due time (DPUB, or
	// REQ with a delay).
	// +optional
	Deferred int64 `json:"deferred"`

	// requeued is the number of REQs since the daemons started (nsqd's
	// requeue_count).
	// +optional
	Requeued int64 `json:"requeued"`

	// timedOut is the number of messages whose in-flight timeout expired since
	// the daemons started (nsqd's timeout_count).
	// +optional
	TimedOut int64 `json:"timedOut"`

	// consumers is the number of connected consumer clients.
	// +optional
	Consumers int32 `json:"consumers"`

	// messageCount is the number of messages ever put on the channel (nsqd's
	// message_count).
	// +optional
	MessageCount int64 `json:"messageCount"`

	// paused is true when the channel is paused on every daemon holding it.
	// +optional
	Paused bool `json:"paused"`

	// conditions: Ready, with reasons such as TopicNotFound or Unreachable.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// Channel declares an NSQ channel: the operator creates it on every daemon
// holding its topic, before any consumer connects, so no message published
// after the Channel exists is missed.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=sqc,categories=sidequeue
// +kubebuilder:validation:XValidation:rule="has(self.spec.channelName) || size(self.metadata.name) <= 64",message="metadata.name is the channel's NSQ name when spec.channelName is not set, and NSQ allows at most 64 characters: set spec.channelName to a shorter name",fieldPath=`.spec.channelName`,reason=FieldValueInvalid
// +kubebuilder:printcolumn:name="Topic",type=string,JSONPath=`.spec.topicRef.name`,priority=1
// +kubebuilder:printcolumn:name="Channel",type=string,JSONPath=`.spec.channelName`,priority=1
// +kubebuilder:printcolumn:name="Depth",type=integer,JSONPath=`.status.depth`
// +kubebuilder:printcolumn:name="In-Flight",type=integer,JSONPath=`.status.inFlight`,priority=1
// +kubebuilder:printcolumn:name="Consumers",type=integer,JSONPath=`.status.consumers`
// +kubebuilder:printcolumn:name="Paused",type=boolean,JSONPath=`.status.paused`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Channel struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired channel.
	// +required
	Spec ChannelSpec `json:"spec"`

	// status is the observed channel.
	// +optional
	Status ChannelStatus `json:"status,omitempty"`
}

// NSQName is the channel's name on the daemons: spec.channelName, or
// metadata.name when it is empty.
func (c *Channel) NSQName() string {
	if c.Spec.ChannelName != "" {
		return c.Spec.ChannelName
	}
	return c.Name
}

// +kubebuilder:object:root=true

// ChannelList is a list of Channels.
type ChannelList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Channel `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Channel{}, &ChannelList{})
}
