package controllers

import (
	"context"
	"net"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// refreshDepth asks the drain Job's running daemon how much it still
// holds, so that DEPTH falls as consumers drain it, and comes back every
// stats interval. A daemon that does not answer leaves the last depth.
func (r *BacklogReconciler) refreshDepth(ctx context.Context, h *handoff, job *batchv1.Job) ctrl.Result {
	if r.NSQ == nil {
		return ctrl.Result{}
	}
	again := ctrl.Result{RequeueAfter: statsInterval(r.StatsInterval)}
	var pods corev1.PodList
	// The drain pods are not in the cache, which holds injected pods only.
	if err := r.APIReader.List(ctx, &pods, client.InNamespace(job.Namespace),
		client.MatchingLabels{batchv1.JobNameLabel: job.Name}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the drain job's pods", "job", job.Name)
		return again
	}
	port := r.DrainHTTPPort
	if port == 0 {
		port = v1alpha1.QueueHTTPPort
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			continue
		}
		held, err := r.NSQ.Held(ctx, net.JoinHostPort(p.Status.PodIP, strconv.Itoa(port)))
		if err != nil {
			ctrl.LoggerFrom(ctx).Info("the drain daemon did not answer", "pod", p.Name, "error", err.Error())
			continue
		}
		h.backlog.Status.Depth = new(held)
		break
	}
	return again
}
