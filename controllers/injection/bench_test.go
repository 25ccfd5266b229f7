package injection_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/controllers/injection"
)

// BenchmarkAdmission measures what the webhook costs a pod creation:
// 1,000 pods asking for the sidecar created one after the other against
// the envtest API server, the latency of each Create (client to API server
// and etcd, the webhook call included), and the time in the handler, next
// to 1,000 pods the API server does not send to the webhook. Run it with
// `make bench-injection`.
func BenchmarkAdmission(b *testing.B) {
	const pods = 1000
	for range b.N {
		plain := namespace(b, nil, true)
		asked := namespace(b, optedIn, true)
		base := createPods(b, plain, nil, pods)
		with := createPods(b, asked, asks, pods)
		handler := calls.durations(injection.Path, asked)
		p50, p99 := percentile(with, 50), percentile(with, 99)
		b.ReportMetric(ms(p50), "p50-ms")
		b.ReportMetric(ms(p99), "p99-ms")
		fmt.Printf("admission latency over %d pod creations (envtest API server, webhook serving):\n", pods)
		fmt.Printf("  %-34s p50 %6.2f ms  p99 %6.2f ms\n", "pod created, not sent to webhook", ms(percentile(base, 50)), ms(percentile(base, 99)))
		fmt.Printf("  %-34s p50 %6.2f ms  p99 %6.2f ms\n", "pod created, injected", ms(p50), ms(p99))
		fmt.Printf("  %-34s p50 %6.2f ms  p99 %6.2f ms  (%d calls)\n", "time in the handler", ms(percentile(handler, 50)), ms(percentile(handler, 99)), len(handler))
	}
}

func createPods(b *testing.B, ns string, annotations map[string]string, n int) []time.Duration {
	d := make([]time.Duration, 0, n)
	for range n {
		pod := newPod(ns, "", annotations, nil)
		pod.GenerateName = "bench-"
		start := time.Now()
		must(b, create(b, pod))
		d = append(d, time.Since(start))
		if annotations != nil {
			assertInjected(b, pod)
		}
	}
	return d
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
