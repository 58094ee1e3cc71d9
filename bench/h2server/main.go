// Command h2server serves databridge's HTTP/2 front for h2spec
// (scripts/h2spec.sh): a handler that reads the request body and answers
// "hello", on h2c with prior knowledge (-tls=false) or on h2 over TLS
// with a certificate it generates (-tls). It writes the bound port to
// -port-file once it listens, and serves until killed.
//
// It serves through server.Listen, so h2spec tests the path real
// connections take: the HTTP/1.1 front sees the client preface (or ALPN
// "h2" after the TLS handshake) and hands the connection to HTTP/2.
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
	// The engine's own listener: the HTTP/1.1 front hands h2c prior
	// knowledge and ALPN h2 connections to the HTTP/2 front.
	s, err := server.Listen(hello, cfg, "127.0.0.1", *port)
	if err != nil {
		log.Fatal(err)
	}
	s.Serve()
	if *portFile != "" {
		tmp := *portFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(strconv.Itoa(s.Port())), 0o644); err != nil {
			log.Fatal(err)
		}
		if err := os.Rename(tmp, *portFile); err != nil {
			log.Fatal(err)
		}
	}
	<-s.Done()
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
