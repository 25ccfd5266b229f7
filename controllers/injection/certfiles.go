package injection

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// certFiles copies the serving certificate from the self-managed Secret
// into the cert dir whenever the Secret changes, as a kubelet would if the
// Secret were mounted there, but at once and out of cluster too.
type certFiles struct {
	reader client.Reader
	key    types.NamespacedName
	dir    string
}

// certFileNames are the Secret's keys copied, and the files' names.
var certFileNames = []string{"tls.crt", "tls.key"}

// addCertFiles runs certFiles on every replica, on a cache of the one
// Secret (the manager's cache would watch every Secret in the cluster).
func addCertFiles(mgr ctrl.Manager, key types.NamespacedName, dir string) error {
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		DefaultNamespaces: map[string]cache.Config{key.Namespace: {}},
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Field: fields.OneTermEqualSelector("metadata.name", key.Name)},
		},
	})
	if err != nil {
		return err
	}
	if err := mgr.Add(everyReplica{c}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).Named("webhook-cert-files").
		WatchesRawSource(source.Kind(c, &corev1.Secret{}, &handler.TypedEnqueueRequestForObject[*corev1.Secret]{})).
		WithOptions(controller.Options{NeedLeaderElection: ptr.To(false)}).
		Complete(&certFiles{reader: c, key: key, dir: dir})
}

// everyReplica runs a cache whether or not this replica leads.
type everyReplica struct{ cache.Cache }

func (everyReplica) NeedLeaderElection() bool { return false }

func (r *certFiles) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	s := &corev1.Secret{}
	if err := r.reader.Get(ctx, r.key, s); err != nil {
		// Gone: keep serving what the files hold.
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	files := map[string][]byte{}
	for _, name := range certFileNames {
		files[name] = s.Data[name]
	}
	if _, err := tls.X509KeyPair(files["tls.crt"], files["tls.key"]); err != nil {
		// Not filled yet, or half written: the next change completes it.
		ctrl.LoggerFrom(ctx).V(1).Info("webhook Secret holds no usable certificate yet", "reason", err.Error())
		return reconcile.Result{}, nil
	}
	if unchanged(r.dir, files) {
		return reconcile.Result{}, nil
	}
	if err := writeAtomically(r.dir, files); err != nil {
		return reconcile.Result{}, fmt.Errorf("writing the webhook certificate to %s: %w", r.dir, err)
	}
	ctrl.LoggerFrom(ctx).Info("webhook certificate written", "dir", r.dir)
	return reconcile.Result{}, nil
}

func unchanged(dir string, files map[string][]byte) bool {
	for name, data := range files {
		if old, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(old, data) {
			return false
		}
	}
	return true
}

// dataLink is the link to the current generation of files, as in the
// kubelet's Secret volumes: every file is a link through it, so switching
// it switches the certificate and its key together, and a reader never
// sees one without the other.
const dataLink = "..data"

// writeAtomically writes files into a new directory in dir and points
// dataLink at it, then removes the previous generation, which is also what
// tells certwatcher (its watch on the old files ends) to reload.
func writeAtomically(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	gen, err := os.MkdirTemp(dir, "..gen-")
	if err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(gen, name), data, 0o600); err != nil {
			os.RemoveAll(gen)
			return err
		}
	}
	previous, _ := os.Readlink(filepath.Join(dir, dataLink))
	if err := replaceLink(filepath.Join(dir, dataLink), filepath.Base(gen)); err != nil {
		os.RemoveAll(gen)
		return err
	}
	for name := range files {
		target := filepath.Join(dataLink, name)
		if cur, err := os.Readlink(filepath.Join(dir, name)); err == nil && cur == target {
			continue
		}
		if err := replaceLink(filepath.Join(dir, name), target); err != nil {
			return err
		}
	}
	if strings.HasPrefix(previous, "..gen-") && !strings.ContainsRune(previous, os.PathSeparator) {
		return os.RemoveAll(filepath.Join(dir, previous))
	}
	return nil
}

// replaceLink makes path a symbolic link to target, atomically.
func replaceLink(path, target string) error {
	tmp := path + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
