package controllers

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/internal/version"
)

// The ports of lookupd in a managed Lookup: nsqlookupd's defaults, so that
// every NSQ client's documentation applies unchanged.
const (
	LookupdHTTPPort = v1alpha1.LookupHTTPPort
	LookupdTCPPort  = v1alpha1.LookupTCPPort
)

// DefaultImage holds queued, lookupd and manager (one image, three binaries):
// the image this manager was built as (hack/image tags it with the version).
var DefaultImage = version.Image()

// readinessDelaySeconds is two of queued's --lookupd-resolve-interval.
const readinessDelaySeconds = 10

// lookupdUID is the non-root user lookupd runs as (distroless "nonroot").
const lookupdUID = 65532

var defaultLookupdResources = corev1.ResourceRequirements{
	Requests: corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("50m"),
		corev1.ResourceMemory: resource.MustParse("64Mi"),
	},
	Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
}

// reconcileDeployment applies the Deployment of lookupd and copies its
// ready replicas into status.
func (r *LookupReconciler) reconcileDeployment(ctx context.Context, l *v1alpha1.Lookup) error {
	ac, err := r.lookupdDeployment(l)
	if err != nil {
		return err
	}
	if err := r.apply(ctx, l, ac, &appsv1.Deployment{}); err != nil {
		return err
	}
	if ac.Status != nil && ac.Status.ReadyReplicas != nil {
		l.Status.ReadyReplicas = *ac.Status.ReadyReplicas
	} else {
		l.Status.ReadyReplicas = 0
	}
	return nil
}

func (r *LookupReconciler) lookupdDeployment(l *v1alpha1.Lookup) (*appsv1ac.DeploymentApplyConfiguration, error) {
	pod, err := r.lookupdPodSpec(l)
	if err != nil {
		return nil, err
	}
	maxUnavailable, maxSurge := intstr.FromInt32(0), intstr.FromInt32(1)
	return appsv1ac.Deployment(lookupdName(l), l.Namespace).
		WithLabels(lookupLabels(l)).
		WithOwnerReferences(ownerRef(l)).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(replicas(l)).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(lookupSelector(l))).
			// Surge rather than shrink: queue daemons register with a new
			// replica as soon as the headless Service lists it.
			WithStrategy(appsv1ac.DeploymentStrategy().
				WithType(appsv1.RollingUpdateDeploymentStrategyType).
				WithRollingUpdate(appsv1ac.RollingUpdateDeployment().
					WithMaxUnavailable(maxUnavailable).WithMaxSurge(maxSurge))).
			WithTemplate(corev1ac.PodTemplateSpec().
				WithLabels(lookupLabels(l)).
				WithSpec(pod))), nil
}

func (r *LookupReconciler) lookupdPodSpec(l *v1alpha1.Lookup) (*corev1ac.PodSpecApplyConfiguration, error) {
	container, err := r.lookupdContainer(l)
	if err != nil {
		return nil, err
	}
	spec := corev1ac.PodSpec().
		WithContainers(container).
		WithAutomountServiceAccountToken(false).
		WithEnableServiceLinks(false).
		WithSecurityContext(corev1ac.PodSecurityContext().
			WithRunAsNonRoot(true).WithRunAsUser(lookupdUID).WithRunAsGroup(lookupdUID).
			WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault)))
	if l.Spec.NodeSelector != nil {
		spec.WithNodeSelector(l.Spec.NodeSelector)
	}
	if l.Spec.PriorityClassName != "" {
		spec.WithPriorityClassName(l.Spec.PriorityClassName)
	}
	if err := convertInto(l.Spec.Affinity, &spec.Affinity); err != nil {
		return nil, fmt.Errorf("spec.affinity: %w", err)
	}
	for i := range l.Spec.Tolerations {
		var t *corev1ac.TolerationApplyConfiguration
		if err := convertInto(&l.Spec.Tolerations[i], &t); err != nil {
			return nil, fmt.Errorf("spec.tolerations[%d]: %w", i, err)
		}
		spec.WithTolerations(t)
	}
	spread, err := topologySpread(l)
	if err != nil {
		return nil, err
	}
	spec.WithTopologySpreadConstraints(spread...)
	return spec, nil
}

