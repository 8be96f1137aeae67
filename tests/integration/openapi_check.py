#!/usr/bin/env python3
"""Checks a running `fora serve` against api-docs/openapi.yaml.

Run by test_openapi_responses.sh (which starts the servers); by hand:

    openapi_check.py --spec api-docs/openapi.yaml --source . --base URL \
        --read TOKEN --admin TOKEN --member EXT_ID --job ID \
        [--down URL --down-token TOKEN]

It
  * compares the route table of the server (the patterns and methods of the
    route tables in server/api*.c, plus /metrics and the documents /docs and
    /v1/openapi.json) with the paths of the spec, both ways, and the roles
    with the spec's security (public routes have `security: []`, admin
    routes document 403);
  * checks that /v1/openapi.json is the YAML file, converted;
  * validates every example in the spec against its schema;
  * calls every operation: its success case, every enum value, the bounds of
    every integer parameter (accepted at the bound, 400 naming the parameter
    one past it), bad values, unknown and repeated parameters, no token and
    a bad one (401), a read token on an admin route (403), unknown forum,
    member, job and run (404), a wrong method (405), a large body (413),
    and, against a server whose database was dropped (--down), 503;
  * validates each answer: its status must be documented for the operation,
    its Content-Type must be one of the documented media types, documented
    headers must be present, and a JSON body must match the documented
    schema (Draft 2020-12, with the spec's $refs resolved into components);
    an error's `detail` must name what the test expects;
  * asks every GET route for CSV (Accept: text/csv): the routes that document
    text/csv answer a table with one row per item, the others stay JSON;
  * fails unless every documented (path, method, status) was seen.

Needs python3-yaml and python3-jsonschema (Debian).
"""
import argparse
import copy
import csv
import http.client
import io
import json
import os
import re
import socket
import sys
import urllib.parse
import xml.etree.ElementTree as ET

import jsonschema
import yaml

FAILURES = []
SEEN = set()  # (path template, method, status)
CALLS = 0


def fail(msg):
    FAILURES.append(msg)
    print("FAIL:", msg, file=sys.stderr)


# ---- the spec -------------------------------------------------------------------


def pointer(doc, ref):
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported: {ref}")
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def deref(doc, node, depth=0):
    """node with every $ref replaced by what it points at (siblings kept)."""
    if depth > 50:
        raise ValueError("$ref cycle")
    if isinstance(node, list):
        return [deref(doc, x, depth) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = deref(doc, copy.deepcopy(pointer(doc, node["$ref"])), depth + 1)
        rest = {k: deref(doc, v, depth) for k, v in node.items() if k != "$ref"}
        if isinstance(target, dict):
            merged = dict(target)
            merged.update(rest)
            return merged
        return target
    return {k: deref(doc, v, depth) for k, v in node.items()}


VALIDATORS = {}


def validate(schema, value, where):
    v = VALIDATORS.get(id(schema))
    if v is None:
        jsonschema.Draft202012Validator.check_schema(schema)
        v = VALIDATORS[id(schema)] = (jsonschema.Draft202012Validator(schema), schema)
    v = v[0]
    errors = sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path))
    for e in errors[:5]:
        path = "/".join(str(p) for p in e.absolute_path)
        fail(f"{where}: at /{path}: {e.message[:300]}")
    return not errors


class Spec:
    def __init__(self, doc):
        self.doc = doc
        self.ops = {}  # (tpl, METHOD) -> operation with $refs resolved
        for tpl, item in doc["paths"].items():
            for m in ("get", "post", "put", "delete", "patch", "head", "options"):
                if m in item:
                    op = deref(doc, item[m])
                    op["parameters"] = deref(doc, item.get("parameters", [])) + op.get(
                        "parameters", []
                    )
                    self.ops[(tpl, m.upper())] = op

    def public(self, tpl, method):
        op = self.ops[(tpl, method)]
        sec = op.get("security", self.doc.get("security", []))
        return sec == [] or {} in sec

    def params(self, tpl, method, where):
        return [p for p in self.ops[(tpl, method)]["parameters"] if p["in"] == where]


