package controllers

import (
	"context"

	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// reconcilePDB applies a PodDisruptionBudget that lets a drain take one
// lookupd replica at a time: consumers and daemons keep the others.
func (r *LookupReconciler) reconcilePDB(ctx context.Context, l *v1alpha1.Lookup) error {
	pdb := policyv1ac.PodDisruptionBudget(lookupdName(l), l.Namespace).
		WithLabels(lookupLabels(l)).
		WithOwnerReferences(ownerRef(l)).
		WithSpec(policyv1ac.PodDisruptionBudgetSpec().
			WithMaxUnavailable(intstr.FromInt32(1)).
			// A lookupd that is not ready serves nobody: a node drain may
			// always evict it, whatever the budget.
			WithUnhealthyPodEvictionPolicy(policyv1.AlwaysAllow).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(lookupSelector(l))))
	return r.apply(ctx, l, pdb, &policyv1.PodDisruptionBudget{})
}
