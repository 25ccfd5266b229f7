package injection_test

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sidequeue/sidequeue/controllers/injection"
	"github.com/sidequeue/sidequeue/internal/testenv"
)

// External certificates: whatever tls.crt and tls.key the cert dir holds
// is served, from the moment it is there, and a new pair replaces it
// without a restart. /readyz fails until a certificate valid now is served.
func TestExternalCertificates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	probe, err := freeAddr()
	must(t, err)
	stop, err := startManager(injection.Options{Host: "127.0.0.1", Port: port, CertDir: dir, CertMode: injection.External}, probe)
	must(t, err)
	defer stop()

	testenv.Within(t, settle, "the manager's probes to answer", func() bool { return readyz(probe) != 0 })
	if code := readyz(probe); code == http.StatusOK {
		t.Fatal("ready with no certificate in the cert dir")
	}

	ca, caKey := newCA(t)
	servedNow := func() []byte {
		return dial(t, port, &tls.Config{InsecureSkipVerify: true}).Raw //nolint:gosec // compared, not trusted
	}
	for i, notAfter := range []time.Time{time.Now().Add(time.Hour), time.Now().Add(2 * time.Hour)} {
		crt, key := issue(t, ca, caKey, notAfter, "localhost")
		writeCertFiles(t, dir, crt, key)
		testenv.Within(t, settle, "certificate "+strconv.Itoa(i)+" to be served", func() bool {
			return readyz(probe) == http.StatusOK && bytes.Equal(servedNow(), pemBlock(t, crt))
		})
	}
	expired, key := issue(t, ca, caKey, time.Now().Add(-time.Minute), "localhost")
	writeCertFiles(t, dir, expired, key)
	testenv.Within(t, settle, "an expired certificate to make the manager unready", func() bool {
		return bytes.Equal(servedNow(), pemBlock(t, expired)) && readyz(probe) != http.StatusOK
	})
}

// writeCertFiles replaces the pair as a mounted Secret would: each file
// whole, by renaming.
func writeCertFiles(t testing.TB, dir string, crt, key []byte) {
	t.Helper()
	for name, data := range map[string][]byte{"tls.key": key, "tls.crt": crt} {
		tmp := filepath.Join(dir, "."+name)
		must(t, os.WriteFile(tmp, data, 0o600))
		must(t, os.Rename(tmp, filepath.Join(dir, name)))
	}
}
