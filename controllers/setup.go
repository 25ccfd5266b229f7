package controllers

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/controllers/nsqapi"
)

// Options configure the reconcilers that Setup registers.
type Options struct {
	NSQ           nsqapi.Daemons
	StatsInterval time.Duration
	// Image runs lookupd for managed Lookups that name none (DefaultImage
	// when empty).
	Image string
	// DrainJobDeadline limits a drain Job (DefaultDrainJobDeadline when 0).
	DrainJobDeadline time.Duration
	// DrainRetryBackoff is the first wait after a failed drain Job
	// (DefaultRetryBackoff when 0).
	DrainRetryBackoff time.Duration
}

// Labels the operator puts on what it creates.
const (
	managedByLabel = "app.kubernetes.io/managed-by" // FieldOwner
	componentLabel = "app.kubernetes.io/component"
)

// CacheOptions limit the manager's cache of the kinds a managed Lookup owns
// to the operator's own objects: the watches see every Deployment, Service
// and EndpointSlice otherwise, in every namespace.
func CacheOptions() cache.Options {
	mine := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{managedByLabel: FieldOwner})}
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&appsv1.Deployment{}:            mine,
		&corev1.Service{}:               mine,
		&policyv1.PodDisruptionBudget{}: mine,
		// EndpointSlices carry their Service's labels.
		&discoveryv1.EndpointSlice{}: mine,
		// The backlog handoff's: injected pods, their sidecar volume
		// claims, and drain Jobs.
		&batchv1.Job{}:                  mine,
		&corev1.Pod{}:                   labelled(v1alpha1.LabelInjected),
		&corev1.PersistentVolumeClaim{}: labelled(v1alpha1.LabelVolume),
	}}
}

func labelled(key string) cache.ByObject {
	return cache.ByObject{Label: labels.SelectorFromSet(labels.Set{key: "true"})}
}

// Leader election (--leader-elect) keeps a Lease in the manager's own
// namespace (client-go's lease lock gets, creates and updates it) and
// records its events, core ones, on that Lease: a Role there, not a
// ClusterRole (the chart and config/default put it in their namespace).
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=sidequeue-system,resources=leases,verbs=get;create;update
// +kubebuilder:rbac:groups="",namespace=sidequeue-system,resources=events,verbs=create

// Setup registers the Lookup, Topic, Channel and Backlog reconcilers with mgr.
func Setup(mgr ctrl.Manager, o Options) error {
	if err := (&LookupReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), NSQ: o.NSQ,
		Interval: o.StatsInterval, Image: o.Image,
		Recorder: mgr.GetEventRecorder("lookup-controller")}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("lookup controller: %w", err)
	}
	if err := (&TopicReconciler{Client: mgr.GetClient(), NSQ: o.NSQ, StatsInterval: o.StatsInterval,
		Recorder: mgr.GetEventRecorder("topic-controller")}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("topic controller: %w", err)
	}
	if err := (&ChannelReconciler{Client: mgr.GetClient(), NSQ: o.NSQ, StatsInterval: o.StatsInterval,
		Recorder: mgr.GetEventRecorder("channel-controller")}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("channel controller: %w", err)
	}
	if err := (&BacklogReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		NSQ: o.NSQ, StatsInterval: o.StatsInterval,
		DrainJobDeadline: o.DrainJobDeadline, RetryBackoff: o.DrainRetryBackoff,
		Recorder: mgr.GetEventRecorder("backlog-controller")}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("backlog controller: %w", err)
	}
	if err := metrics.Registry.Register(NewBacklogMetrics(mgr.GetClient())); err != nil {
		return fmt.Errorf("backlog metrics: %w", err)
	}
	return nil
}
