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
//
// -image sidequeue-e2e builds, the same way, the end-to-end tests' apps
// (test/e2e/cmd: publisher and consumer) into bin/images/, where the test
// cluster imports image tarballs from; the product's image is unchanged.
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
	// versionVar and commitVar are the variables -X sets (internal/version).
	versionVar = productModule + "/internal/version.Version"
	commitVar  = productModule + "/internal/version.StampedCommit"
	// versionFile holds the default version (const Default).
	versionFile = "internal/version/version.go"
	// binDir is where the binaries are in the image.
	binDir = "usr/local/bin"
	// user is the uid:gid the image runs as (distroless's nonroot).
	user = "65532:65532"
)

// spec is one image this tool builds.
type spec struct {
	// repository is the image's name.
	repository string
	// commands are its binaries, each built from the package of the same
	// index in packages (relative to the root).
	commands, packages []string
	// description is its org.opencontainers.image.description label.
	description string
	// outDir is where its tarball goes by default, under the root (or
	// absolute).
	outDir string
}

// product is sidequeue's image; its repository is
// internal/version.Repository.
var product = spec{
	repository:  "sidequeue",
	commands:    []string{"queued", "lookupd", "manager"},
	packages:    []string{"./cmd/queued", "./cmd/lookupd", "./cmd/manager"},
	description: "NSQ-compatible messaging, native to Kubernetes: queued, lookupd and manager in /usr/local/bin",
	outDir:      "bin/image",
}

// e2e is the end-to-end tests' apps (test/e2e/cmd), in the directory the
// test cluster imports every image tarball from (hack/cluster). It is not
// the product: nothing of it ships.
var e2e = spec{
	repository:  "sidequeue-e2e",
	commands:    []string{"publisher", "consumer"},
	packages:    []string{"./test/e2e/cmd/publisher", "./test/e2e/cmd/consumer"},
	description: "sidequeue's end-to-end test apps: publisher and consumer in /usr/local/bin",
	outDir:      "bin/images",
}

// specs are the images -image may name.
var specs = map[string]spec{product.repository: product, e2e.repository: e2e}

func main() {
	var (
		root      = flag.String("root", "", "the repository root (found from the working directory when empty)")
		ver       = flag.String("version", "", "the version stamped into the binaries and the tag (internal/version's Default when empty)")
		platforms = flag.String("platforms", "linux/amd64", "comma-separated os/arch list (e.g. linux/amd64,linux/arm64); more than one makes an image index")
		out       = flag.String("out", "", "the tarball to write (<root>/bin/image/sidequeue-<version>.oci.tar when empty; bin/images/ for sidequeue-e2e)")
		dir       = flag.String("dir", "", "the directory of the tarball, named <image>-<version>.oci.tar, when -out is empty (bin/image/, or bin/images/ for sidequeue-e2e, when empty)")
		image     = flag.String("image", product.repository, "the image to build: sidequeue (the product) or sidequeue-e2e (the end-to-end tests' apps)")
	)
	flag.Parse()
	s, ok := specs[*image]
	if !ok {
		fmt.Fprintf(os.Stderr, "image: -image %q: want %s or %s\n", *image, product.repository, e2e.repository)
		os.Exit(2)
	}
	if *dir != "" {
		s.outDir = *dir
	}
	if err := run(s, *root, *ver, *platforms, *out); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(s spec, root, ver, platformList, out string) error {
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
		dir := filepath.FromSlash(s.outDir)
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(root, dir)
		}
		out = filepath.Join(dir, s.repository+"-"+ver+".oci.tar")
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
		if err := buildBinaries(s, root, ver, p, dir); err != nil {
			return err
		}
		bins = append(bins, dir)
	}
	digest, err := writeImage(s, out, ver, epoch, platforms, bins)
	if err != nil {
		return err
	}
	fmt.Printf("image %s:%s\ntarball %s\ndigest %s\n", s.repository, ver, out, digest)
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

// buildBinaries compiles every command of s for p into dir.
func buildBinaries(s spec, root, ver string, p v1.Platform, dir string) error {
	if !tagPattern.MatchString(ver) {
		return fmt.Errorf("version %q: not usable as an image tag", ver)
	}
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	ldflags := "-s -w -X " + versionVar + "=" + ver
	if commit := sourceCommit(root); commit != "" {
		ldflags += " -X " + commitVar + "=" + commit
	}
	for i, name := range s.commands {
		cmd := exec.Command(goCmd, "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags,
			"-o", filepath.Join(dir, name), s.packages[i])
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build %s for %s/%s: %w", s.packages[i], p.OS, p.Architecture, err)
		}
	}
	return nil
}

// sourceCommit is root's git commit as internal/version shows it (seven
// digits, "+dirty" with uncommitted changes), or "" outside a git tree.
func sourceCommit(root string) string {
	rev, err := exec.Command("git", "-C", root, "rev-parse", "--short=7", "HEAD").Output()
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(rev))
	if status, err := exec.Command("git", "-C", root, "status", "--porcelain").Output(); err != nil || len(status) > 0 {
		commit += "+dirty"
	}
	return commit
}
