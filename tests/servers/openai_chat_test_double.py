#!/usr/bin/env python3
"""TEST DOUBLE of an OpenAI-compatible chat endpoint (there is no LLM on the test
machines). It answers POST /v1/chat/completions with canned message contents and
records every request, so tests can check what rast sends and what it does with
answers that are good, invalid or unsafe.

usage: openai_chat_test_double.py PORT CANNED.json LOG.jsonl

CANNED.json maps a substring of the user's message to the message content to return
(first match wins); unmatched requests get HTTP 500. Each request is appended to
LOG.jsonl as {"authorization": ..., "body": {...}}. Listens on 127.0.0.1 only.
"""

import http.server
import json
import sys

PORT, CANNED, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n) or b"{}")
        with open(LOG, "a") as f:
            f.write(json.dumps({"path": self.path, "authorization": self.headers.get("Authorization"), "body": body}) + "\n")
        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        user = next((m["content"] for m in body.get("messages", []) if m.get("role") == "user"), "")
        with open(CANNED) as f:
            canned = json.load(f)
        content = next((v for k, v in canned.items() if k in user), None)
        if content is None:
            self.send_error(500, "no canned answer")
            return
        out = json.dumps({
            "id": "test-double",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
