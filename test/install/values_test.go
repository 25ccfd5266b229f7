package install

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint/support"
)

// Each file of testdata/invalid is a values file that must not render:
// its first line, "# want: <text>", is what the refusal must say. The
// schema refuses what one value alone gets wrong; the templates' fail
// what values contradict.
func TestInvalidValuesAreRefusedAtRender(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/invalid/*.yaml (%v)", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			t.Parallel()
			want := wantLine(t, f)
			vals, err := chartutil.ReadValuesFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := render(t, vals)
			if err == nil {
				t.Fatalf("rendered %d objects; want refused with %q", len(r.objs), want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("refused with:\n%v\nwant it to say %q", err, want)
			}
		})
	}
}

// wantLine is the text after "# want: " on the file's first line.
func wantLine(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Scan()
	want, ok := strings.CutPrefix(s.Text(), "# want: ")
	if !ok || want == "" {
		t.Fatalf("%s: first line must be \"# want: <what the refusal says>\"", path)
	}
	return want
}

// helm lint passes, for the defaults and for the other modes, with
// nothing worse than an INFO (an icon is recommended).
func TestLint(t *testing.T) {
	t.Parallel()
	for name, vals := range variants() {
		t.Run(name, func(t *testing.T) {
			l := action.NewLint()
			l.Namespace, l.KubeVersion = releaseNamespace, kubeVersion
			res := l.Run([]string{chartDir}, vals)
			for _, m := range res.Messages {
				if m.Severity > support.InfoSev {
					t.Errorf("lint: %s", m)
				}
			}
			for _, err := range res.Errors {
				t.Errorf("lint error: %v", err)
			}
		})
	}
}

// variants are the values the tests render besides the defaults.
func variants() map[string]map[string]any {
	return map[string]map[string]any{
		"defaults":              nil,
		"cert-manager":          values("webhook.certMode", "cert-manager"),
		"no-default-lookup":     values("defaultLookup.enabled", false),
		"failure-policy-ignore": values("webhook.failurePolicy", "Ignore"),
		"monitoring-and-network-policy": values("metrics.serviceMonitor.enabled", true,
			"networkPolicy.enabled", true),
		"one-replica": values("replicaCount", 1, "leaderElection.enabled", false,
			"podDisruptionBudget.enabled", false),
	}
}
