"""TLS end to end: ``Server(..., ssl_certfile=..., ssl_keyfile=...)`` with
certificates made in the test (a CA, a server certificate for 127.0.0.1 and
localhost, a client certificate), an encrypted key with its password, the
TLS 1.2 minimum, and mutual TLS with ``ssl_ca_certs``."""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from databridge import App, Server

TIMEOUT = 10
KEY_PASSWORD = "s3cret pass"


@dataclass
class PKI:
    """PEM files of a test CA and the certificates it signed."""

    ca: Path
    cert: Path
    key: Path
    encrypted_key: Path  # the server key, legacy encrypted PEM, KEY_PASSWORD
    client_cert: Path
    client_key: Path

    def client_context(self, *, client_cert: bool = False, alpn: list[str] | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if client_cert:
            ctx.load_cert_chain(str(self.client_cert), str(self.client_key))
        if alpn:
            ctx.set_alpn_protocols(alpn)
        return ctx


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey, password: str | None = None) -> Path:
    encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    if password is not None:
        # TraditionalOpenSSL with a password is the legacy encrypted PEM
        # ("Proc-Type: 4,ENCRYPTED"), what ssl_keyfile_password reads.
        encryption = serialization.BestAvailableEncryption(password.encode())
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, encryption)
    )
    return path


