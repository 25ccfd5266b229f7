package install

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/sidequeue/sidequeue/internal/testenv"
)

// The install the tests make: the release, its namespace, and the
// ServiceAccount the chart gives the manager.
const (
	releaseName        = "sidequeue"
	releaseNamespace   = "sidequeue-system"
	serviceAccount     = "sidequeue-manager"
	serviceAccountUser = "system:serviceaccount:" + releaseNamespace + ":" + serviceAccount
)

// kubeVersion is the API server's (bin/k8s), for rendering without one.
var kubeVersion = &chartutil.KubeVersion{Version: "v1.37.2", Major: "1", Minor: "37"}

var chartDir = testenv.Path("charts", "sidequeue")

func loadChart(t testing.TB) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading %s: %v", chartDir, err)
	}
	return ch
}

// rendered is what `helm template --include-crds` prints, parsed.
type rendered struct {
	objs  []*unstructured.Unstructured
	notes string
}

// render renders the chart with vals as `helm install --dry-run` does
// without a cluster: values checked against values.schema.json, the
// templates' own checks, CRDs included.
func render(t testing.TB, vals map[string]any) (*rendered, error) {
	return renderIn(t, releaseNamespace, vals)
}

// renderIn renders as render does, for a release in namespace ns.
func renderIn(t testing.TB, ns string, vals map[string]any) (*rendered, error) {
	t.Helper()
	in := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	in.DryRun, in.ClientOnly, in.IncludeCRDs, in.Replace = true, true, true, true
	in.ReleaseName, in.Namespace, in.KubeVersion = releaseName, ns, kubeVersion
	rel, err := in.Run(loadChart(t), vals)
	if err != nil {
		return nil, err
	}
	objs, err := parseManifests(rel.Manifest)
	if err != nil {
		return nil, err
	}
	return &rendered{objs: objs, notes: rel.Info.Notes}, nil
}

func mustRender(t testing.TB, vals map[string]any) *rendered {
	t.Helper()
	r, err := render(t, vals)
	if err != nil {
		t.Fatalf("rendering with %v: %v", vals, err)
	}
	return r
}

// parseManifests splits a multi-document YAML stream into objects,
// leaving out empty documents.
func parseManifests(s string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(s), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("parsing manifests: %w", err)
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}

// find is the object of kind and name; it fails t when there is none.
func (r *rendered) find(t testing.TB, kind, name string) *unstructured.Unstructured {
	t.Helper()
	if o := r.get(kind, name); o != nil {
		return o
	}
	t.Fatalf("no %s %q rendered; have %v", kind, name, r.names())
	return nil
}

func (r *rendered) get(kind, name string) *unstructured.Unstructured {
	for _, o := range r.objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func (r *rendered) ofKind(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r.objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// names lists the objects as kind/name, in the order rendered.
func (r *rendered) names() []string {
	var out []string
	for _, o := range r.objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}

// values builds a values map from dotted paths: values("a.b", 1).
func values(kv ...any) map[string]any {
	out := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		parts := strings.Split(kv[i].(string), ".")
		m := out
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = kv[i+1]
	}
	return out
}

// containsAll reports whether every line of want is in got.
func containsAll(got string, want ...string) error {
	var missing bytes.Buffer
	for _, w := range want {
		if !strings.Contains(got, w) {
			fmt.Fprintf(&missing, "\n  %q", w)
		}
	}
	if missing.Len() > 0 {
		return fmt.Errorf("missing:%s", missing.String())
	}
	return nil
}
