package inject

import (
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// mutation is everything injection will write, decided before any of it is.
type mutation struct {
	sidecar     corev1.Container
	volume      corev1.Volume
	native      bool
	gracePeriod int64  // seconds the pod needs at least
	fsGroup     *int64 // nil: the pod's fsGroup stays as it is
	// finalizer: the pod waits for the operator to hand its backlog off.
	finalizer bool
	status    Status
}

// graceMargin is added to the drain timeout: a native sidecar gets its
// SIGTERM only once the app's containers have exited, within the same grace
// period, and then needs a moment to persist what is left and report.
const graceMargin = 15 * time.Second

// defaultContainerAnnotation is the container kubectl logs and exec pick.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// plan reads the pod and decides the mutation, or refuses the pod. It
// changes nothing.
func plan(pod *corev1.Pod, ns *corev1.Namespace, lookup *v1alpha1.Lookup, cfg Config) (*mutation, *Refusal) {
	if pod.Spec.HostNetwork {
		return nil, refuse("spec.hostNetwork", ReasonHostNetwork,
			"a hostNetwork pod shares the node's ports, where two sidecars would collide on %d and %d: drop hostNetwork, or remove %s",
			v1alpha1.QueueTCPPort, v1alpha1.QueueHTTPPort, v1alpha1.InjectKey)
	}
	if r := checkConflicts(pod); r != nil {
		return nil, r
	}
	s, r := parseSettings(pod, cfg)
	if r != nil {
		return nil, r
	}
	addrs, r := lookupAddresses(pod, ns, lookup, s.lookup)
	if r != nil {
		return nil, r
	}
	if s.image == "" {
		return nil, refuse(v1alpha1.AnnotationImage, ReasonNoImage,
			"no sidecar image: set %s, or start the manager with --sidecar-image", v1alpha1.AnnotationImage)
	}
	args, r := queuedArgs(s, addrs, cfg.ValidateFlags)
	if r != nil {
		return nil, r
	}
	m := &mutation{
		sidecar:     sidecarContainer(s, args),
		volume:      dataVolume(s),
		native:      s.native,
		gracePeriod: int64((s.drainTimeout + graceMargin + time.Second - 1) / time.Second),
		fsGroup:     fsGroupFor(pod, s),
		// An emptyDir goes with the pod: there is nothing to hand off.
		finalizer: s.storage == storagePVC && !s.skipHandoff,
	}
	m.status = Status{Image: s.image, Args: args, Volume: s.storage, Native: s.native, FSGroup: m.fsGroup}
	return m, nil
}

// checkConflicts refuses a pod that already uses the sidecar's volume name
// or declares one of its ports: they share one network namespace.
func checkConflicts(pod *corev1.Pod) *Refusal {
	for i, v := range pod.Spec.Volumes {
		if v.Name == v1alpha1.SidecarVolumeName {
			return refuse(fmt.Sprintf("spec.volumes[%d].name", i), ReasonConflict,
				"the volume name %s is the sidecar's: rename the pod's volume", v.Name)
		}
	}
	lists := []struct {
		path       string
		containers []corev1.Container
	}{{"spec.initContainers", pod.Spec.InitContainers}, {"spec.containers", pod.Spec.Containers}}
	for _, list := range lists {
		for i, c := range list.containers {
			for j, p := range c.Ports {
				if p.ContainerPort == v1alpha1.QueueTCPPort || p.ContainerPort == v1alpha1.QueueHTTPPort {
					return refuse(fmt.Sprintf("%s[%d].ports[%d].containerPort", list.path, i, j), ReasonConflict,
						"container %q listens on %d, the sidecar's port: move it to another port (the app reaches the sidecar through NSQD_TCP_ADDRESS and NSQD_HTTP_ADDRESS)",
						c.Name, p.ContainerPort)
				}
			}
		}
	}
	return nil
}

// apply writes the mutation into the pod; it cannot fail.
func apply(pod *corev1.Pod, m *mutation) {
	spec := &pod.Spec
	addAppEnv(spec.InitContainers)
	addAppEnv(spec.Containers)
	if m.native {
		spec.InitContainers = append([]corev1.Container{m.sidecar}, spec.InitContainers...)
	} else {
		// The sidecar goes first; kubectl logs and exec keep going to the
		// app, as before injection.
		if len(spec.Containers) > 0 && pod.Annotations[defaultContainerAnnotation] == "" {
			setAnnotation(pod, defaultContainerAnnotation, spec.Containers[0].Name)
		}
		spec.Containers = append([]corev1.Container{m.sidecar}, spec.Containers...)
	}
	spec.Volumes = append(spec.Volumes, m.volume)
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if spec.TerminationGracePeriodSeconds != nil {
		grace = *spec.TerminationGracePeriodSeconds
	}
	if grace < m.gracePeriod {
		spec.TerminationGracePeriodSeconds = new(m.gracePeriod)
	}
	if m.fsGroup != nil {
		if spec.SecurityContext == nil {
			spec.SecurityContext = &corev1.PodSecurityContext{}
		}
		spec.SecurityContext.FSGroup = new(*m.fsGroup)
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[v1alpha1.LabelInjected] = "true"
	if m.finalizer && !slices.Contains(pod.Finalizers, v1alpha1.FinalizerBacklog) {
		pod.Finalizers = append(pod.Finalizers, v1alpha1.FinalizerBacklog)
	}
	setAnnotation(pod, v1alpha1.AnnotationStatus, m.status.String())
}

func setAnnotation(pod *corev1.Pod, key, value string) {
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[key] = value
}
