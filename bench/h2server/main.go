// Command h2server serves databridge's HTTP/2 front for h2spec
// (scripts/h2spec.sh): a handler that reads the request body and answers
// "hello", on h2c with prior knowledge (-tls=false) or on h2 over TLS
// with a certificate it generates (-tls). It writes the bound port to
// -port-file once it listens, and serves until killed.
//
// Until the HTTP/1.1 front dispatches to the HTTP/2 one, it runs its own
// accept loop: read the 24-byte client preface (cleartext) or do the TLS
// handshake and check that ALPN chose "h2", then server.ServeHTTP2Conn.
// Once server.Listen hands such connections over itself, the loop becomes
//
//	s, err := server.Listen(hello, cfg, "127.0.0.1", *port)
//	s.Serve()
//	select {}
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/databridge/databridge/server"
	"golang.org/x/net/http2"
)

var hello = server.HandlerFunc(func(w server.ResponseWriter, r *server.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		server.WriteError(w, 413, server.MsgBodyTooLarge)
		return
	}
	w.Header().Add("content-type", "text/plain")
	w.Send(200, []byte("hello\n"))
})

func main() {
	useTLS := flag.Bool("tls", false, "serve h2 over TLS (else h2c with prior knowledge)")
	port := flag.Int("port", 0, "port to listen on (0: any)")
	portFile := flag.String("port-file", "", "file to write the bound port to")
	flag.Parse()

	cfg := server.Config{}
	if *useTLS {
		tc, err := selfSigned()
		if err != nil {
			log.Fatal(err)
		}
		cfg.TLS = tc
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	if *portFile != "" {
		p := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		if err := os.WriteFile(*portFile, []byte(p+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(c, cfg)
	}
}

// serve does what the HTTP/1.1 front will do before handing a connection
// to the HTTP/2 front.
func serve(c net.Conn, cfg server.Config) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if cfg.TLS != nil {
		tc := tls.Server(c, cfg.TLS)
		if err := tc.Handshake(); err != nil || tc.ConnectionState().NegotiatedProtocol != http2.NextProtoTLS {
			tc.Close()
			return
		}
		tc.SetReadDeadline(time.Time{})
		server.ServeHTTP2Conn(hello, cfg, tc, nil)
		return
	}
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil || string(preface) != http2.ClientPreface {
		// (The HTTP/1.1 front parses such bytes as an HTTP/1.1 request.)
		// Close without a reset: closing with unread bytes would send RST.
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, c)
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	server.ServeHTTP2Conn(hello, cfg, c, preface)
}

// selfSigned makes a certificate for 127.0.0.1 and loads it the way
// databridge does, with server.LoadTLS from PEM files.
func selfSigned() (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "h2server")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	return server.LoadTLS(certFile, keyFile, "", "")
}
