package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// LoadTLS builds the TLS configuration of a server from PEM files: the
// certificate chain, its key (decrypted with password when it is an
// encrypted PEM block), and, when caCerts is set, the CAs that client
// certificates must chain to (mutual TLS: a client without a valid
// certificate is refused). TLS 1.2 is the minimum; ALPN offers h2 and
// http/1.1.
func LoadTLS(certFile, keyFile, password, caCerts string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("databridge: TLS needs both ssl_certfile and ssl_keyfile")
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("databridge: ssl_certfile: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("databridge: ssl_keyfile: %w", err)
	}
	if password != "" {
		if keyPEM, err = decryptKey(keyPEM, password); err != nil {
			return nil, err
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil && password != "" {
		// Legacy PEM encryption has no integrity check: a wrong password
		// passes the padding check now and then (about 1 in 256) and
		// yields garbage that only the key parse refuses.
		return nil, fmt.Errorf("databridge: ssl_keyfile: cannot decrypt the key (wrong ssl_keyfile_password?): %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("databridge: TLS certificate and key: %w", err)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	if caCerts != "" {
		pem, err := os.ReadFile(caCerts)
		if err != nil {
			return nil, fmt.Errorf("databridge: ssl_ca_certs: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("databridge: ssl_ca_certs: no PEM certificate in %s", caCerts)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
