#!/usr/bin/env python3
"""Creates a blob container on a local Azurite (object_store cannot create containers).

A SharedKey-signed `PUT /ACCOUNT/CONTAINER?restype=container` with Azurite's
well-known development account. 201 (created) and 409 (exists) both succeed.

usage: azurite_create_container.py BLOB_URL CONTAINER
       (BLOB_URL like http://127.0.0.1:10000/devstoreaccount1)
"""

import base64
import email.utils
import hashlib
import hmac
import http.client
import sys
import urllib.parse

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
VERSION = "2021-08-06"


def main():
    url, container = sys.argv[1].rstrip("/"), sys.argv[2]
    u = urllib.parse.urlsplit(url)
    path = "%s/%s" % (u.path, container)
    date = email.utils.formatdate(usegmt=True)
    to_sign = "\n".join(
        ["PUT"] + [""] * 11
        + ["x-ms-date:%s" % date, "x-ms-version:%s" % VERSION, "/%s%s\nrestype:container" % (ACCOUNT, path)]
    )
    sig = base64.b64encode(hmac.new(base64.b64decode(KEY), to_sign.encode(), hashlib.sha256).digest()).decode()
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request(
        "PUT",
        path + "?restype=container",
        body=b"",
        headers={
            "x-ms-date": date,
            "x-ms-version": VERSION,
            "Authorization": "SharedKey %s:%s" % (ACCOUNT, sig),
            "Content-Length": "0",
        },
    )
    r = c.getresponse()
    body = r.read()
    if r.status not in (201, 409):
        sys.exit("creating container %s: HTTP %d %s" % (container, r.status, body.decode(errors="replace")))


if __name__ == "__main__":
    main()
