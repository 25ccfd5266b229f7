package install

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"testing"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/internal/testenv"
)

// cert-manager mode: a CA chain of the chart's own, the serving
// certificate mounted, the caBundle injected from it, and the manager
// keeping no certificate (no Secret rendered, no RBAC for one).
func TestRenderCertManager(t *testing.T) {
	t.Parallel()
	r := mustRender(t, values("webhook.certMode", "cert-manager"))
	selfSigned := r.find(t, "Issuer", "sidequeue-selfsigned")
	assertField(t, selfSigned.Object, "spec.selfSigned=map[]")
	ca := r.find(t, "Certificate", "sidequeue-ca")
	assertField(t, ca.Object, "spec.isCA=true")
	assertField(t, ca.Object, "spec.issuerRef.name=sidequeue-selfsigned")
	caIssuer := r.find(t, "Issuer", "sidequeue-ca")
	assertField(t, caIssuer.Object, "spec.ca.secretName="+obj{ca.Object}.str("spec.secretName"))
	serving := r.find(t, "Certificate", "sidequeue-serving")
	assertField(t, serving.Object, "spec.issuerRef.name=sidequeue-ca")
	assertField(t, serving.Object, "spec.secretName=sidequeue-webhook-cert")
	assertField(t, serving.Object, "spec.dnsNames.0=sidequeue-webhook."+releaseNamespace+".svc")
	hook := r.find(t, "MutatingWebhookConfiguration", "sidequeue-injector")
	if got := hook.GetAnnotations()["cert-manager.io/inject-ca-from"]; got != releaseNamespace+"/sidequeue-serving" {
		t.Errorf("inject-ca-from %q, want %s/sidequeue-serving", got, releaseNamespace)
	}
	d := r.find(t, "Deployment", "sidequeue-manager")
	c := container(t, d)
	if args := c.strs("args"); !slices.Contains(args, "--webhook-cert-mode=external") || flagValue(args, "--webhook-secret") != "" {
		t.Errorf("args %v: want --webhook-cert-mode=external and no --webhook-secret", args)
	}
	assertField(t, d.Object, "spec.template.spec.volumes.0.secret.secretName=sidequeue-webhook-cert")
	assertField(t, c.m, "volumeMounts.0.readOnly=true")
	if r.get("Secret", "sidequeue-webhook-cert") != nil {
		t.Error("cert-manager mode renders the Secret cert-manager writes")
	}
	for _, rl := range rules(r.find(t, "Role", "sidequeue-manager")) {
		if slices.Contains(rl.Resources, "secrets") {
			t.Errorf("cert-manager mode grants secrets: %+v", rl)
		}
	}
	for _, rl := range rules(r.find(t, "ClusterRole", "sidequeue-manager")) {
		if slices.Contains(rl.Resources, "mutatingwebhookconfigurations") {
			t.Errorf("cert-manager mode grants the webhook configuration: %+v", rl)
		}
	}
}

func TestRenderOptions(t *testing.T) {
	t.Parallel()
	t.Run("no-default-lookup", func(t *testing.T) {
		t.Parallel()
		if r := mustRender(t, values("defaultLookup.enabled", false)); len(r.ofKind("Lookup")) != 0 {
			t.Errorf("rendered %v", r.names())
		}
	})
	t.Run("lookup-elsewhere", func(t *testing.T) {
		t.Parallel()
		r := mustRender(t, values("defaultLookup.namespace", "shop", "defaultLookup.replicas", 3))
		l := r.find(t, "Lookup", "default")
		assertField(t, l.Object, "metadata.namespace=shop")
		assertField(t, l.Object, "spec.replicas=3")
	})
	t.Run("failure-policy-ignore", func(t *testing.T) {
		t.Parallel()
		r := mustRender(t, values("webhook.failurePolicy", "Ignore"))
		for i := range webhooks(r.find(t, "MutatingWebhookConfiguration", "sidequeue-injector")) {
			assertField(t, r.find(t, "MutatingWebhookConfiguration", "sidequeue-injector").Object, "webhooks."+itoa(i)+".failurePolicy=Ignore")
		}
	})
	t.Run("url", func(t *testing.T) {
		t.Parallel()
		r := mustRender(t, values("webhook.url", "https://localhost:9443/inject-pod"))
		hook := r.find(t, "MutatingWebhookConfiguration", "sidequeue-injector")
		assertField(t, hook.Object, "webhooks.0.clientConfig=map[url:https://localhost:9443/inject-pod]")
	})
	t.Run("url-with-cert-manager", func(t *testing.T) {
		t.Parallel()
		r := mustRender(t, values("webhook.url", "https://manager.dev.example:9443/inject-pod", "webhook.certMode", "cert-manager"))
		names := obj{r.find(t, "Certificate", "sidequeue-serving").Object}.strs("spec.dnsNames")
		if !slices.Contains(names, "manager.dev.example") {
			t.Errorf("the serving Certificate names %v, not the URL's host", names)
		}
	})
	t.Run("monitoring-and-network-policy", func(t *testing.T) {
		t.Parallel()
		r := mustRender(t, values("metrics.serviceMonitor.enabled", true, "networkPolicy.enabled", true))
		assertMonitoring(t, r)
		np := r.find(t, "NetworkPolicy", "sidequeue-manager")
		d := r.find(t, "Deployment", "sidequeue-manager")
		if !reflect.DeepEqual(field(np.Object, "spec.podSelector.matchLabels"), field(d.Object, "spec.selector.matchLabels")) {
			t.Errorf("NetworkPolicy selects %v, not the manager's pods", field(np.Object, "spec.podSelector.matchLabels"))
		}
		assertField(t, np.Object, "spec.ingress.0.ports.0.port=webhook")
		assertField(t, np.Object, "spec.ingress.1.ports.0.port=metrics")
	})
}