def make_pki(directory: Path) -> PKI:
    """A CA, a server certificate for 127.0.0.1/localhost and a client
    certificate, signed by the CA, written to ``directory``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("databridge test CA"))
        .issuer_name(_name("databridge test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def issue(common_name: str, usage: x509.ObjectIdentifier, san: list[x509.GeneralName] | None):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    server_cert, server_key = issue(
        "127.0.0.1",
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
    )
    client_cert, client_key = issue("databridge test client", ExtendedKeyUsageOID.CLIENT_AUTH, None)

    def write_cert(name: str, cert: x509.Certificate) -> Path:
        path = directory / name
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    return PKI(
        ca=write_cert("ca.pem", ca_cert),
        cert=write_cert("server.pem", server_cert),
        key=_write_key(directory / "server.key", server_key),
        encrypted_key=_write_key(directory / "server-encrypted.key", server_key, KEY_PASSWORD),
        client_cert=write_cert("client.pem", client_cert),
        client_key=_write_key(directory / "client.key", client_key),
    )


@pytest.fixture
def pki(tmp_path: Path) -> PKI:
    return make_pki(tmp_path)


def tls_app() -> App:
    app = App()

    @app.route("/echo", methods=["GET", "POST"])
    def echo(request: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": request["url"],
            "method": request["method"],
            "host": request["headers"].get("host"),
            "body": request["raw_body"].decode("latin-1"),
        }

    return app


StartServer = Callable[..., Server]


def tls_options(pki: PKI, **extra: Any) -> dict[str, Any]:
    return {"ssl_certfile": str(pki.cert), "ssl_keyfile": str(pki.key), **extra}


def https_get(pki: PKI, port: int, path: str, *, client_cert: bool = False) -> tuple[int, dict[str, Any], str]:
    """A GET over HTTP/1.1 with Python's ssl; returns status, JSON body and
    the TLS version."""
    conn = http.client.HTTPSConnection(
        "127.0.0.1", port, context=pki.client_context(client_cert=client_cert), timeout=TIMEOUT
    )
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = json.loads(response.read())
        assert conn.sock is not None
        return response.status, body, conn.sock.version() or ""
    finally:
        conn.close()


# -- serving over TLS ---------------------------------------------------------


def test_https_http1(start_server: StartServer, pki: PKI) -> None:
    server = start_server(tls_app(), **tls_options(pki))
    status, body, version = https_get(pki, server.port, "/echo?x=1")
    assert status == 200
    assert body["url"] == f"https://127.0.0.1:{server.port}/echo?x=1"
    assert body["host"] == f"127.0.0.1:{server.port}"
    assert version in ("TLSv1.2", "TLSv1.3")


def test_https_alpn_offers_h2_and_http1(start_server: StartServer, pki: PKI) -> None:
    server = start_server(tls_app(), **tls_options(pki))
    for offered, chosen in ((["h2", "http/1.1"], "h2"), (["http/1.1"], "http/1.1")):
        ctx = pki.client_context(alpn=offered)
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                assert tls.selected_alpn_protocol() == chosen


def test_https_with_httpx_http2(start_server: StartServer, pki: PKI) -> None:
    server = start_server(tls_app(), **tls_options(pki))
    with httpx.Client(http2=True, verify=pki.client_context(), timeout=TIMEOUT) as client:
        response = client.post(f"https://127.0.0.1:{server.port}/echo", content=b"over h2")
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"
    assert response.json() == {
        "url": f"https://127.0.0.1:{server.port}/echo",
        "method": "POST",
        "host": f"127.0.0.1:{server.port}",
        "body": "over h2",
    }


def test_https_untrusted_certificate_is_rejected_by_the_client(
    start_server: StartServer, pki: PKI, tmp_path: Path
) -> None:
    """The server presents the certificate it was given: a client that
    trusts another CA refuses it."""
    server = start_server(tls_app(), **tls_options(pki))
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = make_pki(other_dir)
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(other, server.port, "/echo")


def test_encrypted_key_with_password(start_server: StartServer, pki: PKI) -> None:
    assert b"ENCRYPTED" in pki.encrypted_key.read_bytes()
    server = start_server(
        tls_app(), ssl_certfile=str(pki.cert), ssl_keyfile=str(pki.encrypted_key), ssl_keyfile_password=KEY_PASSWORD
    )
    status, body, _ = https_get(pki, server.port, "/echo")
    assert status == 200
    assert body["url"].startswith("https://")


def test_encrypted_key_with_a_wrong_password_fails_to_start(pki: PKI) -> None:
    server = Server(
        tls_app(),
        host="127.0.0.1",
        port=0,
        ssl_certfile=str(pki.cert),
        ssl_keyfile=str(pki.encrypted_key),
        ssl_keyfile_password="wrong",
    )
    with pytest.raises(Exception, match="cannot decrypt the key"):
        server.start()


def test_missing_key_file_fails_to_start(pki: PKI, tmp_path: Path) -> None:
    server = Server(
        tls_app(), host="127.0.0.1", port=0, ssl_certfile=str(pki.cert), ssl_keyfile=str(tmp_path / "missing.key")
    )
    with pytest.raises(Exception, match="ssl_keyfile"):
        server.start()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_tls_1_1_client_is_refused(start_server: StartServer, pki: PKI) -> None:
    server = start_server(tls_app(), **tls_options(pki))
    ctx = pki.client_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let OpenSSL 3 offer TLS 1.1 at all
    except ssl.SSLError:
        pass
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1"):
                pass
    # TLS 1.2 is accepted.
    ctx12 = pki.client_context()
    ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as raw:
        with ctx12.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() == "TLSv1.2"


# -- mutual TLS ---------------------------------------------------------------


def test_mtls_requires_a_client_certificate(start_server: StartServer, pki: PKI) -> None:
    server = start_server(tls_app(), **tls_options(pki, ssl_ca_certs=str(pki.ca)))
    # TLS 1.3 finishes the client's handshake before the server checks the
    # (missing) certificate: the refusal comes with the first read then.
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https_get(pki, server.port, "/echo")

    status, body, _ = https_get(pki, server.port, "/echo", client_cert=True)
    assert status == 200
    assert body["url"] == f"https://127.0.0.1:{server.port}/echo"


def test_mtls_rejects_a_certificate_from_another_ca(start_server: StartServer, pki: PKI, tmp_path: Path) -> None:
    server = start_server(tls_app(), **tls_options(pki, ssl_ca_certs=str(pki.ca)))
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = make_pki(other_dir)
    ctx = pki.client_context()
    ctx.load_cert_chain(str(other.client_cert), str(other.client_key))
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx, timeout=TIMEOUT)
    try:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            conn.request("GET", "/echo")
            conn.getresponse().read()
    finally:
        conn.close()


def test_mtls_over_http2(start_server: StartServer, pki: PKI) -> None:
    server = start_server(tls_app(), **tls_options(pki, ssl_ca_certs=str(pki.ca)))
    with httpx.Client(http2=True, verify=pki.client_context(client_cert=True), timeout=TIMEOUT) as client:
        response = client.get(f"https://127.0.0.1:{server.port}/echo")
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_https(start_server: StartServer, pki: PKI) -> None:
    server = start_server(tls_app(), **tls_options(pki))
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "--max-time",
            "10",
            "--cacert",
            str(pki.ca),
            "-w",
            "\n%{http_version}",
            f"https://127.0.0.1:{server.port}/echo",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    body, version = out.rsplit("\n", 1)
    assert version == "2"  # curl offers h2 by ALPN over TLS
    assert json.loads(body)["url"] == f"https://127.0.0.1:{server.port}/echo"
