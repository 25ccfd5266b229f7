package install

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
)

// The chart's README documents every value of values.yaml, and nothing
// that is not one: a value is documented when its path is in the table's
// first column (a map by itself, or each of its keys).
func TestReadmeListsEveryValue(t *testing.T) {
	t.Parallel()
	vals, err := chartutil.ReadValuesFile(filepath.Join(chartDir, "values.yaml"))
	must(t, err)
	b, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	must(t, err)
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(string(b), -1) {
		documented[m[1]] = true
	}
	seen := map[string]bool{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			p := strings.TrimPrefix(prefix+"."+k, ".")
			seen[p] = true
			if documented[p] {
				continue
			}
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walk(p, sub)
				continue
			}
			t.Errorf("value %s is not in the chart's README", p)
		}
	}
	walk("", vals)
	for p := range documented {
		if !seen[p] {
			t.Errorf("the README documents %s, which values.yaml does not have", p)
		}
	}
}
