// Package deps checks DESIGN.md's dependency rules ("Components"), so the
// layers stay easy to see: go list's view of every package's imports,
// against one rule per layer.
package deps

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/sidequeue/sidequeue/internal/testenv"
)

const module = "github.com/sidequeue/sidequeue/"

// pkg is one package of the module: its direct imports and all it depends
// on, the module's prefix cut.
type pkg struct {
	imports, deps []string
}

func TestDependencyRules(t *testing.T) {
	t.Parallel()
	pkgs := list(t)
	daemons := []string{"sidecar/queued", "sidecar/diskqueue", "sidecar/registrar", "lookup"}
	for _, name := range daemons {
		forbid(t, pkgs, name, "imports no Kubernetes package", func(dep string) bool {
			return strings.HasPrefix(dep, "k8s.io/") || strings.HasPrefix(dep, "sigs.k8s.io/")
		})
		forbid(t, pkgs, name, "imports nothing of the operator", ours("api/", "controllers", "sidecar/inject", "cmd/"))
	}
	forbid(t, pkgs, "lookup", "does not import the queue daemon", ours("sidecar/"))
	for _, name := range []string{"sidecar/queued", "sidecar/diskqueue", "sidecar/registrar"} {
		forbid(t, pkgs, name, "does not import the lookup daemon", ours("lookup"))
	}
	forbid(t, pkgs, "sidecar/diskqueue", "knows nothing of topics or the protocol", ours(""))
	for name := range pkgs {
		switch {
		case strings.HasPrefix(name, "internal/"):
			forbid(t, pkgs, name, "imports nothing above internal/", func(dep string) bool {
				return strings.HasPrefix(dep, module) && !strings.HasPrefix(dep, module+"internal/")
			})
		case strings.HasPrefix(name, "api/"):
			forbid(t, pkgs, name, "imports nothing of ours", ours(""))
		case strings.HasPrefix(name, "controllers"):
			forbid(t, pkgs, name, "leaves the daemons to cmd/", ours("sidecar/queued", "sidecar/diskqueue", "lookup"))
		}
	}
	for _, imp := range pkgs["sidecar/inject"].imports {
		if strings.Contains(imp, ".") && !strings.HasPrefix(imp, "k8s.io/api/") &&
			!strings.HasPrefix(imp, "k8s.io/apimachinery/") && !strings.HasPrefix(imp, module+"api/") {
			t.Errorf("sidecar/inject imports only API types, but imports %s", imp)
		}
	}
}

// ours matches the module's packages under any of prefixes ("" for all).
func ours(prefixes ...string) func(string) bool {
	return func(dep string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(dep, module+p) {
				return true
			}
		}
		return false
	}
}

func forbid(t *testing.T, pkgs map[string]pkg, name, rule string, bad func(string) bool) {
	t.Helper()
	p, ok := pkgs[name]
	if !ok {
		t.Errorf("package %s is gone: update the rules", name)
		return
	}
	for _, dep := range p.deps {
		if bad(dep) {
			t.Errorf("%s %s, but depends on %s", name, rule, strings.TrimPrefix(dep, module))
		}
	}
}

// list runs go list over the module's packages, tests excluded: the rules
// are about what the binaries link.
func list(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-f",
		`{{.ImportPath}}{{"\t"}}{{join .Imports " "}}{{"\t"}}{{join .Deps " "}}`, "./...")
	cmd.Dir = testenv.Root()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		pkgs[strings.TrimPrefix(fields[0], module)] = pkg{imports: strings.Fields(fields[1]), deps: strings.Fields(fields[2])}
	}
	return pkgs
}
