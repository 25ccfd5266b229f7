package install

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/sidequeue/sidequeue/api/v1alpha1"
	"github.com/sidequeue/sidequeue/internal/testenv"
	"github.com/sidequeue/sidequeue/internal/version"
)

// defaultObjects is what the chart installs with its default values.
var defaultObjects = []string{
	"PodDisruptionBudget/sidequeue-manager",
	"ServiceAccount/sidequeue-manager",
	"Secret/sidequeue-webhook-cert",
	"ConfigMap/sidequeue-dashboard",
	"ClusterRole/sidequeue-manager",
	"ClusterRoleBinding/sidequeue-manager",
	"Role/sidequeue-manager",
	"RoleBinding/sidequeue-manager",
	"Service/sidequeue-webhook",
	"Service/sidequeue-metrics",
	"Deployment/sidequeue-manager",
	"Lookup/default",
	"MutatingWebhookConfiguration/sidequeue-injector",
}

// The defaults install every CRD of config/crd/bases and the objects
// above, and nothing holds a caBundle.
func TestRenderDefaults(t *testing.T) {
	t.Parallel()
	r := mustRender(t, nil)
	var got []string
	for _, n := range r.names() {
		if !strings.HasPrefix(n, "CustomResourceDefinition/") {
			got = append(got, n)
		}
	}
	if !slices.Equal(got, defaultObjects) {
		t.Errorf("rendered %v\nwant %v", got, defaultObjects)
	}
	assertCRDs(t, r)
	for _, o := range r.objs {
		if hasKey(o.Object, "caBundle") {
			t.Errorf("%s/%s renders a caBundle: the manager or cert-manager owns it", o.GetKind(), o.GetName())
		}
	}
	if s := r.find(t, "Secret", "sidequeue-webhook-cert"); s.Object["data"] != nil || s.Object["stringData"] != nil {
		t.Errorf("the Secret renders data; the manager fills it and an upgrade must keep it")
	}
	l := r.find(t, "Lookup", v1alpha1.DefaultLookupName)
	if l.GetNamespace() != releaseNamespace {
		t.Errorf("default Lookup in %q, want %q", l.GetNamespace(), releaseNamespace)
	}
	if err := containsAll(r.notes, "kubectl label namespace <ns> "+v1alpha1.NamespaceInjectionLabel+"="+v1alpha1.NamespaceInjectionEnabled,
		`"annotations":{"`+v1alpha1.InjectKey+`":"true"}`, "get topics,channels,backlogs"); err != nil {
		t.Errorf("NOTES.txt: %v", err)
	}
}

// Every CRD of config/crd/bases, found by glob (a new kind needs no edit
// here), is in the chart as generated, plus the keep policy.
func assertCRDs(t *testing.T, r *rendered) {
	t.Helper()
	files, err := filepath.Glob(testenv.Path("config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in config/crd/bases (%v)", err)
	}
	if n := len(r.ofKind("CustomResourceDefinition")); n != len(files) {
		t.Errorf("chart has %d CRDs, config/crd/bases %d: run make manifests", n, len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := parseManifests(string(b))
		if err != nil || len(want) != 1 {
			t.Fatalf("%s: %v", f, err)
		}
		got := r.get("CustomResourceDefinition", want[0].GetName())
		if got == nil {
			t.Errorf("CRD %s not in the chart: run make manifests", want[0].GetName())
			continue
		}
		if !reflect.DeepEqual(got.Object["spec"], want[0].Object["spec"]) {
			t.Errorf("CRD %s differs from config/crd/bases: run make manifests", got.GetName())
		}
		if got.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
			t.Errorf("CRD %s lacks helm.sh/resource-policy: keep", got.GetName())
		}
	}
}

// The manager runs as DESIGN.md says: the image it was built as, leader
// election, its webhook on the port the Service sends 443 to, probes,
// resources, a restricted securityContext, a writable cert dir under a
// read-only root, its namespace from the downward API.
func TestRenderManagerDeployment(t *testing.T) {
	t.Parallel()
	r := mustRender(t, nil)
	if ch := loadChart(t); ch.Metadata.AppVersion != version.Default || ch.Metadata.Version != version.Default {
		t.Errorf("Chart.yaml version %s appVersion %s; want internal/version's %s", ch.Metadata.Version, ch.Metadata.AppVersion, version.Default)
	}
	d := r.find(t, "Deployment", "sidequeue-manager")
	c := container(t, d)
	if c.str("image") != version.Image() {
		t.Errorf("image %s, want %s", c.str("image"), version.Image())
	}
	args := c.strs("args")
	for _, want := range []string{"--leader-elect", "--webhook-port=9443", "--webhook-cert-mode=self-managed",
		"--webhook-secret=sidequeue-webhook-cert", "--webhook-service=sidequeue-webhook",
		"--sidecar-image=" + version.Image(), "--health-probe-bind-address=:8081"} {
		if !slices.Contains(args, want) {
			t.Errorf("args %v lack %s", args, want)
		}
	}
	assertRestricted(t, d, c)
	for _, p := range []string{"readinessProbe.httpGet.path=/readyz", "livenessProbe.httpGet.path=/healthz",
		"resources.limits.memory=256Mi", "resources.requests.cpu=100m",
		"env.0.name=POD_NAMESPACE", "env.0.valueFrom.fieldRef.fieldPath=metadata.namespace",
		"ports.0.name=webhook", "ports.0.containerPort=9443"} {
		assertField(t, c.m, p)
	}
	certDir := flagValue(args, "--webhook-cert-dir")
	assertField(t, c.m, "volumeMounts.0.mountPath="+certDir)
	assertField(t, d.Object, "spec.template.spec.volumes.0.emptyDir.sizeLimit=1Mi")
	assertField(t, d.Object, "spec.template.spec.serviceAccountName="+serviceAccount)
	svc := r.find(t, "Service", "sidequeue-webhook")
	assertField(t, svc.Object, "spec.ports.0.port=443")
	assertField(t, svc.Object, "spec.ports.0.targetPort=webhook")
	if !reflect.DeepEqual(field(svc.Object, "spec.selector"), field(d.Object, "spec.selector.matchLabels")) {
		t.Errorf("webhook Service selects %v, the Deployment's pods are %v", field(svc.Object, "spec.selector"), field(d.Object, "spec.selector.matchLabels"))
	}
}

// assertRestricted checks the fields the restricted Pod Security Standard
// asks for, on the pod and on the container.
func assertRestricted(t *testing.T, d *unstructured.Unstructured, c obj) {
	t.Helper()
	for _, p := range []string{"securityContext.allowPrivilegeEscalation=false", "securityContext.readOnlyRootFilesystem=true",
		"securityContext.runAsNonRoot=true", "securityContext.capabilities.drop.0=ALL", "securityContext.seccompProfile.type=RuntimeDefault"} {
		assertField(t, c.m, p)
	}
	assertField(t, d.Object, "spec.template.spec.securityContext.runAsNonRoot=true")
	assertField(t, d.Object, "spec.template.spec.securityContext.runAsUser=65532")
}

func flagValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}
