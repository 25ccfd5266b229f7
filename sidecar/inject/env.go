package inject

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// appEnv tells the app where its queue is, under the names NSQ's examples
// use, so a client reads its address instead of assuming one.
func appEnv() []corev1.EnvVar {
	return []corev1.EnvVar{
		{Name: v1alpha1.EnvQueueTCPAddress, Value: fmt.Sprintf("127.0.0.1:%d", v1alpha1.QueueTCPPort)},
		{Name: v1alpha1.EnvQueueHTTPAddress, Value: fmt.Sprintf("127.0.0.1:%d", v1alpha1.QueueHTTPPort)},
	}
}

// addAppEnv gives appEnv to every container but the sidecar, leaving a
// variable the container already sets as it is: the pod's choice wins.
func addAppEnv(containers []corev1.Container) {
	for i := range containers {
		c := &containers[i]
		if c.Name == v1alpha1.SidecarContainerName {
			continue
		}
		for _, e := range appEnv() {
			if !slices.ContainsFunc(c.Env, func(have corev1.EnvVar) bool { return have.Name == e.Name }) {
				c.Env = append(c.Env, e)
			}
		}
	}
}