// The ServiceMonitor scrapes the manager's metrics Service; the PodMonitor
// every injected sidecar, on the port and path queued serves /metrics at.
func assertMonitoring(t *testing.T, r *rendered) {
	t.Helper()
	sm := r.find(t, "ServiceMonitor", "sidequeue-manager")
	svc := r.find(t, "Service", "sidequeue-metrics")
	selector, _ := field(sm.Object, "spec.selector.matchLabels").(map[string]any)
	for k, v := range selector {
		if svc.GetLabels()[k] != v {
			t.Errorf("ServiceMonitor selects %s=%v; the metrics Service has %v", k, v, svc.GetLabels())
		}
	}
	assertField(t, sm.Object, "spec.endpoints.0.port="+obj{svc.Object}.str("spec.ports.0.name"))
	pm := r.find(t, "PodMonitor", "sidequeue-sidecars")
	if sel, _ := field(pm.Object, "spec.selector.matchLabels").(map[string]any); sel[v1alpha1.LabelInjected] != "true" {
		t.Errorf("PodMonitor selects %v, want %s: \"true\"", sel, v1alpha1.LabelInjected)
	}
	assertField(t, pm.Object, "spec.podMetricsEndpoints.0.port="+v1alpha1.SidecarHTTPPortName)
	assertField(t, pm.Object, "spec.podMetricsEndpoints.0.path=/metrics")
	assertField(t, pm.Object, "spec.namespaceSelector.any=true")
}

// The dashboard is a ConfigMap Grafana's sidecar loads, and every metric it
// queries is one the code exports.
func TestRenderDashboard(t *testing.T) {
	t.Parallel()
	r := mustRender(t, nil)
	cm := r.find(t, "ConfigMap", "sidequeue-dashboard")
	if cm.GetLabels()["grafana_dashboard"] != "1" {
		t.Errorf("labels %v lack grafana_dashboard: \"1\"", cm.GetLabels())
	}
	data, _ := field(cm.Object, "data").(map[string]any)
	raw, _ := data["sidequeue.json"].(string)
	var dash struct{ Panels []any }
	if err := json.Unmarshal([]byte(raw), &dash); err != nil || len(dash.Panels) == 0 {
		t.Fatalf("dashboard JSON: %v (%d panels)", err, len(dash.Panels))
	}
	var code []byte
	for _, f := range []string{"sidecar/queued/http_metrics.go", "controllers/injection/metrics.go"} {
		b, err := os.ReadFile(testenv.Path(f))
		if err != nil {
			t.Fatal(err)
		}
		code = append(code, b...)
	}
	used := regexp.MustCompile(`\b(queued|sidequeue)_[a-z_]+`).FindAllString(raw, -1)
	if len(used) == 0 {
		t.Fatal("the dashboard queries no sidequeue metric")
	}
	for _, m := range used {
		if !regexp.MustCompile(`"` + m + `"`).Match(code) {
			t.Errorf("the dashboard queries %s, which neither queued nor the manager exports", m)
		}
	}
}
