#!/usr/bin/env python3
"""Prints the JA3 string and MD5 of the first TLS ClientHello sent to 127.0.0.1:PORT.

Usage: scripts/ja3-capture.py PORT   (then point a TLS client at https://127.0.0.1:PORT/)
Used for the ClientHello comparison in docs/PROTOCOL.md ("tls"). GREASE values are
dropped, as JA3 specifies. Also prints the extension, group and ALPN lists.
"""
import hashlib
import socket
import sys


def is_grease(value):
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def summarize(record):
    b = record
    p = 5 + 4
    version = int.from_bytes(b[p:p + 2], "big")
    p += 2 + 32
    p += 1 + b[p]
    n = int.from_bytes(b[p:p + 2], "big")
    p += 2
    ciphers = [int.from_bytes(b[p + i:p + i + 2], "big") for i in range(0, n, 2)]
    p += n
    p += 1 + b[p]
    end = p + 2 + int.from_bytes(b[p:p + 2], "big")
    p += 2
    extensions, groups, formats, alpn, sni = [], [], [], [], ""
    while p + 4 <= end:
        kind = int.from_bytes(b[p:p + 2], "big")
        length = int.from_bytes(b[p + 2:p + 4], "big")
        body = b[p + 4:p + 4 + length]
        extensions.append(kind)
        if kind == 10:
            groups = [int.from_bytes(body[i:i + 2], "big") for i in range(2, length, 2)]
        elif kind == 11:
            formats = list(body[1:])
        elif kind == 16:
            i = 2
            while i < length:
                alpn.append(body[i + 1:i + 1 + body[i]].decode())
                i += 1 + body[i]
        elif kind == 0:
            sni = body[5:].decode()
        p += 4 + length
    clean = lambda values: [v for v in values if not is_grease(v)]
    fields = [str(version), "-".join(map(str, clean(ciphers))), "-".join(map(str, clean(extensions))),
              "-".join(map(str, clean(groups))), "-".join(map(str, formats))]
    ja3 = ",".join(fields)
    return ja3, extensions, groups, alpn, sni, len(record)


def main():
    port = int(sys.argv[1])
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(8)
    conn, _ = server.accept()
    header = read_exact(conn, 5)
    record = header + read_exact(conn, int.from_bytes(header[3:5], "big"))
    conn.close()
    ja3, extensions, groups, alpn, sni, size = summarize(record)
    print("JA3", ja3)
    print("JA3 md5", hashlib.md5(ja3.encode()).hexdigest())
    print("extensions", extensions)
    print("groups", groups, "alpn", alpn, "sni", repr(sni), "record bytes", size)


if __name__ == "__main__":
    main()
