// Command image builds sidequeue's container image without Docker: queued,
// lookupd and manager, static (CGO_ENABLED=0, -trimpath, -s -w, the
// version stamped with -X), in one layer at /usr/local/bin, written as an
// OCI image layout tarball into bin/image/. It prints the tarball's path
// and the image's digest.
//
// The build is reproducible: every file in the layer and the config carry
// the time of SOURCE_DATE_EPOCH (0, 1970-01-01, when unset), uid and gid 0,
// fixed modes, in a fixed order, so the same sources and Go toolchain give
// the same digest. The Dockerfile at the root builds the same layout.
//
// The image has no shell and no entrypoint: every container names its
// command (queued, lookupd or manager, found on PATH=/usr/local/bin), as
// the sidecar injection and the managed Lookups do. It runs as
// 65532:65532 (nonroot in /etc/passwd), in /, with a /tmp the manager
// may write its webhook certificate to.
//
// It is a module of its own (hack/image/go.mod) so that
// go-containerregistry stays out of the product's go.mod. Usage, from the
// repository root: go -C hack/image run . [-version V] [-platforms ...]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const (
	// productModule is the module whose commands go into the image.
	productModule = "github.com/sidequeue/sidequeue"
	// versionVar is the variable -X sets (internal/version).
	versionVar = productModule + "/internal/version.Version"
	// versionFile holds the default version (const Default).
	versionFile = "internal/version/version.go"
	// repository is the image name (internal/version.Repository).
	repository = "sidequeue"
	// binDir is where the binaries are in the image.
	binDir = "usr/local/bin"
	// user is the uid:gid the image runs as (distroless's nonroot).
	user = "65532:65532"
)

// commands are the binaries in the image, by name under cmd/.
var commands = []string{"queued", "lookupd", "manager"}

func main() {
	var (
		root      = flag.String("root", "", "the repository root (found from the working directory when empty)")
		ver       = flag.String("version", "", "the version stamped into the binaries and the tag (internal/version's Default when empty)")
		platforms = flag.String("platforms", "linux/amd64", "comma-separated os/arch list (e.g. linux/amd64,linux/arm64); more than one makes an image index")
		out       = flag.String("out", "", "the tarball to write (<root>/bin/image/sidequeue-<version>.oci.tar when empty)")
	)
	flag.Parse()
	if err := run(*root, *ver, *platforms, *out); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(root, ver, platformList, out string) error {
	var err error
	if root == "" {
		if root, err = findRoot(); err != nil {
			return err
		}
	}
	if ver == "" {
		if ver, err = defaultVersion(root); err != nil {
			return err
		}
	}
	platforms, err := parsePlatforms(platformList)
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(root, "bin", "image", repository+"-"+ver+".oci.tar")
	}
	epoch, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "sidequeue-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	var bins []string
	for _, p := range platforms {
		dir := filepath.Join(work, p.OS+"-"+p.Architecture)
		if err := buildBinaries(root, ver, p, dir); err != nil {
			return err
		}
		bins = append(bins, dir)
	}
	digest, err := writeImage(out, ver, epoch, platforms, bins)
	if err != nil {
		return err
	}
	fmt.Printf("image %s:%s\ntarball %s\ndigest %s\n", repository, ver, out, digest)
	return nil
}

// findRoot walks up from the working directory to the product module's
// root (the go.mod that declares productModule).
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if m := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(b); m != nil && string(m[1]) == productModule {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory: use -root", productModule)
		}
		dir = parent
	}
}

// defaultVersion reads const Default from internal/version, the one place
// the version is written down.
func defaultVersion(root string) (string, error) {
	path := filepath.Join(root, versionFile)
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return "", err
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name != "Default" || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					return strconv.Unquote(lit.Value)
				}
			}
		}
	}
	return "", fmt.Errorf("%s: no const Default = \"...\"", path)
}

// tagPattern is what a version must look like to be an image tag
// (the distribution spec's tag grammar) and a -X value.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

func parsePlatforms(list string) ([]v1.Platform, error) {
	var ps []v1.Platform
	for _, s := range strings.Split(list, ",") {
		osName, arch, ok := strings.Cut(strings.TrimSpace(s), "/")
		if !ok || osName != "linux" || arch == "" {
			return nil, fmt.Errorf("platform %q: want linux/<arch>", s)
		}
		ps = append(ps, v1.Platform{OS: osName, Architecture: arch})
	}
	return ps, nil
}

// sourceDateEpoch is $SOURCE_DATE_EPOCH (reproducible-builds.org), else 0.
func sourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// buildBinaries compiles every command for p into dir.
func buildBinaries(root, ver string, p v1.Platform, dir string) error {
	if !tagPattern.MatchString(ver) {
		return fmt.Errorf("version %q: not usable as an image tag", ver)
	}
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	for _, name := range commands {
		cmd := exec.Command(goCmd, "build", "-trimpath", "-buildvcs=false",
			"-ldflags", "-s -w -X "+versionVar+"="+ver,
			"-o", filepath.Join(dir, name), "./cmd/"+name)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/%s for %s/%s: %w", name, p.OS, p.Architecture, err)
		}
	}
	return nil
}
