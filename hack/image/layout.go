package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image itself: its layer, config and OCI layout tarball, all of
// fixed content for fixed inputs.

// writeImage assembles one image per platform from the binaries in
// bins[i] for platforms[i], writes the OCI layout tarball to out and returns the
// digest of what its index.json names: the image manifest for one
// platform, the image index for several.
func writeImage(s spec, out, ver string, epoch time.Time, platforms []v1.Platform, bins []string) (v1.Hash, error) {
	var top mutate.Appendable
	var images []mutate.IndexAddendum
	for i, p := range platforms {
		img, err := platformImage(s, ver, epoch, p, bins[i])
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
		"io.containerd.image.name":          "docker.io/library/" + s.repository + ":" + ver,
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
func platformImage(s spec, ver string, epoch time.Time, p v1.Platform, bins string) (v1.Image, error) {
	layerTar, err := rootfs(s, bins, epoch)
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
		History:   v1.History{Created: created, CreatedBy: "hack/image: /" + binDir + "/{" + strings.Join(s.commands, ",") + "}", Comment: "sidequeue " + ver},
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
		Env:        []string{"PATH=/" + binDir},
		Labels: map[string]string{
			"org.opencontainers.image.title":       s.repository,
			"org.opencontainers.image.description": s.description,
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
func rootfs(s spec, bins string, epoch time.Time) ([]byte, error) {
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
	for _, name := range s.commands {
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
