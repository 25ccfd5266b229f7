// Command pause writes the dev cluster's pod sandbox ("pause") image as a
// docker-archive tarball that `ctr images import` reads: one static binary,
// /pause, built from ./proc, on an empty base. hack/cluster/up.sh imports it
// under the name containerd's sandbox_image names, so containerd never pulls
// one (the machines reach no registry).
//
// Usage, from the repository root:
//
//	go -C hack/image run ./pause -out bin/cluster-bin/pause.tar -name localhost/sidequeue/pause:1
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	out := flag.String("out", "", "the image tarball to write")
	ref := flag.String("name", "localhost/sidequeue/pause:1", "the image's name (containerd's sandbox_image)")
	flag.Parse()
	if err := run(*out, *ref); err != nil {
		fmt.Fprintln(os.Stderr, "pause:", err)
		os.Exit(1)
	}
}

func run(out, ref string) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "pause-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "pause")
	// The directory of this source file's package, wherever go run was
	// started: ./proc relative to the module's pause/ directory.
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./pause/proc")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the pause process: %w", err)
	}
	layerTar, err := tarOf(bin)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	// containerd imports only the host's platform: the config must say it.
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config = v1.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := tarball.WriteToFile(out, tag, img); err != nil {
		return err
	}
	fmt.Printf("image %s\ntarball %s\n", tag.Name(), out)
	return nil
}

// tarOf is a layer holding the file at path as /pause, mode 0755, root's,
// dated 1970 so that the image is the same on every build.
func tarOf(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "pause", Mode: 0o755, Size: int64(len(b)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(b); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
