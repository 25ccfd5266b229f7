package v1alpha1

// Condition types and reasons shared by Lookup, Topic and Channel.
const (
	// ConditionReady is true when the resource is in effect everywhere it should be.
	ConditionReady = "Ready"

	// ReasonLookupNotFound: the Lookup a Topic names does not exist.
	ReasonLookupNotFound = "LookupNotFound"
	// ReasonTopicNotFound: the Topic a Channel names does not exist.
	ReasonTopicNotFound = "TopicNotFound"
	// ReasonUnreachable: a lookup or queue daemon did not answer.
	ReasonUnreachable = "Unreachable"
)

// DeletionPolicy says what deleting a Topic or Channel resource does to the
// topic or channel on the daemons.
// +kubebuilder:validation:Enum=Retain;Delete
type DeletionPolicy string

const (
	// DeletionPolicyRetain leaves the topic or channel, and its messages, on the
	// daemons when the resource is deleted.
	DeletionPolicyRetain DeletionPolicy = "Retain"
	// DeletionPolicyDelete deletes the topic or channel, and its messages, from
	// every daemon and lookup replica when the resource is deleted.
	DeletionPolicyDelete DeletionPolicy = "Delete"
)

// NamePattern is NSQ's rule for topic and channel names (nsqd's
// protocol.IsValidTopicName / IsValidChannelName): 1 to 64 characters of
// [.a-zA-Z0-9_-], optionally ending in "#ephemeral".
const NamePattern = `^[.a-zA-Z0-9_-]+(#ephemeral)?$`

// NameMaxLength is NSQ's maximum topic and channel name length.
const NameMaxLength = 64

// LocalObjectReference names another resource in the same namespace.
// +structType=atomic
type LocalObjectReference struct {
	// name of the referenced resource, in the same namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}
