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
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
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

// writeImage assembles one image per platform from the binaries in
// bins[i] for platforms[i], writes the OCI layout tarball to out and returns the
// digest of what its index.json names: the image manifest for one
// platform, the image index for several.
func writeImage(out, ver string, epoch time.Time, platforms []v1.Platform, bins []string) (v1.Hash, error) {
	var top mutate.Appendable
	var images []mutate.IndexAddendum
	for i, p := range platforms {
		img, err := platformImage(ver, epoch, p, bins[i])
		if err != nil {
			return v1.Hash{}, err
		}
		images = append(images, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Architecture}}})
	}
	if len(images) == 1 {
		top = images[0].Add
	} else {
		top = mutate.IndexMediaType(mutate.AppendManifests(empty.Index, images...), types.OCIImageIndex)
	}

	dir, err := os.MkdirTemp("", "sidequeue-layout-")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.RemoveAll(dir)
	path, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, err
	}
	// ref.name is the OCI layout's tag; containerd (docker load, ctr,
	// nerdctl) reads the whole name from io.containerd.image.name.
	refs := layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": ver,
		"io.containerd.image.name":          "docker.io/library/" + repository + ":" + ver,
	})
	var digest v1.Hash
	switch t := top.(type) {
	case v1.Image:
		err = path.AppendImage(t, refs)
		if err == nil {
			digest, err = t.Digest()
		}
	case v1.ImageIndex:
		err = path.AppendIndex(t, refs)
		if err == nil {
			digest, err = t.Digest()
		}
	}
	if err != nil {
		return v1.Hash{}, err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return v1.Hash{}, err
	}
	return digest, tarDir(dir, out, epoch)
}

// platformImage is the image for one platform: one layer, the config.
func platformImage(ver string, epoch time.Time, p v1.Platform, bins string) (v1.Image, error) {
	layerTar, err := rootfs(bins, epoch)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.DefaultCompression), tarball.WithCompressedCaching)
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	created := v1.Time{Time: epoch}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: created, CreatedBy: "hack/image: /usr/local/bin/{" + strings.Join(commands, ",") + "}", Comment: "sidequeue " + ver},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = p.OS, p.Architecture, created
	cf.Config = v1.Config{
		User:       user,
		WorkingDir: "/",
		Env:        []string{"PATH=/usr/local/bin"},
		Labels: map[string]string{
			"org.opencontainers.image.title":       repository,
			"org.opencontainers.image.description": "NSQ-compatible messaging, native to Kubernetes: queued, lookupd and manager in /usr/local/bin",
			"org.opencontainers.image.version":     ver,
			"org.opencontainers.image.source":      "https://" + productModule,
			"org.opencontainers.image.url":         "https://" + productModule,
		},
	}
	return mutate.ConfigFile(img, cf)
}

// Files besides the binaries: the nonroot user of distroless, so that
// 65532 has a name, and a /tmp.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n"
	group  = "root:x:0:\nnonroot:x:65532:\n"
)

// rootfs is the layer's uncompressed tar: directories, then files, in
// name order, all owned by 0:0 and dated epoch. The Dockerfile's
// rootfs stage makes the same tree.
func rootfs(bins string, epoch time.Time) ([]byte, error) {
	type entry struct {
		name string
		mode int64
		body []byte // nil for a directory
	}
	entries := []entry{
		{"etc/", 0o755, nil},
		{"etc/group", 0o644, []byte(group)},
		{"etc/passwd", 0o644, []byte(passwd)},
		{"tmp/", 0o1777, nil},
		{"usr/", 0o755, nil},
		{"usr/local/", 0o755, nil},
		{binDir + "/", 0o755, nil},
	}
	for _, name := range commands {
		b, err := os.ReadFile(filepath.Join(bins, name))
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{binDir + "/" + name, 0o755, b})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: epoch, Format: tar.FormatPAX}
		if e.body == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tarDir writes the layout directory dir as a tarball (an "oci-archive",
// as podman and skopeo call it): sorted names, 0:0, dated epoch. It
// writes a temporary file and renames it, so out is whole or absent.
func tarDir(dir, out string, epoch time.Time) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			rel += "/"
		}
		names = append(names, rel)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	f, err := os.CreateTemp(filepath.Dir(out), ".image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	tw := tar.NewWriter(f)
	for _, name := range names {
		h := &tar.Header{Name: name, ModTime: epoch, Format: tar.FormatPAX}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
			err = tw.WriteHeader(h)
		} else {
			err = copyFile(tw, h, filepath.Join(dir, filepath.FromSlash(name)))
		}
		if err != nil {
			f.Close()
			return err
		}
	}
	if err := errors.Join(tw.Close(), f.Chmod(0o644), f.Close()); err != nil {
		return err
	}
	return os.Rename(f.Name(), out)
}

func copyFile(tw *tar.Writer, h *tar.Header, path string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return err
	}
	h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, st.Size()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err = io.Copy(tw, src)
	return err
}
