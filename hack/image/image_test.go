package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// testVersion is stamped with -X, to see that the flag reaches every binary.
const testVersion = "0.0.0-imagetest"

// testBinaries builds an image's commands for this machine, stamped
// testVersion, into a temporary directory; off Linux it skips the test.
func testBinaries(t *testing.T, image spec) (v1.Platform, string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the image's binaries are linux ones")
	}
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	bins := t.TempDir()
	if err := buildBinaries(image, root, testVersion, p, bins); err != nil {
		t.Fatal(err)
	}
	return p, bins
}

// TestImage builds the binaries once for this machine, assembles the image
// twice into different places (same digest), and checks the config and
// that each binary in the layer answers --version with testVersion.
func TestImage(t *testing.T) {
	p, bins := testBinaries(t, product)
	epoch := time.Unix(0, 0).UTC()
	out1 := filepath.Join(t.TempDir(), "a.tar")
	out2 := filepath.Join(t.TempDir(), "b", "image.tar")
	d1, err := writeImage(product, out1, testVersion, epoch, []v1.Platform{p}, []string{bins})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := writeImage(product, out2, testVersion, epoch, []v1.Platform{p}, []string{bins})
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Fatalf("built twice, two digests: %s, %s", d1, d2)
	}
	if !sameFile(t, out1, out2) {
		t.Fatal("built twice, the tarballs differ")
	}

	img := readImage(t, out1, d1)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" || c.WorkingDir != "/" || len(c.Entrypoint) != 0 || len(c.Cmd) != 0 {
		t.Errorf("config: User %q WorkingDir %q Entrypoint %q Cmd %q; want 65532:65532, /, none, none", c.User, c.WorkingDir, c.Entrypoint, c.Cmd)
	}
	if cf.OS != p.OS || cf.Architecture != p.Architecture || !cf.Created.Time.Equal(epoch) {
		t.Errorf("config: %s/%s created %v", cf.OS, cf.Architecture, cf.Created)
	}
	if v := c.Labels["org.opencontainers.image.version"]; v != testVersion {
		t.Errorf("label version %q, want %q", v, testVersion)
	}

	// Extract the layer and run each binary.
	rootfs := t.TempDir()
	names := layerFiles(t, img, rootfs, epoch)
	// Exactly these: no shell, nothing else.
	want := "etc/ etc/group etc/passwd tmp/ usr/ usr/local/ usr/local/bin/ usr/local/bin/lookupd usr/local/bin/manager usr/local/bin/queued"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("layer holds %s\nwant        %s", got, want)
	}
	for _, name := range product.commands {
		out, err := exec.Command(filepath.Join(rootfs, "usr/local/bin", name), "--version").CombinedOutput()
		if err != nil {
			t.Errorf("%s --version: %v: %s", name, err, out)
			continue
		}
		// The commit is stamped with -X (the build is -buildvcs=false).
		re := regexp.MustCompile(`^sidequeue ` + regexp.QuoteMeta(testVersion) + ` \(` + regexp.QuoteMeta(wantCommit(t)) + `\)\n$`)
		if !re.Match(out) {
			t.Errorf("%s --version printed %q, want %s", name, out, re)
		}
	}
}

// readImage reads the tarball back as an OCI layout whose index.json
// names one image, digest, tagged testVersion.
func readImage(t *testing.T, tarball string, digest v1.Hash) v1.Image {
	t.Helper()
	dir := t.TempDir()
	untar(t, tarball, dir)
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != digest {
		t.Fatalf("index.json names %+v, want one manifest %s", im.Manifests, digest)
	}
	if ref := im.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; ref != testVersion {
		t.Errorf("ref.name %q, want %q", ref, testVersion)
	}
	img, err := idx.Image(digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// layerFiles extracts the image's one layer into rootfs and returns the
// names it holds, in order, checking that each is dated epoch and owned
// by root.
func layerFiles(t *testing.T, img v1.Image, rootfs string, epoch time.Time) []string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v; want one", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var names []string
	extract(t, rc, rootfs, func(h *tar.Header) os.FileMode {
		names = append(names, h.Name)
		if !h.ModTime.Equal(epoch) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: mtime %v, owner %d:%d; want %v, 0:0", h.Name, h.ModTime, h.Uid, h.Gid, epoch)
		}
		return os.FileMode(h.Mode) & 0o777
	})
	return names
}

// The end-to-end apps' image: its own name, the two apps and nothing
// else, each of which runs (-h: its usage, exit 0).
func TestE2EImage(t *testing.T) {
	p, bins := testBinaries(t, e2e)
	epoch := time.Unix(0, 0).UTC()
	out := filepath.Join(t.TempDir(), "e2e.tar")
	d, err := writeImage(e2e, out, testVersion, epoch, []v1.Platform{p}, []string{bins})
	if err != nil {
		t.Fatal(err)
	}
	img := readImage(t, out, d)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if title := cf.Config.Labels["org.opencontainers.image.title"]; title != "sidequeue-e2e" || cf.Config.User != "65532:65532" {
		t.Errorf("title %q, user %q", title, cf.Config.User)
	}
	rootfs := t.TempDir()
	want := "etc/ etc/group etc/passwd tmp/ usr/ usr/local/ usr/local/bin/ usr/local/bin/consumer usr/local/bin/publisher"
	if got := strings.Join(layerFiles(t, img, rootfs, epoch), " "); got != want {
		t.Errorf("layer holds %s\nwant        %s", got, want)
	}
	for _, name := range e2e.commands {
		if out, err := exec.Command(filepath.Join(rootfs, "usr/local/bin", name), "-h").CombinedOutput(); err != nil {
			t.Errorf("%s -h: %v: %s", name, err, out)
		}
	}
}

func TestDefaultVersion(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	v, err := defaultVersion(root)
	if err != nil {
		t.Fatal(err)
	}
	if !tagPattern.MatchString(v) {
		t.Fatalf("internal/version Default %q is no image tag", v)
	}
}

func TestSourceDateEpoch(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	if e, err := sourceDateEpoch(); err != nil || e.Unix() != 0 {
		t.Fatalf("unset: %v, %v; want 1970", e, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if e, err := sourceDateEpoch(); err != nil || e.Unix() != 1700000000 {
		t.Fatalf("set: %v, %v", e, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := sourceDateEpoch(); err == nil {
		t.Fatal("a bad SOURCE_DATE_EPOCH is accepted")
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(x) == string(y)
}

func untar(t *testing.T, path, dir string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	extract(t, f, dir, func(*tar.Header) os.FileMode { return 0o644 })
}

// extract writes the tar stream r under dir, each file with the mode
// perm gives its header (which may also check the header).
func extract(t *testing.T, r io.Reader, dir string, perm func(*tar.Header) os.FileMode) {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		mode := perm(h)
		target := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, b, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// wantCommit is the commit the binaries of this tree say they are from.
func wantCommit(t *testing.T) string {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	if c := sourceCommit(root); c != "" {
		return c
	}
	return "unknown"
}
