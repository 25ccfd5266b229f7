package injection

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The counter's result label: what became of the pod.
const (
	resultInjected     = "injected"
	resultNotRequested = "not-requested"
	resultRefused      = "refused"
	resultError        = "error"
	// already-injected is inject.AlreadyInjected's own name.
)

// admissions counts every decision, in the manager's /metrics (the
// registry of controller-runtime, which also times each call in
// controller_runtime_webhook_latency_seconds{webhook="/inject-pod"}).
var admissions = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "sidequeue_injector_admissions_total",
	Help: "Pods the sidecar injector decided on, by result (injected, already-injected, not-requested, refused, error) and reason.",
}, []string{"result", "reason"})

func init() {
	metrics.Registry.MustRegister(admissions)
}
