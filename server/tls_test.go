package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPKI is a CA made for one test, a server certificate for 127.0.0.1
// and localhost and a client certificate, both signed by the CA, as PEM
// files in a temporary directory.
type testPKI struct {
	dir                 string
	caFile              string // the CA certificate
	certFile, keyFile   string // the server's
	clientCert          tls.Certificate
	clientFile, clientK string // the client's, as files
	pool                *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{dir: dir, pool: x509.NewCertPool()}
	now := time.Now()

	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "databridge test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p.pool.AddCert(ca)
	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)

	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP, names []string) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
			DNSNames:     names,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	srvDER, srvKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)}, []string{"localhost"})
	p.certFile = writePEM(t, dir, "server.pem", "CERTIFICATE", srvDER)
	p.keyFile = writePEM(t, dir, "server.key", "EC PRIVATE KEY", marshalKey(t, srvKey))

	cliDER, cliKey := issue(3, "databridge test client", x509.ExtKeyUsageClientAuth, nil, nil)
	p.clientFile = writePEM(t, dir, "client.pem", "CERTIFICATE", cliDER)
	p.clientK = writePEM(t, dir, "client.key", "EC PRIVATE KEY", marshalKey(t, cliKey))
	p.clientCert, err = tls.LoadX509KeyPair(p.clientFile, p.clientK)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func marshalKey(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// clientTLS is a client configuration trusting the test CA.
func (p *testPKI) clientTLS(protos ...string) *tls.Config {
	return &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1", NextProtos: protos}
}

func TestLoadTLS(t *testing.T) {
	p := newTestPKI(t)
	cfg, err := LoadTLS(p.certFile, p.keyFile, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x, want TLS 1.2", cfg.MinVersion)
	}
	if strings.Join(cfg.NextProtos, ",") != "h2,http/1.1" {
		t.Errorf("NextProtos %q", cfg.NextProtos)
	}
	if len(cfg.Certificates) != 1 || cfg.ClientCAs != nil || cfg.ClientAuth != tls.NoClientCert {
		t.Errorf("certificates %d, client CAs %v, client auth %v", len(cfg.Certificates), cfg.ClientCAs, cfg.ClientAuth)
	}

	mtls, err := LoadTLS(p.certFile, p.keyFile, "", p.caFile)
	if err != nil {
		t.Fatal(err)
	}
	if mtls.ClientCAs == nil || mtls.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("with ssl_ca_certs: client CAs %v, client auth %v", mtls.ClientCAs, mtls.ClientAuth)
	}
}

// TestLoadTLSEncryptedKey: a legacy encrypted PEM key (what
// `openssl genrsa -aes256` writes) loads with its password.
func TestLoadTLSEncryptedKey(t *testing.T) {
	p := newTestPKI(t)
	keyPEM, err := os.ReadFile(p.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(keyPEM)
	//lint:ignore SA1019 legacy PEM encryption is what ssl_keyfile_password reads
	enc, err := x509.EncryptPEMBlock(rand.Reader, block.Type, block.Bytes, []byte("s3cret"), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		t.Fatal(err)
	}
	encFile := filepath.Join(p.dir, "server-enc.key")
	if err := os.WriteFile(encFile, pem.EncodeToMemory(enc), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg, err := LoadTLS(p.certFile, encFile, "s3cret", "")
	if err != nil {
		t.Fatal(err)
	}
	// The decrypted key serves: a handshake with it succeeds.
	addr, _ := startH2TLS(t, echoHandler, Config{}, cfg)
	resp, err := h2TLSClient(p).Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Errorf("status %d over HTTP/%d", resp.StatusCode, resp.ProtoMajor)
	}

	pkcs8 := writePEM(t, p.dir, "pkcs8.key", "ENCRYPTED PRIVATE KEY", []byte{0x30, 0})
	tests := []struct {
		name, key, password, want string
	}{
		{"wrong password", encFile, "nope", "databridge: ssl_keyfile: cannot decrypt the key"},
		{"no password", encFile, "", "databridge: TLS certificate and key"},
		{"password for a plain key", p.keyFile, "s3cret", "databridge: ssl_keyfile_password given, but the key is not encrypted"},
		{"encrypted PKCS#8", pkcs8, "s3cret", "databridge: ssl_keyfile is an encrypted PKCS#8 key"},
		{"missing key", filepath.Join(p.dir, "missing.key"), "", "databridge: ssl_keyfile: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadTLS(p.certFile, tt.key, tt.password, "")
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestLoadTLSErrors(t *testing.T) {
	p := newTestPKI(t)
	tests := []struct {
		name, cert, key, ca, want string
	}{
		{"no key", p.certFile, "", "", "databridge: TLS needs both ssl_certfile and ssl_keyfile"},
		{"no cert", "", p.keyFile, "", "databridge: TLS needs both ssl_certfile and ssl_keyfile"},
		{"missing cert", filepath.Join(p.dir, "missing.pem"), p.keyFile, "", "databridge: ssl_certfile: "},
		{"key for another cert", p.certFile, p.clientK, "", "databridge: TLS certificate and key: "},
		{"missing CA file", p.certFile, p.keyFile, filepath.Join(p.dir, "missing-ca.pem"), "databridge: ssl_ca_certs: "},
		{"CA file without certificate", p.certFile, p.keyFile, p.keyFile, "databridge: ssl_ca_certs: no PEM certificate in "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadTLS(tt.cert, tt.key, "", tt.ca)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %v, want prefix %q", err, tt.want)
			}
		})
	}
}

// TestTLSMinVersion: a client that speaks at most TLS 1.1 is refused in
// the handshake; TLS 1.2 and 1.3 clients get h2.
func TestTLSMinVersion(t *testing.T) {
	p := newTestPKI(t)
	cfg, err := LoadTLS(p.certFile, p.keyFile, "", "")
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := startH2TLS(t, echoHandler, Config{}, cfg)

	old := p.clientTLS("h2")
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, old); err == nil {
		c.Close()
		t.Fatal("TLS 1.1 handshake succeeded")
	}

	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cc := p.clientTLS("h2")
		cc.MinVersion, cc.MaxVersion = v, v
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cc)
		if err != nil {
			t.Fatalf("TLS %x: %v", v, err)
		}
		st := c.ConnectionState()
		c.Close()
		if st.Version != v || st.NegotiatedProtocol != "h2" {
			t.Errorf("TLS %x: version %x, ALPN %q", v, st.Version, st.NegotiatedProtocol)
		}
	}
}

