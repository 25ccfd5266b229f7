package injection_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The admission plugins that run after the webhook accept what it adds.

// Pod Security admission checks the mutated pod: the sidecar passes the
// restricted standard when the app does.
func TestRestrictedNamespaceAdmitsInjectedPod(t *testing.T) {
	t.Parallel()
	ns := namespace(t, merge(optedIn, map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	}), true)
	pod := newPod(ns, "restricted", asks, nil)
	must(t, create(t, pod))
	assertInjected(t, pod)

	// The namespace does enforce it: an app that is not compliant is refused.
	bad := newPod(ns, "privileged", nil, nil)
	bad.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	if err := create(t, bad); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "PodSecurity") {
		t.Fatalf("a non-compliant pod: %v, want refused by PodSecurity", err)
	}
}

// A ResourceQuota on limits makes every container of a pod set them: the
// sidecar always does.
func TestQuotaOnLimitsAdmitsInjectedPod(t *testing.T) {
	t.Parallel()
	ns := namespace(t, optedIn, true)
	hard := corev1.ResourceList{
		corev1.ResourceLimitsCPU:    resource.MustParse("8"),
		corev1.ResourceLimitsMemory: resource.MustParse("8Gi"),
	}
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "limits"}, Spec: corev1.ResourceQuotaSpec{Hard: hard}}
	must(t, k8s.Create(context.Background(), q))
	// The quota controller of kube-controller-manager is not running: do
	// its part, or quota admission refuses every pod (status unknown).
	q.Status = corev1.ResourceQuotaStatus{Hard: hard, Used: corev1.ResourceList{
		corev1.ResourceLimitsCPU: resource.MustParse("0"), corev1.ResourceLimitsMemory: resource.MustParse("0"),
	}}
	must(t, k8s.Status().Update(context.Background(), q))

	pod := newPod(ns, "with-limits", asks, nil)
	must(t, create(t, pod))
	assertInjected(t, pod)

	// The quota does demand limits: a container without them is refused.
	bare := newPod(ns, "without-limits", nil, nil)
	bare.Spec.Containers[0].Resources = corev1.ResourceRequirements{}
	if err := create(t, bare); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "limits") {
		t.Fatalf("a pod without limits: %v, want refused by the quota", err)
	}
}
