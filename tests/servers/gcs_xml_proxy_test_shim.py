#!/usr/bin/env python3
"""TEST SHIM (not a GCS implementation): a translating proxy in front of fake-gcs-server.

object_store's GCS client reads, writes, lists and deletes through Google's XML API
(`PUT/GET/HEAD/DELETE /BUCKET/OBJECT`, `GET /BUCKET?list-type=2`), and no emulator
available here accepts XML writes. This shim turns each of those requests into the
JSON API call fake-gcs-server does serve, and answers in the XML API's shape (headers
`ETag`, `Last-Modified`, `x-goog-generation`; `ListBucketResult` for lists).
Conditional puts (`x-goog-if-generation-match`) map to `ifGenerationMatch`.

It exists only so the backup tests can run object_store's real GCS client against a
local server; it listens on 127.0.0.1 only.

usage: gcs_xml_proxy_test_shim.py LISTEN_PORT UPSTREAM_URL
"""

import email.utils
import http.client
import http.server
import json
import sys
import urllib.parse
import xml.sax.saxutils
from datetime import datetime

UPSTREAM = None


def upstream(method, path, body=None, headers=None):
    u = urllib.parse.urlsplit(UPSTREAM)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def q(s):
    return urllib.parse.quote(s, safe="")


def rfc1123(iso):
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return email.utils.format_datetime(dt, usegmt=True)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def split(self):
        u = urllib.parse.urlsplit(self.path)
        parts = u.path.lstrip("/").split("/", 1)
        bucket = urllib.parse.unquote(parts[0])
        obj = urllib.parse.unquote(parts[1]) if len(parts) > 1 else ""
        return bucket, obj, urllib.parse.parse_qs(u.query)

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def meta_headers(self, m):
        return {
            "ETag": '"%s"' % m["etag"],
            "Last-Modified": rfc1123(m["updated"]),
            "x-goog-generation": m["generation"],
            "Content-Type": "application/octet-stream",
        }

    def do_PUT(self):
        bucket, obj, _ = self.split()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        query = {"uploadType": "media", "name": obj}
        match = self.headers.get("x-goog-if-generation-match")
        if match is not None:
            query["ifGenerationMatch"] = match
        st, data = upstream(
            "POST",
            "/upload/storage/v1/b/%s/o?%s" % (q(bucket), urllib.parse.urlencode(query)),
            body,
            {"Content-Type": "application/octet-stream"},
        )
        if st != 200:
            return self.reply(st, data)
        self.reply(200, b"", self.meta_headers(json.loads(data)))

    def do_GET(self):
        bucket, obj, query = self.split()
        if not obj:
            return self.list(bucket, query)
        st, data = upstream("GET", "/storage/v1/b/%s/o/%s" % (q(bucket), q(obj)))
        if st != 200:
            return self.reply(st, data)
        headers = self.meta_headers(json.loads(data))
        if self.command == "HEAD":
            self.send_response(200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", json.loads(data)["size"])
            self.end_headers()
            return
        st, body = upstream("GET", "/storage/v1/b/%s/o/%s?alt=media" % (q(bucket), q(obj)))
        if st != 200:
            return self.reply(st, body)
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start, _, end = rng[6:].partition("-")
            start = int(start) if start else 0
            end = int(end) if end else len(body) - 1
            part = body[start : end + 1]
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, start + len(part) - 1, len(body))
            return self.reply(206, part, headers)
        self.reply(200, body, headers)

    do_HEAD = do_GET

    def do_DELETE(self):
        bucket, obj, _ = self.split()
        st, data = upstream("DELETE", "/storage/v1/b/%s/o/%s" % (q(bucket), q(obj)))
        self.reply(204 if st in (200, 204) else st, b"" if st in (200, 204) else data)

    def list(self, bucket, query):
        params = {}
        if "prefix" in query:
            params["prefix"] = query["prefix"][0]
        if "delimiter" in query:
            params["delimiter"] = query["delimiter"][0]
        if "continuation-token" in query:
            params["pageToken"] = query["continuation-token"][0]
        st, data = upstream("GET", "/storage/v1/b/%s/o?%s" % (q(bucket), urllib.parse.urlencode(params)))
        if st != 200:
            return self.reply(st, data)
        j = json.loads(data)
        esc = xml.sax.saxutils.escape
        out = ["<?xml version='1.0' encoding='UTF-8'?><ListBucketResult>"]
        for it in j.get("items", []):
            out.append(
                "<Contents><Key>%s</Key><Size>%s</Size><LastModified>%s</LastModified>"
                "<ETag>\"%s\"</ETag></Contents>" % (esc(it["name"]), it["size"], it["updated"], esc(it["etag"]))
            )
        for p in j.get("prefixes", []):
            out.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % esc(p))
        if j.get("nextPageToken"):
            out.append("<NextContinuationToken>%s</NextContinuationToken>" % esc(j["nextPageToken"]))
        out.append("</ListBucketResult>")
        self.reply(200, "".join(out).encode(), {"Content-Type": "application/xml"})


def main():
    global UPSTREAM
    port, UPSTREAM = int(sys.argv[1]), sys.argv[2].rstrip("/")
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.serve_forever()


if __name__ == "__main__":
    main()
