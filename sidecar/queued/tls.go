package queued

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// buildTLSConfig loads --tls-cert/--tls-key (and --tls-root-ca-file for
// client certificates), as nsqd does. No cert: no TLS.
func buildTLSConfig(o *Options) (*tls.Config, error) {
	if o.TLSCert == "" && o.TLSKey == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("load --tls-cert %s and --tls-key %s: %w", o.TLSCert, o.TLSKey, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.NoClientCert, MinVersion: o.TLSMinVersion}
	if o.TLSMinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS10
	}
	switch o.TLSClientAuthPolicy {
	case "require":
		cfg.ClientAuth = tls.RequireAnyClientCert
	case "require-verify":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case "":
	default:
		return nil, fmt.Errorf("--tls-client-auth-policy %q: use require or require-verify", o.TLSClientAuthPolicy)
	}
	if o.TLSRootCAFile != "" {
		pem, err := os.ReadFile(o.TLSRootCAFile)
		if err != nil {
			return nil, fmt.Errorf("read --tls-root-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-root-ca-file %s holds no PEM certificate", o.TLSRootCAFile)
		}
		cfg.ClientCAs = pool
	}
	return cfg, nil
}
