package v1alpha1

import "strings"

// Names shared across components: the webhook, the operator, the chart and
// the daemons' defaults all use these, so each is defined here once.

// Opting in to injection (DESIGN.md, "Sidecar injection").
const (
	// InjectKey is the pod annotation (in a namespace labelled for
	// injection) or pod label (anywhere else) that asks for the sidecar.
	InjectKey = "sidequeue.io/inject"
	// NamespaceInjectionLabel, set to NamespaceInjectionEnabled, opts a
	// namespace in: its pods then ask with the annotation.
	NamespaceInjectionLabel   = "sidequeue.io/injection"
	NamespaceInjectionEnabled = "enabled"
)

// The annotations a pod may carry to shape its sidecar.
const (
	AnnotationLookup        = "sidequeue.io/lookup"
	AnnotationDrainTimeout  = "sidequeue.io/drain-timeout"
	AnnotationDurability    = "sidequeue.io/durability"
	AnnotationStorage       = "sidequeue.io/storage"
	AnnotationStorageSize   = "sidequeue.io/storage-size"
	AnnotationStorageClass  = "sidequeue.io/storage-class"
	AnnotationQueuedFlags   = "sidequeue.io/queued-flags"
	AnnotationNativeSidecar = "sidequeue.io/native-sidecar"
	AnnotationImage         = "sidequeue.io/image"
	AnnotationCPURequest    = "sidequeue.io/cpu-request"
	AnnotationCPULimit      = "sidequeue.io/cpu-limit"
	AnnotationMemoryRequest = "sidequeue.io/memory-request"
	AnnotationMemoryLimit   = "sidequeue.io/memory-limit"
	AnnotationSkipHandoff   = "sidequeue.io/skip-handoff"
	// AnnotationStatus is written by the webhook: what it added.
	AnnotationStatus = "sidequeue.io/status"
)

// What injection adds.
const (
	LabelInjected        = "sidequeue.io/injected" // on an injected pod, "true"
	LabelVolume          = "sidequeue.io/volume"   // on the sidecar's PVC, "true"
	FinalizerBacklog     = "sidequeue.io/backlog"
	SidecarContainerName = "sidequeue"
	SidecarVolumeName    = "sidequeue-data"
	SidecarDataPath      = "/var/lib/sidequeue"
	// The sidecar's port names: prefixed, because a Service's targetPort
	// by name takes the first container port of that name in the pod, and
	// an app's own port is often called "http".
	SidecarTCPPortName  = "sidequeue-tcp"
	SidecarHTTPPortName = "sidequeue-http"
)

// The environment injected into the app's containers: where the sidecar
// listens, under the names NSQ's own examples use.
const (
	EnvQueueTCPAddress  = "NSQD_TCP_ADDRESS"
	EnvQueueHTTPAddress = "NSQD_HTTP_ADDRESS"
)

// ClaimName is the PVC of a pod's sidecar volume: the claim of a generic
// ephemeral volume is named <pod>-<volume>. A Backlog has the claim's name.
func ClaimName(pod string) string { return pod + "-" + SidecarVolumeName }

// PodOfClaim is the pod whose sidecar volume claim is claim, "" for a name
// that is not one.
func PodOfClaim(claim string) string {
	pod, found := strings.CutSuffix(claim, "-"+SidecarVolumeName)
	if !found {
		return ""
	}
	return pod
}

// DefaultLookupName is the Lookup used when a Topic or a pod names none.
const DefaultLookupName = "default"

// HeadlessServiceName is the headless Service of a managed Lookup's lookupd
// pods, which queue daemons resolve to register with every replica.
func HeadlessServiceName(lookup string) string { return lookup + "-lookupd-headless" }

// The daemons' ports, nsqd's and nsqlookupd's.
const (
	QueueTCPPort   = 4150
	QueueHTTPPort  = 4151
	LookupTCPPort  = 4160
	LookupHTTPPort = 4161
)
