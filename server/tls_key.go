package server

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// decryptKey decrypts the first private key block of keyPEM: legacy
// encrypted PEM ("Proc-Type: 4,ENCRYPTED", what `openssl genrsa -aes256`
// and Python's ssl write). PKCS#8 "ENCRYPTED PRIVATE KEY" blocks are not
// supported by Go's standard library: convert them with
// `openssl pkey -in key.pem -out plain.pem`.
func decryptKey(keyPEM []byte, password string) ([]byte, error) {
	for rest := keyPEM; len(rest) > 0; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("databridge: ssl_keyfile is an encrypted PKCS#8 key, which is not supported; " +
				"decrypt it with `openssl pkey` or use a legacy encrypted PEM key")
		}
		//lint:ignore SA1019 legacy PEM encryption is what --ssl-keyfile-password reads
		if !x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck
			continue
		}
		der, err := x509.DecryptPEMBlock(block, []byte(password)) //nolint:staticcheck
		if err != nil {
			return nil, fmt.Errorf("databridge: ssl_keyfile: cannot decrypt the key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der}), nil
	}
	return nil, errors.New("databridge: ssl_keyfile_password given, but the key is not encrypted")
}
