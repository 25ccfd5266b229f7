package install

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// cert-manager mode, installed: no cert-manager runs here, so the test
// plays its parts from what the chart asks of it: its CRDs (schemaless
// stand-ins for Issuer and Certificate), the serving Certificate's Secret
// (a CA and a certificate for the Certificate's dnsNames), the CA injector
// (the caBundle from the Certificate that inject-ca-from names), and the
// kubelet's mount of that Secret into the manager's cert dir. The manager
// runs with the chart's args (--webhook-cert-mode=external) and the RBAC
// of this mode (no Secrets, no webhook configuration), and injects.
func installCertManagerMode(t *testing.T, hookPort int, kubeconfig, shop string) {
	t.Helper()
	standInCertManagerCRDs(t)
	vals := values("webhook.certMode", "cert-manager", "webhook.port", hookPort,
		"webhook.url", fmt.Sprintf("https://localhost:%d/inject-pod", hookPort))
	r := releaseObjects(t, helmInstall(t, vals))
	hook := r.find(t, "MutatingWebhookConfiguration", "sidequeue-injector")
	certRef := hook.GetAnnotations()["cert-manager.io/inject-ca-from"]
	ns, name, _ := strings.Cut(certRef, "/")
	cert := &unstructured.Unstructured{}
	cert.SetAPIVersion("cert-manager.io/v1")
	cert.SetKind("Certificate")
	must(t, k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, cert))
	c := obj{cert.Object}
	files := issue(t, c.strs("spec.dnsNames"))
	must(t, k8s.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: c.str("spec.secretName")},
		Type:       corev1.SecretTypeTLS, Data: files}))
	injectCA(t, files["ca.crt"])
	certDir := t.TempDir()
	for f, b := range files {
		must(t, os.WriteFile(filepath.Join(certDir, f), b, 0o600))
	}
	m := startManager(t, r.find(t, "Deployment", "sidequeue-manager"), hookPort, kubeconfig, certDir)
	m.waitReady(t)
	assertInjected(t, shop, "cert-manager-mode")
	m.stop()
	readAudit(t) // fails t for any request this mode's RBAC denied
}

// standInCertManagerCRDs serves cert-manager.io/v1 Issuer and Certificate,
// without schema, so the chart's objects can be created.
func standInCertManagerCRDs(t *testing.T) {
	t.Helper()
	for _, kind := range []string{"Issuer", "Certificate"} {
		plural := strings.ToLower(kind) + "s"
		preserve := true
		crd := &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: plural + ".cert-manager.io"},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{
				Group: "cert-manager.io", Scope: apiextensionsv1.NamespaceScoped,
				Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, ListKind: kind + "List", Plural: plural, Singular: strings.ToLower(kind)},
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
						Type: "object", XPreserveUnknownFields: &preserve}}}},
			},
		}
		if err := k8s.Create(context.Background(), crd); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		must(t, waitEstablished(context.Background(), crd.Name))
	}
}

// injectCA does what cert-manager's CA injector does for the chart's
// annotation: every entry's caBundle is the CA.
func injectCA(t *testing.T, ca []byte) {
	t.Helper()
	within(t, "the caBundle injected", func() bool {
		var c admissionregistrationv1.MutatingWebhookConfiguration
		must(t, k8s.Get(context.Background(), client.ObjectKey{Name: "sidequeue-injector"}, &c))
		for i := range c.Webhooks {
			c.Webhooks[i].ClientConfig.CABundle = ca
		}
		return k8s.Update(context.Background(), &c) == nil
	})
}

// issue makes a CA and a serving certificate for names signed by it, as
// the files of a cert-manager Secret: ca.crt, tls.crt, tls.key.
func issue(t *testing.T, names []string) map[string][]byte {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caTmpl, &key.PublicKey, caKey)
	must(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	must(t, err)
	return map[string][]byte{
		"ca.crt":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
}