func (r *LookupReconciler) lookupdContainer(l *v1alpha1.Lookup) (*corev1ac.ContainerApplyConfiguration, error) {
	res := l.Spec.Resources
	if res == nil {
		res = &defaultLookupdResources
	}
	var resources *corev1ac.ResourceRequirementsApplyConfiguration
	if err := convertInto(res, &resources); err != nil {
		return nil, fmt.Errorf("spec.resources: %w", err)
	}
	ping := func() *corev1ac.ProbeApplyConfiguration {
		return corev1ac.Probe().WithHTTPGet(corev1ac.HTTPGetAction().
			WithPath("/ping").WithPort(intstr.FromString("http")))
	}
	return corev1ac.Container().
		WithName("lookupd").
		WithImage(r.image(l)).
		// Not Always, which a :latest tag implies: an image loaded into the
		// nodes (kind, air-gapped clusters) must be used as it is.
		WithImagePullPolicy(corev1.PullIfNotPresent).
		WithCommand("lookupd").
		WithArgs(lookupdArgs(l)...).
		WithEnv(corev1ac.EnvVar().WithName("POD_IP").WithValueFrom(
			corev1ac.EnvVarSource().WithFieldRef(corev1ac.ObjectFieldSelector().WithFieldPath("status.podIP")))).
		WithPorts(
			corev1ac.ContainerPort().WithName("http").WithContainerPort(LookupdHTTPPort).WithProtocol(corev1.ProtocolTCP),
			corev1ac.ContainerPort().WithName("tcp").WithContainerPort(LookupdTCPPort).WithProtocol(corev1.ProtocolTCP)).
		// Ready for consumers only after daemons had time to find the new
		// replica through the headless Service (queued re-resolves it every
		// 5s) and register their topics; until then /lookup would be empty.
		WithReadinessProbe(ping().WithInitialDelaySeconds(readinessDelaySeconds).WithPeriodSeconds(5)).
		WithLivenessProbe(ping().WithPeriodSeconds(10).WithFailureThreshold(3)).
		WithResources(resources).
		WithSecurityContext(corev1ac.SecurityContext().
			WithAllowPrivilegeEscalation(false).
			WithReadOnlyRootFilesystem(true).
			WithCapabilities(corev1ac.Capabilities().WithDrop("ALL"))), nil
}

func lookupdArgs(l *v1alpha1.Lookup) []string {
	args := []string{
		fmt.Sprintf("--tcp-address=0.0.0.0:%d", LookupdTCPPort),
		fmt.Sprintf("--http-address=0.0.0.0:%d", LookupdHTTPPort),
		"--broadcast-address=$(POD_IP)",
	}
	if d := l.Spec.InactiveProducerTimeout; d != nil {
		args = append(args, "--inactive-producer-timeout="+d.Duration.String())
	}
	if d := l.Spec.TombstoneLifetime; d != nil {
		args = append(args, "--tombstone-lifetime="+d.Duration.String())
	}
	return args
}

// topologySpread is spec.topologySpreadConstraints, or else a soft spread
// over nodes and zones: replicas that share no state are only worth having
// on different machines, but a small cluster must still schedule them.
func topologySpread(l *v1alpha1.Lookup) ([]*corev1ac.TopologySpreadConstraintApplyConfiguration, error) {
	var out []*corev1ac.TopologySpreadConstraintApplyConfiguration
	for i := range l.Spec.TopologySpreadConstraints {
		var c *corev1ac.TopologySpreadConstraintApplyConfiguration
		if err := convertInto(&l.Spec.TopologySpreadConstraints[i], &c); err != nil {
			return nil, fmt.Errorf("spec.topologySpreadConstraints[%d]: %w", i, err)
		}
		out = append(out, c)
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, key := range []string{corev1.LabelHostname, corev1.LabelTopologyZone} {
		out = append(out, corev1ac.TopologySpreadConstraint().
			WithMaxSkew(1).
			WithTopologyKey(key).
			WithWhenUnsatisfiable(corev1.ScheduleAnyway).
			WithLabelSelector(metav1ac.LabelSelector().WithMatchLabels(lookupSelector(l))))
	}
	return out, nil
}

func (r *LookupReconciler) image(l *v1alpha1.Lookup) string {
	switch {
	case l.Spec.Image != "":
		return l.Spec.Image
	case r.Image != "":
		return r.Image
	}
	return DefaultImage
}

func replicas(l *v1alpha1.Lookup) int32 {
	if l.Spec.Replicas != nil {
		return *l.Spec.Replicas
	}
	return 2
}

// convertInto turns a core type from the Lookup's spec into its apply
// configuration: both share one JSON form, and writing the conversion by
// hand for Affinity and its kin would be hundreds of lines.
func convertInto[T any](in any, out **T) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if string(b) == "null" {
		return nil
	}
	*out = new(T)
	return json.Unmarshal(b, *out)
}
