package controllers

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
)

// backlogPhases is every phase, so that each namespace with Backlogs
// reports all of them, zeros included: an alert on Failed or Fencing then
// sees 0 rather than no series.
var backlogPhases = []v1alpha1.BacklogPhase{v1alpha1.BacklogAttached, v1alpha1.BacklogFencing,
	v1alpha1.BacklogDraining, v1alpha1.BacklogFailed, v1alpha1.BacklogLost}

var backlogsDesc = prometheus.NewDesc("sidequeue_backlogs",
	"Backlogs by namespace and phase (Attached, Fencing, Draining, Failed, Lost), as kubectl get backlogs shows them.",
	[]string{"namespace", "phase"}, nil)

// BacklogMetrics reports the Backlogs by phase at each scrape, read
// through r (the manager's cache), so that a handoff that is stuck alerts
// without anyone running kubectl.
type BacklogMetrics struct{ r client.Reader }

// NewBacklogMetrics returns the collector over r.
func NewBacklogMetrics(r client.Reader) *BacklogMetrics { return &BacklogMetrics{r: r} }

func (m *BacklogMetrics) Describe(ch chan<- *prometheus.Desc) { ch <- backlogsDesc }

func (m *BacklogMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var list v1alpha1.BacklogList
	if err := m.r.List(ctx, &list); err != nil {
		ch <- prometheus.NewInvalidMetric(backlogsDesc, err)
		return
	}
	counts := map[string]map[v1alpha1.BacklogPhase]int{}
	for _, b := range list.Items {
		if counts[b.Namespace] == nil {
			counts[b.Namespace] = map[v1alpha1.BacklogPhase]int{}
		}
		counts[b.Namespace][b.Status.Phase]++
	}
	for ns, byPhase := range counts {
		for _, p := range backlogPhases {
			ch <- prometheus.MustNewConstMetric(backlogsDesc, prometheus.GaugeValue, float64(byPhase[p]), ns, string(p))
		}
	}
}
