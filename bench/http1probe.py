"""HTTP/1.1 conformance probe for a server on this machine (RFC 9112, RFC 9110).

    python bench/http1probe.py HOST PORT [--json] [--path /echo] [--only SUBSTR]
                                         [--timeout 2.0] [--list]

Each case is an exact byte sequence written to a fresh loopback connection,
with the outcome the RFCs (or, where they leave a choice, databridge's strict
policy) call for: the status code(s) of the final response(s) and whether the
connection must be closed afterwards.

Assumption about the server under test: PATH (default ``/echo``) answers any
method with 200 and the request body as the response body; ``GET /`` may be
anything. No other path is used except in the request-target cases.

Levels:
  MUST    the RFC mandates the outcome (status and/or closure);
  SHOULD  the RFC recommends it;
  POLICY  the RFC allows a lenient alternative, databridge's strict front
          chooses the strict one (so a lenient server fails it on purpose).

"Closed" is detected as: after the expected response(s), recv() returns b""
(or the connection is reset) within a short wait; if nothing happens, a
follow-up request is sent and the connection counts as open if and only if it
is answered. Status 0 in an expectation means "no response at all".

Output: a table (case, level, RFC section, expected, got, PASS/FAIL) and a
summary line "N passed, M failed"; with --json, one JSON document on stdout.
Exit code 0 when every case passes, 1 otherwise. Standard library only.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

CRLF = b"\r\n"


# --------------------------------------------------------------------------
# cases


@dataclass
class Case:
    name: str
    section: str
    data: bytes | list[bytes]      # list: parts written with a pause between
    status: tuple[int, ...]        # acceptable statuses of the 1st final response
    close: bool | None = None      # True must close, False must stay open, None either
    level: str = "MUST"
    n: int = 1                     # number of final responses expected
    heads: tuple[int, ...] = ()    # indexes of responses that answer HEAD
    bodies: tuple[bytes, ...] | None = None   # expected bodies (when 2xx)
    shut: bool = False             # shutdown(SHUT_WR) after the last part
    expect100: bool = False        # wait for an interim 100 between parts
    all_status: bool = True        # every one of the n responses must match status
    check: Callable[["Result"], str | None] | None = None
    note: str = ""


@dataclass
class Resp:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    version: str = ""

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None


@dataclass
class Result:
    responses: list[Resp] = field(default_factory=list)   # final responses
    interim: list[Resp] = field(default_factory=list)     # 1xx
    closed: bool | None = None
    error: str = ""


def build_cases(path: str) -> list[Case]:
    P = path.encode()
    H = b"Host: localhost\r\n"

    def req(method: bytes = b"GET", target: bytes | None = None, version: bytes = b"HTTP/1.1",
            headers: bytes = H, body: bytes = b"") -> bytes:
        t = P if target is None else target
        return method + b" " + t + b" " + version + CRLF + headers + CRLF + body

    def post(headers: bytes, body: bytes, version: bytes = b"HTTP/1.1") -> bytes:
        return req(b"POST", None, version, H + headers, body)

    long_target = P + b"?" + b"a" * (64 * 1024)
    ok_target = P + b"?" + b"a" * (8000 - len(P) - 20)
    big_headers = b"".join(b"X-Big-%d: %s\r\n" % (i, b"v" * 4000) for i in range(17))
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"
    many_fields = b"".join(b"X-F%d: 1\r\n" % i for i in range(200))

    def no_100(r: Result) -> str | None:
        return "interim 100 sent for HTTP/1.0" if any(i.status == 100 for i in r.interim) else None

    def got_100(r: Result) -> str | None:
        return None if any(i.status == 100 for i in r.interim) else "no 100 Continue before the body was sent"

    def ka_header(r: Result) -> str | None:
        if r.closed is False and r.responses:
            v = (r.responses[0].header("connection") or "").lower()
            if "keep-alive" not in v:
                return "kept an HTTP/1.0 connection open without Connection: keep-alive"
        return None

    def no_body_on_head(r: Result) -> str | None:
        if r.responses and r.responses[0].body:
            return "HEAD response carried a body"
        return None

    C = Case
    cases = [
        # ---- baseline
        C("baseline GET", "9112 §3", req(), (200,), False),
        C("baseline POST Content-Length", "9112 §6.2", post(b"Content-Length: 5\r\n", b"hello"), (200,), False,
          bodies=(b"hello",)),
        C("POST without CL/TE has empty body", "9112 §6.3(7)", post(b"", b""), (200,), False, bodies=(b"",)),
        C("GET with Content-Length body consumed", "9112 §6.3", req(
            b"GET", None, b"HTTP/1.1", H + b"Content-Length: 5\r\n", b"hello") + req(), (200,), False, n=2),
        # ---- message format §2
        C("leading CRLF before request-line ignored", "9112 §2.2", CRLF + req(), (200,), False, level="SHOULD"),
        C("bare LF line endings", "9112 §2.2", b"GET " + P + b" HTTP/1.1\nHost: localhost\n\n", (400,), True,
          level="POLICY", note="RFC: MAY accept LF"),
        C("bare LF ending request-line only", "9112 §2.2", b"GET " + P + b" HTTP/1.1\n" + H + CRLF, (400,), True,
          level="POLICY"),
        C("bare CR in request-line", "9112 §2.2", b"GET " + P + b"\r HTTP/1.1\r\n" + H + CRLF, (400,), True),
        C("bare CR in field value", "9112 §2.2", req(headers=H + b"X-A: a\rb\r\n"), (400,), True,
          level="POLICY", note="RFC: reject or replace CR by SP"),
        C("whitespace before first field line", "9112 §2.2",
          b"GET " + P + b" HTTP/1.1\r\n X-A: b\r\n" + H + CRLF, (400,), True, level="POLICY",
          note="RFC: reject or ignore the line"),
        C("headers never terminated, client closes", "9112 §2.2", b"GET " + P + b" HTTP/1.1\r\n" + H,
          (0, 400), True, shut=True),
        C("NUL in request-line", "9112 §3", b"GET " + P + b"\x00 HTTP/1.1\r\n" + H + CRLF, (400,), True),
        # ---- request line §3
        C("unknown method token accepted", "9110 §9.1", req(b"FOO"), (200, 405, 501), None, level="MUST",
          note="not a syntax error"),
        C("method with invalid char", "9112 §3.1", req(b"GE(T"), (400,), True),
        C("method with non-ASCII byte", "9112 §3.1", req(b"G\xc3\xa9T"), (400,), True),
        C("empty method", "9112 §3", b" " + P + b" HTTP/1.1\r\n" + H + CRLF, (400,), True),
        C("double SP after method", "9112 §3", b"GET  " + P + b" HTTP/1.1\r\n" + H + CRLF, (400,), True,
          level="POLICY", note="RFC: MAY split on whitespace"),
        C("HTAB as separator", "9112 §3", b"GET\t" + P + b"\tHTTP/1.1\r\n" + H + CRLF, (400,), True,
          level="POLICY"),
        C("trailing SP after version", "9112 §3", b"GET " + P + b" HTTP/1.1 \r\n" + H + CRLF, (400,), True,
          level="POLICY"),
        C("missing version (HTTP/0.9 style)", "9112 §3", b"GET " + P + CRLF + H + CRLF, (400, 505), True),
        C("extra token after version", "9112 §3", b"GET " + P + b" HTTP/1.1 x\r\n" + H + CRLF, (400,), True),
        C("HTTP/2.0 version", "9110 §15.6.6", req(version=b"HTTP/2.0"), (505,), None),
        C("HTTP/3.0 version", "9110 §15.6.6", req(version=b"HTTP/3.0"), (505,), None),
        C("HTTP/0.9 version", "9110 §15.6.6", req(version=b"HTTP/0.9"), (400, 505), None),
        C("lowercase http/1.1", "9112 §2.3", req(version=b"http/1.1"), (400,), True),
        C("version HTTP/1", "9112 §2.3", req(version=b"HTTP/1"), (400,), True),
        C("version HTTP/1.10", "9112 §2.3", req(version=b"HTTP/1.10"), (400,), True),
        C("version HTTP/1.2 treated as 1.1", "9110 §2.5", req(version=b"HTTP/1.2"), (200,), None, level="SHOULD"),
        # ---- request target §3.2
        C("target without leading slash", "9112 §3.2", req(target=P.lstrip(b"/")), (400,), True),
        C("target with raw non-ASCII bytes", "9112 §3.2", req(target=P + b"/\xc3\xa9"), (400,), True),
        C("target with CTL byte", "9112 §3.2", req(target=P + b"\x01"), (400,), True),
        C("target with DEL byte", "9112 §3.2", req(target=P + b"\x7f"), (400,), True),
        C("target with fragment", "9112 §3.2", req(target=P + b"#frag"), (400,), True, level="POLICY"),
        C("target with percent-encoded UTF-8", "9112 §3.2", req(target=P + b"?q=%C3%A9"), (200,), False),
        C("absolute-form accepted", "9112 §3.2.2", req(target=b"http://localhost" + P), (200,), False),
        C("absolute-form overrides Host", "9112 §3.2.2",
          req(target=b"http://localhost" + P, headers=b"Host: other.example\r\n"), (200,), False),
        C("asterisk-form with GET", "9112 §3.2.4", req(target=b"*"), (400,), True, level="POLICY"),
        C("OPTIONS * allowed", "9112 §3.2.4", req(b"OPTIONS", b"*"), (200, 204, 404, 405, 501), None),
        C("CONNECT authority-form parsed", "9112 §3.2.3",
          req(b"CONNECT", b"localhost:443", headers=b"Host: localhost:443\r\n"), (200, 403, 404, 405, 501), None),
        C("authority-form with GET", "9112 §3.2.3", req(target=b"localhost:80"), (400,), True, level="POLICY"),
        C("CONNECT with origin-form", "9112 §3.2.3", req(b"CONNECT"), (400,), True, level="POLICY"),
        C("8000-octet request-line accepted", "9112 §3", req(target=ok_target), (200,), False, level="SHOULD"),
        C("64 KiB request-target", "9112 §3 / 9110 §15.5.15", req(target=long_target), (414,), None,
          level="POLICY", note="limit is the server's choice; 414 is the status"),
        # ---- Host §3.2
        C("HTTP/1.1 without Host", "9112 §3.2", req(headers=b""), (400,), True),
        C("duplicate Host, same value", "9112 §3.2", req(headers=H + H), (400,), True),
        C("duplicate Host, different values", "9112 §3.2", req(headers=H + b"Host: other\r\n"), (400,), True),
        C("empty Host", "9112 §3.2", req(headers=b"Host:\r\n"), (400,), True, level="POLICY",
          note="RFC allows empty Host when the URI has no authority"),
        C("Host with space", "9112 §3.2", req(headers=b"Host: local host\r\n"), (400,), True),
        C("Host with slash", "9112 §3.2", req(headers=b"Host: localhost/x\r\n"), (400,), True),
        C("Host with userinfo", "9112 §3.2", req(headers=b"Host: u@localhost\r\n"), (400,), True),
        C("Host with bad port", "9112 §3.2", req(headers=b"Host: localhost:80x\r\n"), (400,), True),
        C("Host with port", "9112 §3.2", req(headers=b"Host: localhost:8080\r\n"), (200,), False),
        C("Host IPv6 literal", "9112 §3.2", req(headers=b"Host: [::1]:8080\r\n"), (200,), False),
        C("HTTP/1.0 without Host", "9112 §3.2", req(version=b"HTTP/1.0", headers=b""), (200,), True),
        # ---- field syntax §5, 9110 §5
        C("SP between field name and colon", "9112 §5.1", req(headers=H + b"X-A : b\r\n"), (400,), True),
        C("HTAB between field name and colon", "9112 §5.1", req(headers=H + b"X-A\t: b\r\n"), (400,), True),
        C("SP before colon on Host", "9112 §5.1", req(headers=b"Host : localhost\r\n"), (400,), True),
        C("obs-fold in field value", "9112 §5.2", req(headers=H + b"X-A: a\r\n b\r\n"), (400,), True,
          level="POLICY", note="RFC: reject or unfold"),
        C("obs-fold with HTAB", "9112 §5.2", req(headers=H + b"X-A: a\r\n\tb\r\n"), (400,), True, level="POLICY"),
        C("field name with '('", "9110 §5.1", req(headers=H + b"X(A): b\r\n"), (400,), True),
        C("field name with SP inside", "9110 §5.1", req(headers=H + b"X A: b\r\n"), (400,), True),
        C("field name with non-ASCII", "9110 §5.1", req(headers=H + b"X-\xc3\xa9: b\r\n"), (400,), True),
        C("empty field name", "9110 §5.1", req(headers=H + b": b\r\n"), (400,), True),
        C("field line without colon", "9112 §5", req(headers=H + b"X-A b\r\n"), (400,), True),
        C("NUL in field value", "9110 §5.5", req(headers=H + b"X-A: a\x00b\r\n"), (400,), True, level="POLICY",
          note="RFC: reject or replace NUL by SP"),
        C("CTL (0x01) in field value", "9110 §5.5", req(headers=H + b"X-A: a\x01b\r\n"), (400,), True,
          level="POLICY"),
        C("DEL in field value", "9110 §5.5", req(headers=H + b"X-A: a\x7fb\r\n"), (400,), True, level="POLICY"),
        C("obs-text in field value accepted", "9110 §5.5", req(headers=H + b"X-A: caf\xc3\xa9\r\n"), (200,), False),
        C("HTAB inside field value accepted", "9110 §5.5", req(headers=H + b"X-A: a\tb\r\n"), (200,), False),
        C("OWS around field value accepted", "9112 §5.1", req(headers=H + b"X-A: \t b \t\r\n"), (200,), False),
        C("empty field value accepted", "9110 §5.5", req(headers=H + b"X-A:\r\n"), (200,), False),
        C("header section over 64 KiB", "6585 §5 / 9110 §15.5", req(headers=H + big_headers), (431,), None,
          level="POLICY"),
        C("200 header fields", "RFC 6585 §5", req(headers=H + many_fields), (431,), None, level="POLICY",
          note="count limit is the server's choice (strict front: 100)"),
        # ---- Content-Length §6.2, 9110 §8.6
        C("CL repeated same value in list", "9110 §8.6", post(b"Content-Length: 5, 5\r\n", b"hello"), (200, 400),
          None, level="MUST"),
        C("CL two lines same value", "9110 §8.6", post(b"Content-Length: 5\r\nContent-Length: 5\r\n", b"hello"),
          (200, 400), None),
        C("CL list differing values", "9112 §6.3(5)", post(b"Content-Length: 5, 6\r\n", b"hello!"), (400,), True),
        C("CL two lines differing values", "9112 §6.3(5)",
          post(b"Content-Length: 5\r\nContent-Length: 6\r\n", b"hello!"), (400,), True),
        C("CL with plus sign", "9112 §6.3(5)", post(b"Content-Length: +5\r\n", b"hello"), (400,), True),
        C("CL negative", "9112 §6.3(5)", post(b"Content-Length: -5\r\n", b"hello"), (400,), True),
        C("CL with inner space", "9112 §6.3(5)", post(b"Content-Length: 5 0\r\n", b"hello"), (400,), True),
        C("CL hex", "9112 §6.3(5)", post(b"Content-Length: 0x5\r\n", b"hello"), (400,), True),
        C("CL empty", "9112 §6.3(5)", post(b"Content-Length:\r\n", b""), (400,), True),
        C("CL overflow (2^64+)", "9112 §6.3(5)", post(b"Content-Length: 99999999999999999999999\r\n", b"hello"),
          (400, 413), True),
        C("CL with OWS accepted", "9112 §5.1", post(b"Content-Length:  5 \r\n", b"hello"), (200,), False,
          bodies=(b"hello",)),
        C("CL leading zeros accepted", "9110 §8.6", post(b"Content-Length: 005\r\n", b"hello"), (200,), False,
          bodies=(b"hello",)),
        C("truncated CL body, client closes", "9112 §8", post(b"Content-Length: 10\r\n", b"hello"), (0, 400), True,
          shut=True, note="never 200"),
        C("truncated CL body, client waits", "9112 §8", post(b"Content-Length: 10\r\n", b"hello"), (0, 400, 408),
          None, note="never 200"),
        # ---- Transfer-Encoding / chunked §6.1, §7
        C("chunked body", "9112 §7.1", post(b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n"),
          (200,), False, bodies=(b"hello",)),
        C("chunked multiple chunks", "9112 §7.1",
          post(b"Transfer-Encoding: chunked\r\n", b"2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n"), (200,), False,
          bodies=(b"hello",)),
        C("chunked coding name case-insensitive", "9112 §7",
          post(b"Transfer-Encoding: Chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n"), (200,), False, bodies=(b"hello",)),
        C("chunk size uppercase hex, leading zeros", "9112 §7.1",
          post(b"Transfer-Encoding: chunked\r\n", b"00A\r\nhellohello\r\n0\r\n\r\n"), (200,), False,
          bodies=(b"hellohello",)),
        C("chunk extension ignored", "9112 §7.1.1",
          post(b"Transfer-Encoding: chunked\r\n", b"5;a=b\r\nhello\r\n0;c=\"d\"\r\n\r\n"), (200,), False,
          bodies=(b"hello",)),
        C("chunked with trailer field", "9112 §7.1.2",
          post(b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\nX-Trailer: v\r\n\r\n"), (200,), False,
          bodies=(b"hello",)),
        C("chunk size invalid hex", "9112 §7.1", post(b"Transfer-Encoding: chunked\r\n", b"5g\r\nhello\r\n0\r\n\r\n"),
          (400,), True),
        C("chunk size negative", "9112 §7.1", post(b"Transfer-Encoding: chunked\r\n", b"-5\r\nhello\r\n0\r\n\r\n"),
          (400,), True),
        C("chunk size 0x prefix", "9112 §7.1", post(b"Transfer-Encoding: chunked\r\n", b"0x5\r\nhello\r\n0\r\n\r\n"),
          (400,), True),
        C("chunk size overflow", "9112 §7.1",
          post(b"Transfer-Encoding: chunked\r\n", b"10000000000000005\r\nhello\r\n0\r\n\r\n"), (400, 413), True),
        C("chunk size empty", "9112 §7.1", post(b"Transfer-Encoding: chunked\r\n", b"\r\nhello\r\n0\r\n\r\n"),
          (400,), True),
        C("chunk data missing CRLF", "9112 §7.1", post(b"Transfer-Encoding: chunked\r\n", b"5\r\nhelloXX0\r\n\r\n"),
          (400,), True),
        C("chunk data longer than size", "9112 §7.1",
          post(b"Transfer-Encoding: chunked\r\n", b"3\r\nhello\r\n0\r\n\r\n"), (400,), True),
        C("chunked bare LF after size", "9112 §7.1", post(b"Transfer-Encoding: chunked\r\n", b"5\nhello\r\n0\r\n\r\n"),
          (400,), True, level="POLICY"),
        C("chunked missing last-chunk, client closes", "9112 §7.1",
          post(b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n"), (0, 400), True, shut=True, note="never 200"),
        C("invalid trailer field (SP before colon)", "9112 §7.1.2",
          post(b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\nX-T : v\r\n\r\n"), (400,), True,
          level="POLICY"),
        C("TE chunked not final (chunked, gzip)", "9112 §6.3(4)",
          post(b"Transfer-Encoding: chunked, gzip\r\n", b"5\r\nhello\r\n0\r\n\r\n"), (400,), True),
        C("TE gzip only", "9112 §6.3(4)", post(b"Transfer-Encoding: gzip\r\n", b"hello"), (400, 501), True),
        C("TE identity", "9112 §6.3(4)", post(b"Transfer-Encoding: identity\r\n", b"hello"), (400, 501), True),
        C("TE chunked applied twice", "9112 §6.1", post(b"Transfer-Encoding: chunked, chunked\r\n",
          b"5\r\nhello\r\n0\r\n\r\n"), (400,), True, level="POLICY"),
        C("unknown transfer coding before chunked", "9112 §6.1",
          post(b"Transfer-Encoding: x-foo, chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n"), (501,), None, level="SHOULD"),
        C("TE split over two lines (gzip + chunked)", "9112 §6.1",
          post(b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n"), (501,),
          None, level="SHOULD"),
        C("TE on HTTP/1.0 must close", "9112 §6.1",
          post(b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n", b"HTTP/1.0")
          + req(), (200, 400), True, note="framing faulty: close after it"),
        C("TE value with vertical tab", "9112 §6.1", post(b"Transfer-Encoding: \x0bchunked\r\n",
          b"5\r\nhello\r\n0\r\n\r\n"), (400, 501), True),
        # ---- smuggling §6.3(3), §11.2
        C("CL + TE closes the connection", "9112 §6.3(3)",
          post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"), (200, 400), True,
          note="RFC: MAY reject or process by TE; MUST close"),
        C("CL + TE rejected with 400", "9112 §6.3(3)",
          post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"), (400,), True,
          level="POLICY"),
        C("CL.TE smuggled request not run", "9112 §6.3(3) / §11.2",
          post(b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
               b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"), (200, 400), True, n=1),
        C("TE.CL smuggled request not run", "9112 §6.3(3) / §11.2",
          post(b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
               b"%x\r\n%s\r\n0\r\n\r\n" % (len(smuggled), smuggled)), (200, 400), True, n=1),
        C("TE with SP before colon + CL", "9112 §5.1 / §11.2",
          post(b"Content-Length: 4\r\nTransfer-Encoding : chunked\r\n",
               b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"), (400,), True, n=1),
        C("obfuscated TE (xchunked) + CL", "9112 §6.1 / §11.2",
          post(b"Content-Length: 4\r\nTransfer-Encoding: xchunked\r\n",
               b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"), (400, 501), True, n=1),
        C("TE identity body not run as a request", "9112 §6.1 / §11.2",
          post(b"Transfer-Encoding: identity\r\n", smuggled), (400, 501), True, n=1,
          note="identity is no longer a transfer coding"),
        # ---- connection management §9
        C("HTTP/1.1 persistent by default", "9112 §9.3", req(), (200,), False),
        C("Connection: close closes", "9112 §9.6", req(headers=H + b"Connection: close\r\n"), (200,), True),
        C("Connection: Close (case-insensitive)", "9112 §9.6", req(headers=H + b"Connection: Close\r\n"), (200,), True),
        C("Connection: keep-alive, close", "9112 §9.6", req(headers=H + b"Connection: keep-alive, close\r\n"),
          (200,), True),
        C("no request after Connection: close", "9112 §9.6", req(headers=H + b"Connection: close\r\n") + req(),
          (200,), True, n=1, note="the second pipelined request must not be answered"),
        C("HTTP/1.0 closes by default", "9112 §9.3", req(version=b"HTTP/1.0"), (200,), True),
        C("HTTP/1.0 keep-alive honoured", "9112 §9.3 / App. C.2.2",
          req(version=b"HTTP/1.0", headers=H + b"Connection: keep-alive\r\n"), (200,), False, level="SHOULD",
          check=ka_header),
        C("pipelined POSTs answered in order", "9112 §9.3.2",
          post(b"Content-Length: 5\r\n", b"first") + post(b"Content-Length: 6\r\n", b"second"), (200,), False,
          n=2, bodies=(b"first", b"second")),
        C("pipelined GET HEAD GET", "9112 §9.3.2 / 9110 §9.3.2", req() + req(b"HEAD") + req(), (200,), False,
          n=3, heads=(1,)),
        C("HEAD has no body", "9110 §9.3.2", req(b"HEAD") + req(), (200,), False, n=2, heads=(0,),
          check=no_body_on_head),
        C("Expect: 100-continue", "9110 §10.1.1",
          [post(b"Content-Length: 5\r\nExpect: 100-continue\r\n", b""), b"hello"], (200,), False,
          expect100=True, bodies=(b"hello",), check=got_100),
        C("Expect: 100-continue ignored on HTTP/1.0", "9110 §10.1.1",
          post(b"Content-Length: 5\r\nExpect: 100-continue\r\n", b"hello", b"HTTP/1.0"), (200,), None,
          bodies=(b"hello",), check=no_100),
        C("unknown expectation", "9110 §10.1.1", req(headers=H + b"Expect: x-foo\r\n"), (200, 417), None,
          level="SHOULD"),
    ]
    return cases


# --------------------------------------------------------------------------
# response reading


class Closed(Exception):
    pass


class Conn:
    def __init__(self, sock: socket.socket):
        self.s = sock
        self.buf = b""
        self.eof = False

    def fill(self, deadline: float) -> None:
        if self.eof:
            raise Closed()
        t = deadline - time.monotonic()
        if t <= 0:
            raise TimeoutError()
        self.s.settimeout(t)
        try:
            d = self.s.recv(65536)
        except socket.timeout:
            raise TimeoutError()
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
            self.eof = True
            raise Closed()
        if not d:
            self.eof = True
            raise Closed()
        self.buf += d

    def line(self, deadline: float) -> bytes:
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                ln, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                return ln.rstrip(b"\r\n")
            if len(self.buf) > 1 << 20:
                raise ValueError("line too long")
            self.fill(deadline)

    def exact(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            self.fill(deadline)
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def until_close(self, deadline: float) -> bytes:
        try:
            while True:
                self.fill(deadline)
        except (Closed, TimeoutError):
            pass
        d, self.buf = self.buf, b""
        return d

    def response(self, head: bool, deadline: float) -> Resp:
        ln = self.line(deadline)
        parts = ln.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise ValueError("bad status line %r" % ln[:60])
        version, status = parts[0].decode("latin-1"), int(parts[1])
        headers: list[tuple[str, str]] = []
        while True:
            ln = self.line(deadline)
            if not ln:
                break
            k, _, v = ln.partition(b":")
            headers.append((k.decode("latin-1").strip(), v.decode("latin-1").strip()))
        r = Resp(status, headers, b"", version)
        if head or 100 <= status < 200 or status in (204, 304):
            return r
        te = (r.header("transfer-encoding") or "").lower()
        cl = r.header("content-length")
        if "chunked" in te:
            body = b""
            while True:
                size = int(self.line(deadline).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.line(deadline):
                        pass
                    break
                body += self.exact(size, deadline)
                self.exact(2, deadline)
            r.body = body
        elif cl is not None:
            r.body = self.exact(int(cl.split(",")[0].strip()), deadline)
        else:
            r.body = self.until_close(deadline)
        return r


def follow_up(path: str) -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"


def run_case(host: str, port: int, path: str, c: Case, timeout: float) -> Result:
    res = Result()
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        res.error = "connect: %s" % e
        return res
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = Conn(s)
    parts = c.data if isinstance(c.data, list) else [c.data]
    deadline = time.monotonic() + timeout
    try:
        for i, p in enumerate(parts):
            try:
                s.sendall(p)
            except OSError:
                break
            if i < len(parts) - 1:
                if c.expect100:
                    try:
                        r = conn.response(False, min(deadline, time.monotonic() + 1.0))
                        (res.interim if r.status < 200 else res.responses).append(r)
                    except (TimeoutError, Closed, ValueError):
                        pass
                    if res.responses:
                        break
                else:
                    time.sleep(0.2)
        if c.shut:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        # final responses expected, plus anything extra that arrives shortly after
        idx = 0
        while len(res.responses) < c.n:
            try:
                r = conn.response(len(res.responses) in c.heads, deadline)
            except TimeoutError:
                break
            except Closed:
                res.closed = True
                break
            if r.status < 200 and r.status != 101:
                res.interim.append(r)
                continue
            res.responses.append(r)
            idx += 1
        if res.closed is None:
            # extra responses (e.g. a smuggled request) or EOF within a short wait
            wait = time.monotonic() + min(0.4, timeout)
            while True:
                try:
                    if not conn.buf:
                        conn.fill(wait)
                    r = conn.response(False, time.monotonic() + 0.5)
                    res.responses.append(r)
                except Closed:
                    res.closed = True
                    break
                except TimeoutError:
                    break
                except ValueError as e:
                    res.error = str(e)
                    break
        if res.closed is None and not c.shut and c.close is not None:
            # nothing arrived: ask again; answered means the connection is open
            try:
                s.sendall(follow_up(path))
                conn.response(False, time.monotonic() + timeout)
                res.closed = False
            except (Closed, OSError):
                res.closed = True
            except TimeoutError:
                res.closed = True   # "a follow-up request gets no answer"
            except ValueError as e:
                res.error = str(e)
    except ValueError as e:
        res.error = str(e)
    except Closed:
        res.closed = True
    finally:
        s.close()
    return res


# --------------------------------------------------------------------------
# judging and output


def fmt_expected(c: Case) -> str:
    st = "|".join("none" if x == 0 else str(x) for x in c.status)
    if c.n > 1:
        st = "%sx%d" % (st, c.n)
    cl = {True: "close", False: "open", None: "-"}[c.close]
    return "%s %s" % (st, cl)


def fmt_got(r: Result) -> str:
    if r.error.startswith("connect"):
        return r.error
    st = ",".join(str(x.status) for x in r.responses) or "none"
    cl = {True: "close", False: "open", None: "?"}[r.closed]
    s = "%s %s" % (st, cl)
    if r.error:
        s += " (%s)" % r.error[:40]
    return s


def judge(c: Case, r: Result) -> str | None:
    """None when the case passes, else the reason."""
    if r.error.startswith("connect"):
        return r.error
    if r.error:
        return "unparsable response: " + r.error
    got = [x.status for x in r.responses]
    if not got:
        if 0 not in c.status:
            return "no response"
    else:
        if got[0] not in c.status:
            return "status %d, expected %s" % (got[0], "/".join(map(str, c.status)))
        if len(got) != c.n:
            # more responses than requests answered is the smuggling/pipelining failure
            if not (len(got) < c.n and got[-1] >= 400):
                return "%d responses, expected %d" % (len(got), c.n)
        if c.all_status:
            for i, g in enumerate(got[1:c.n], 1):
                if g not in c.status:
                    return "response %d status %d" % (i + 1, g)
        if c.bodies is not None and got[0] < 300:
            for i, (want, rr) in enumerate(zip(c.bodies, r.responses)):
                if rr.body != want:
                    return "response %d body %r, expected %r" % (i + 1, rr.body[:30], want)
    if c.close is True and r.closed is False:
        return "connection left open"
    if c.close is False and r.closed is True:
        return "connection closed"
    if c.check is not None:
        why = c.check(r)
        if why:
            return why
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--json", action="store_true", help="print results as JSON instead of the table")
    ap.add_argument("--path", default="/echo", help="path that answers any method with 200 echoing the body")
    ap.add_argument("--only", default="", help="run only the cases whose name contains this")
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds per case (default 2)")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    a = ap.parse_args(argv)

    try:
        addrs = {ai[4][0] for ai in socket.getaddrinfo(a.host, a.port, proto=socket.IPPROTO_TCP)}
    except OSError as e:
        print("cannot resolve %s: %s" % (a.host, e), file=sys.stderr)
        return 2
    if not all(ipaddress.ip_address(x.split("%")[0]).is_loopback for x in addrs):
        print("refusing: %s is not a loopback address" % a.host, file=sys.stderr)
        return 2

    cases = [c for c in build_cases(a.path) if a.only.lower() in c.name.lower()]
    if a.list:
        for c in cases:
            print("%-45s %-7s %-22s %s" % (c.name, c.level, c.section, fmt_expected(c)))
        print("%d cases" % len(cases))
        return 0

    results = []
    for c in cases:
        r = run_case(a.host, a.port, a.path, c, a.timeout)
        why = judge(c, r)
        results.append({
            "name": c.name, "section": ("RFC " + c.section) if c.section[0].isdigit() else c.section, "level": c.level,
            "expected": fmt_expected(c), "got": fmt_got(r), "pass": why is None,
            "reason": why or "", "note": c.note,
            "statuses": [x.status for x in r.responses], "closed": r.closed,
            "request": (b"".join(c.data) if isinstance(c.data, list) else c.data)[:300].decode("latin-1"),
        })
    npass = sum(1 for x in results if x["pass"])
    nfail = len(results) - npass
    if a.json:
        json.dump({"host": a.host, "port": a.port, "passed": npass, "failed": nfail,
                   "must_failed": sum(1 for x in results if not x["pass"] and x["level"] == "MUST"),
                   "cases": results}, sys.stdout, indent=1)
        print()
    else:
        w = max(len(x["name"]) for x in results)
        print("%-*s  %-6s  %-24s  %-16s  %-22s  %s" % (w, "case", "level", "section", "expected", "got", "result"))
        for x in results:
            print("%-*s  %-6s  %-24s  %-16s  %-22s  %s" % (
                w, x["name"], x["level"], x["section"][:24], x["expected"], x["got"][:22],
                "PASS" if x["pass"] else "FAIL  " + x["reason"]))
        by = {}
        for x in results:
            if not x["pass"]:
                by[x["level"]] = by.get(x["level"], 0) + 1
        if by:
            print("failed by level: " + ", ".join("%s %d" % kv for kv in sorted(by.items())))
        print("%d passed, %d failed" % (npass, nfail))
    return 0 if nfail == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