# ---- HTTP ---------------------------------------------------------------------------


class Server:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port

    def request(self, method, url, token=None, body=None, headers=None):
        global CALLS
        CALLS += 1
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        c.connect()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no delayed-ACK stalls
        c.request(method, url, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, data


def build_url(tpl, path_params, query):
    url = tpl
    for k, v in (path_params or {}).items():
        url = url.replace("{" + k + "}", urllib.parse.quote(str(v), safe=""))
    if query:
        url += "?" + urllib.parse.urlencode(query)
    return url


def check(spec, srv, method, tpl, path=None, query=None, token=None, want=None, detail=None,
          body=None, headers=None, send_method=None):
    """One request, checked against the spec; returns (status, headers, parsed body)."""
    url = build_url(tpl, path, query)
    m = send_method or method
    status, hdrs, data = srv.request(m, url, token, body, headers)
    where = f"{m} {url} -> {status}"
    op = spec.ops.get((tpl, method))
    if op is None:
        fail(f"{where}: no operation {method} {tpl} in the spec")
        return status, hdrs, None
    if want is not None and status != want:
        fail(f"{where}: expected {want}; body {data[:300]!r}")
    resp = op["responses"].get(str(status))
    if resp is None:
        fail(f"{where}: status {status} is not documented for {method} {tpl}")
        return status, hdrs, None
    SEEN.add((tpl, method, status))
    for name in resp.get("headers", {}):
        if name.lower() not in hdrs:
            fail(f"{where}: documented header {name} missing")
    content = resp.get("content", {})
    ctype = hdrs.get("content-type", "").split(";")[0].strip()
    if not content:
        return status, hdrs, None
    if ctype not in content:
        fail(f"{where}: Content-Type {ctype!r} not among {sorted(content)}")
        return status, hdrs, None
    parsed = None
    if ctype == "application/json":
        try:
            parsed = json.loads(data)
        except ValueError as e:
            fail(f"{where}: not JSON: {e}")
            return status, hdrs, None
        validate(content[ctype]["schema"], parsed, where)
        if detail is not None:
            got = parsed.get("error", {}).get("detail") if isinstance(parsed, dict) else None
            if got != detail:
                fail(f"{where}: error detail {got!r}, expected {detail!r}")
    elif ctype.endswith("+xml"):
        try:
            root = ET.fromstring(data)
        except ET.ParseError as e:
            fail(f"{where}: not XML: {e}")
        else:
            want_root = "graphml" if "graphml" in ctype else "gexf"
            if not root.tag.endswith(want_root) or len(root) == 0:
                fail(f"{where}: root element {root.tag} with {len(root)} children")
    elif ctype == "text/csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            fail(f"{where}: CSV without a header or with ragged rows")
        parsed = rows
    else:
        if not data:
            fail(f"{where}: empty body")
        parsed = data.decode("utf-8", "replace")
    return status, hdrs, parsed


# ---- the server's own route table ------------------------------------------------------


def server_routes(source):
    """{(pattern, METHOD): role} from the route tables in server/api*.c and cmd_serve.c."""
    found = {}
    rx = re.compile(r'\{\s*"(/[^"]*)"\s*,\s*\w+\s*,\s*(?:true|false)\s*,\s*(NULL|"[A-Z]+")\s*,'
                    r"\s*FORA_ROLE_(\w+)\s*\}")
    d = os.path.join(source, "server")
    for f in sorted(os.listdir(d)):
        if f.startswith("api") and f.endswith(".c"):
            with open(os.path.join(d, f), encoding="utf-8") as fh:
                for pat, meth, role in rx.findall(fh.read()):
                    found[(pat, "GET" if meth == "NULL" else meth.strip('"'))] = role
    # answered by cmd_serve.c itself, and the documents among the built-in files
    with open(os.path.join(source, "server", "cmd_serve.c"), encoding="utf-8") as fh:
        if 'strcmp(url, "/metrics")' in fh.read():
            found[("/metrics", "GET")] = "NONE"
    with open(os.path.join(source, "CMakeLists.txt"), encoding="utf-8") as fh:
        cm = fh.read()
    for url in ("/v1/openapi.json", "/docs"):
        if f'"{url}=' in cm:
            found[(url, "GET")] = "NONE"
    return found


def check_routes(spec, source):
    found = server_routes(source)
    if len(found) < 10:
        fail(f"found only {len(found)} routes in server/api*.c: the pattern is out of date")
    ops = set(spec.ops)
    for r in sorted(set(found) - ops):
        fail(f"the server answers {r[1]} {r[0]} but the spec does not describe it")
    for r in sorted(ops - set(found)):
        fail(f"the spec describes {r[1]} {r[0]} but the server has no such route")
    for r, role in found.items():
        if r not in spec.ops:
            continue
        # the router asks for a token on every /v1 route; the documents are static files
        public = (role == "NONE" and not r[0].startswith("/v1/")) or r[0] == "/v1/openapi.json"
        if spec.public(*r) != public:
            fail(f"{r[1]} {r[0]}: the spec says public={spec.public(*r)}, the server {public}")
        if role == "ADMIN" and "403" not in spec.ops[r]["responses"]:
            fail(f"{r[1]} {r[0]} needs an admin token but documents no 403")
    return found


def check_examples(spec):
    """Every example in the spec matches its schema; returns how many."""
    n = 0

    def walk(node, where):
        nonlocal n
        if isinstance(node, dict):
            if "schema" in node and "example" in node:
                n += 1
                validate(node["schema"], node["example"], f"example at {where}")
            for k, v in node.items():
                walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}/{i}")

    walk(deref(spec.doc, spec.doc["paths"]), "#/paths")
    if n < 10:
        fail(f"only {n} examples found")
    return n