// TestMTLS: with ssl_ca_certs, a client without a certificate is refused
// and one with a certificate signed by the CA is served; the handler sees
// the client's certificate.
func TestMTLS(t *testing.T) {
	p := newTestPKI(t)
	cfg, err := LoadTLS(p.certFile, p.keyFile, "", p.caFile)
	if err != nil {
		t.Fatal(err)
	}
	peers := make(chan []string, 1)
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		var names []string
		if r.TLS != nil {
			for _, c := range r.TLS.PeerCertificates {
				names = append(names, c.Subject.CommonName)
			}
		}
		peers <- names
		w.Send(200, []byte(r.Scheme()))
	})
	addr, _ := startH2TLS(t, h, Config{}, cfg)

	// Without a certificate: TLS 1.3 completes the client's side of the
	// handshake before the server checks, so the refusal can come with
	// the first read; either way the request fails.
	noCert := h2TLSClient(p)
	if resp, err := noCert.Get("https://" + addr + "/"); err == nil {
		resp.Body.Close()
		t.Fatalf("request without a client certificate: %d", resp.StatusCode)
	}
	// A certificate that the CA did not sign is refused too.
	other := newTestPKI(t)
	wrong := h2TLSClient(p)
	wrong.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{other.clientCert}
	if resp, err := wrong.Get("https://" + addr + "/"); err == nil {
		resp.Body.Close()
		t.Fatalf("request with a foreign client certificate: %d", resp.StatusCode)
	}

	withCert := h2TLSClient(p)
	withCert.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{p.clientCert}
	resp, err := withCert.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || string(body) != "https" {
		t.Fatalf("with a client certificate: %d over HTTP/%d, %q", resp.StatusCode, resp.ProtoMajor, body)
	}
	select {
	case names := <-peers:
		if len(names) != 1 || names[0] != "databridge test client" {
			t.Errorf("handler saw peer certificates %q", names)
		}
	default:
		t.Error("handler not called")
	}
}

// TestTLSHandshakeState: what the engine's Request shows of the TLS
// connection through the HTTP/2 front.
func TestTLSHandshakeState(t *testing.T) {
	p := newTestPKI(t)
	cfg, err := LoadTLS(p.certFile, p.keyFile, "", "")
	if err != nil {
		t.Fatal(err)
	}
	states := make(chan tls.ConnectionState, 1)
	h := HandlerFunc(func(w ResponseWriter, r *Request) {
		if r.TLS != nil {
			states <- *r.TLS
		}
		w.Send(204, nil)
	})
	addr, _ := startH2TLS(t, h, Config{}, cfg)
	c := h2TLSClient(p)
	c.Transport.(*http.Transport).TLSClientConfig.ServerName = "localhost"
	resp, err := c.Get("https://localhost:" + portOf(addr) + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case st := <-states:
		if !st.HandshakeComplete || st.NegotiatedProtocol != "h2" || st.Version < tls.VersionTLS12 || st.ServerName != "localhost" {
			t.Errorf("TLS state: complete %v, ALPN %q, version %x, SNI %q", st.HandshakeComplete, st.NegotiatedProtocol, st.Version, st.ServerName)
		}
	default:
		t.Fatal("handler saw no TLS state")
	}
}

// startH2TLS serves h2 over TLS the way the HTTP/1.1 front hands
// connections over: TLS handshake, then serveConn when ALPN chose "h2"
// (others are closed here). It returns the address and the front; the
// front is shut down at the end of the test.
func startH2TLS(t *testing.T, h Handler, cfg Config, tlsCfg *tls.Config) (string, *h2front) {
	t.Helper()
	f := newH2Front(h, cfg)
	ln := listen(t, f)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				tc := tls.Server(c, tlsCfg)
				tc.SetDeadline(time.Now().Add(5 * time.Second))
				if err := tc.Handshake(); err != nil || tc.ConnectionState().NegotiatedProtocol != "h2" {
					tc.Close()
					return
				}
				tc.SetDeadline(time.Time{})
				f.serveConn(tc, nil)
			}()
		}
	}()
	return ln.Addr().String(), f
}

// listen opens a loopback listener closed, with f shut down, at the end
// of the test.
func listen(t *testing.T, f *h2front) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ln.Close()
		f.closeIdle() // spares the second that a GOAWAY'd idle connection lingers
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := f.shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("shutdown: %v", err)
		}
	})
	return ln
}

// h2TLSClient is an http.Client that trusts the test CA and asks for h2.
func h2TLSClient(p *testPKI) *http.Client {
	tr := &http.Transport{TLSClientConfig: p.clientTLS(), ForceAttemptHTTP2: true}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP2(true)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}