# ---- the calls -----------------------------------------------------------------------------


# parameters that make answers small, sent beside the one a sweep tests
LIGHT = {"limit": "1", "curve": "false", "max_lag": "1", "bin": "month"}


def values(p):
    """(value, accepted?) pairs for a query parameter, from its schema."""
    s = p.get("schema", {})
    out = []
    t = s.get("type")
    if "enum" in s:
        out += [(str(v), True) for v in s["enum"]]
        out.append(("no-such-value", False))
    elif t == "integer":
        lo, hi = s.get("minimum"), s.get("maximum")
        if lo is not None:
            out += [(str(lo), True), (str(lo - 1), False)]
        if hi is not None:
            out += [(str(hi), True), (str(hi + 1), False)]
        out += [("1.5", False), ("x", False), ("", False)]
    elif t == "number":
        lo, hi = s.get("minimum"), s.get("maximum")
        if lo is not None:
            out += [(repr(lo), True), (repr(lo - 0.01), False)]
        if hi is not None:
            out += [(repr(hi), True), (repr(hi + 0.01), False)]
        out += [("nan", False), ("x", False)]
    elif t == "boolean":
        out += [("true", True), ("false", True), ("yes", False)]
    elif "pattern" in s:
        m = re.search(r"\(([^()]*)\)", s["pattern"])
        for name in m.group(1).split("|") if m else []:
            out += [(name, True), ("-" + name, True)]
        out.append(("no-such-field", False))
    # a value the schema cannot express as wrong (a zone, a time, a label)
    if "x-test-invalid" in p:
        out.append((p["x-test-invalid"], False))
    return out


def run(args):
    with open(args.spec, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    spec = Spec(doc)
    srv = Server(args.base)
    rd, ad = args.read, args.admin
    path_vals = {"forum": args.forum, "member": args.member, "job": args.job, "group": "1"}
    bad_token = "fora_" + "0" * 40

    found = check_routes(spec, args.source)
    nex = check_examples(spec)

    # the served description is the YAML file; the docs page loads Redoc from the binary
    _, _, served = check(spec, srv, "GET", "/v1/openapi.json", want=200)
    if served != doc:
        fail("/v1/openapi.json differs from api-docs/openapi.yaml")
    _, _, page = check(spec, srv, "GET", "/docs", want=200)
    if page and ("/v1/openapi.json" not in page or "/docs/redoc.standalone.js" not in page):
        fail("/docs does not load Redoc with /v1/openapi.json")
    st, h, js = srv.request("GET", "/docs/redoc.standalone.js")
    if st != 200 or len(js) < 100000 or not h.get("content-type", "").startswith("text/javascript"):
        fail(f"/docs/redoc.standalone.js: {st}, {len(js)} bytes, {h.get('content-type')}")

    for (tpl, method), op in sorted(spec.ops.items()):
        pp = {p["name"]: path_vals[p["name"]] for p in spec.params(tpl, method, "path")}
        public = spec.public(tpl, method)
        tok = None if public else (ad if "403" in op["responses"] else rd)
        success = min(int(s) for s in op["responses"] if s.startswith("2"))
        # queued jobs stay queued (no worker): keep them cheap anyway
        extra = {"only": "summary"} if tpl.endswith("/recompute") else {}

        # success, and HEAD for GET routes (same status, no body)
        check(spec, srv, method, tpl, pp, extra, tok, want=success)
        if method == "GET":
            hs, _, hb = srv.request("HEAD", build_url(tpl, pp, None), tok)
            if hs != success or hb:
                fail(f"HEAD {tpl}: {hs}, {len(hb)} body bytes")

        # CSV: list answers as a table (one row per item), every other answer stays JSON
        if method == "GET" and success == 200:
            _, _, doc = check(spec, srv, method, tpl, pp, None, tok, want=200)
            st, h, table = check(spec, srv, method, tpl, pp, None, tok, want=200,
                                 headers={"Accept": "text/csv"})
            documented = "text/csv" in op["responses"]["200"].get("content", {})
            got_csv = h.get("content-type", "").startswith("text/csv")
            if documented != got_csv:
                fail(f"GET {tpl} with Accept: text/csv gave {h.get('content-type')}")
            elif got_csv and isinstance(doc, dict) and table is not None:
                if len(table) - 1 != len(doc.get("items", [])):
                    fail(f"GET {tpl} as CSV: {len(table) - 1} rows for {len(doc['items'])} items")
                if doc["items"] and not set(doc["items"][0]) & set(
                        c.split(".")[0] for c in table[0]):
                    fail(f"GET {tpl} as CSV: header {table[0][:5]} does not name the item fields")

        # every query parameter: values the spec allows pass, others are a 400 naming it
        # (the other parameters keep the answers small: the full ones were checked above)
        names = {p["name"] for p in spec.params(tpl, method, "query")}
        for p in spec.params(tpl, method, "query"):
            light = {k: v for k, v in LIGHT.items() if k in names and k != p["name"]}
            for value, ok in values(p):
                q = dict(extra)
                q.update(light)
                q.update(p.get("x-test-with", {}))  # what the value needs beside it
                q[p["name"]] = value
                if ok:
                    st, _, _ = check(spec, srv, method, tpl, pp, q, tok)
                    if st == 400:
                        fail(f"{method} {tpl}?{p['name']}={value}: rejected, the spec allows it")
                else:
                    check(spec, srv, method, tpl, pp, q, tok, want=400, detail=p["name"])
        # an unknown parameter, and one given twice
        if "400" in op["responses"]:
            check(spec, srv, method, tpl, pp, {"no_such_param": "1"}, tok, want=400,
                  detail="no_such_param")
            qp = spec.params(tpl, method, "query")
            if qp:
                name = qp[0]["name"]
                url = build_url(tpl, pp, None) + f"?{name}=1&{name}=1"
                st, _, body = srv.request(method, url, tok)
                if st != 400 or json.loads(body)["error"].get("detail") != name:
                    fail(f"{method} {url}: a repeated parameter gave {st}")

        # tokens: none, a bad one, a read token on an admin route
        if not public:
            check(spec, srv, method, tpl, pp, extra, None, want=401, detail="Authorization")
            check(spec, srv, method, tpl, pp, extra, bad_token, want=401, detail="Authorization")
        elif "401" in op["responses"]:
            check(spec, srv, method, tpl, pp, None, bad_token, want=401, detail="Authorization")
        if "403" in op["responses"]:
            check(spec, srv, method, tpl, pp, extra, rd, want=403, detail="Authorization")

        # unknown path segments, and a run that does not exist
        for p in spec.params(tpl, method, "path"):
            bad = dict(pp)
            bad[p["name"]] = "no-such-" + p["name"]
            check(spec, srv, method, tpl, bad, extra, tok, want=404, detail=p["name"])
            if p["name"] == "job":
                bad[p["name"]] = "999999999"
                check(spec, srv, method, tpl, bad, None, tok, want=404, detail="job")
        for p in spec.params(tpl, method, "query"):
            if p["name"] == "run":
                q = dict(p.get("x-test-with", {}))  # e.g. split=trajectory
                q["run"] = "999999999"
                check(spec, srv, method, tpl, pp, q, tok, want=404, detail="run")

        # a wrong method: 405 on API routes, 404 on static files and /metrics
        if "405" in op["responses"]:
            other = "DELETE" if method == "GET" else "GET"
            check(spec, srv, method, tpl, pp, None, tok, want=405, detail=other,
                  send_method=other)
        else:
            check(spec, srv, method, tpl, pp, None, tok, want=404, detail="path",
                  send_method="POST")

        # a body over 64 KiB
        if "413" in op["responses"]:
            check(spec, srv, method, tpl, pp, extra, tok, want=413, body=b"x" * (70 * 1024),
                  headers={"Content-Type": "application/octet-stream"})

    # documents the sweep reached only in their default form, and errors it could not build
    check(spec, srv, "GET", "/v1/jobs", None, {"forum": args.forum, "status": "completed"}, rd,
          want=200)
    check(spec, srv, "GET", "/v1/jobs", None, {"forum": "no-such-forum"}, rd, want=404,
          detail="forum")
    check(spec, srv, "POST", "/v1/forums/{forum}/recompute", {"forum": args.forum},
          {"only": "summary,colours"}, ad, want=400, detail="only")
    check(spec, srv, "GET", "/v1/forums/{forum}/members", {"forum": args.forum},
          {"in_network": "false", "limit": "1000"}, rd, want=200)

    # 503: a server whose database is gone
    if args.down:
        down = Server(args.down)
        for (tpl, method), op in sorted(spec.ops.items()):
            if "503" not in op["responses"]:
                continue
            pp = {p["name"]: path_vals[p["name"]] for p in spec.params(tpl, method, "path")}
            tok = None if spec.public(tpl, method) else args.down_token
            check(spec, down, method, tpl, pp, None, tok, want=503)

    # coverage: every documented answer was seen
    for (tpl, method), op in sorted(spec.ops.items()):
        for s in op["responses"]:
            if (tpl, method, int(s)) not in SEEN:
                fail(f"never exercised: {method} {tpl} {s}")
    print(f"openapi check: {len(spec.ops)} operations ({len(found)} server routes), "
          f"{len(SEEN)} (operation, status) pairs seen, {nex} examples valid, {CALLS} requests, "
          f"{len(FAILURES)} failures")
    return 1 if FAILURES else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--read", required=True)
    ap.add_argument("--admin", required=True)
    ap.add_argument("--forum", default="beer")
    ap.add_argument("--member", required=True)
    ap.add_argument("--job", required=True)
    ap.add_argument("--down")
    ap.add_argument("--down-token")
    sys.exit(run(ap.parse_args()))


if __name__ == "__main__":
    main()
