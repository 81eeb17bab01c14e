#!/usr/bin/python3
"""Test bed: AWS Systems Manager Parameter Store for the gateway, as the gateway reaches the real one.

Runs in the test bed's `aws` network namespace, chrooted into /opt/aws-standin: a Debian 13
(trixie) tree holding python3-moto and its dependencies (e2e/image/build.sh, stage S), so the
emulator is the same moto on the bookworm and the trixie images. The SSM API is moto's own
(moto_server's WSGI application, in this process); this file only adds what sits around the real
endpoint:

  public listener  --listen (0.0.0.0:443), HTTPS with --cert/--key (a certificate for
                   ssm.REGION.amazonaws.com signed by the test bed's CA, which the image's
                   trust store holds). Every request must be SigV4-signed with credentials the
                   metadata stand-in issued (--credentials, written by imds.py) for the ssm service
                   in --region, as IAM would insist; the limits moto does not enforce are enforced
                   here with AWS's error codes: GetParametersByPath MaxResults 1..10, a Standard
                   parameter's value at most 4096 characters (Advanced: 8192). One JSON line per
                   request goes to --log (action, parameter names, paging, status: never a value).
                   Starts closed; `POST /e2e/front/up` opens it (after seeding), `.../down` closes
                   the socket again (the client gets "connection refused"), the store is kept.
  admin listener   --admin (127.0.0.1:5000 in the namespace: only the test bed reaches it), plain
                   HTTP, no signature check (the limits still apply): the harness's seeding and
                   changes (ssm_admin.py), and /e2e/... control requests:
                     GET  /e2e/status             {"front": "up"|"down", "pages": ..., "restored": ...}
                     POST /e2e/front/up|down      open / close the public listener
                     POST /e2e/pages/short|normal short: every GetParametersByPath answer on the
                                                  public listener is preceded by an empty page that
                                                  carries a NextToken (AWS documents that a page may
                                                  be short or empty and still have a token)
                     POST /e2e/save               write the store to --state now
  persistence      the SSM store (every parameter with its versions, labels and dates) is pickled
                   to --state after every change and at SIGTERM, and loaded at start: the gateway's
                   reboot (a second boot of the same disk) finds AWS as it left it.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import io
import json
import os
import pickle
import signal
import ssl
import sys
import threading
import time
import uuid

from werkzeug.serving import make_server

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.ssm.models import ssm_backends

ap = argparse.ArgumentParser()
ap.add_argument("--region", required=True)
ap.add_argument("--listen", default="0.0.0.0:443")
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--admin", default="127.0.0.1:5000")
ap.add_argument("--credentials", required=True, help="imds.py's --credentials-file")
ap.add_argument("--state", required=True)
ap.add_argument("--log", required=True)
args = ap.parse_args()

STANDARD_MAX = 4096
ADVANCED_MAX = 8192
PAGE_MAX = 10
CLOCK_SKEW = 300
MUTATING = {
    "PutParameter", "DeleteParameter", "DeleteParameters", "LabelParameterVersion",
    "UnlabelParameterVersion", "AddTagsToResource", "RemoveTagsFromResource",
}
EMPTY_TOKEN = "e2e-empty:"

MOTO = DomainDispatcherApplication(create_backend_app)
MOTO.debug = True  # as moto_server's main() sets it

STATE_LOCK = threading.Lock()   # one change (and its save) at a time
LOG_LOCK = threading.Lock()
CTRL = {"front": "down", "pages": "normal", "restored": False}
FRONT = {"server": None, "thread": None}
FRONT_LOCK = threading.Lock()
CREDS = {"mtime": None, "by_key": {}}


def stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def log(entry):
    line = json.dumps(dict({"t": stamp()}, **entry), sort_keys=True)
    with LOG_LOCK, open(args.log, "a") as f:
        f.write(line + "\n")


# ---- the store on disk ------------------------------------------------------------------------
def save_state():
    """Every parameter (name -> its list of versions, moto's Parameter objects) of every account
    and region; not moto's own /aws/service/... public parameters, which it loads by itself."""
    data = {}
    for account, regions in list(ssm_backends.items()):
        for region, backend in list(regions.items()):
            params = {name: versions for name, versions in dict.items(backend._parameters)
                      if versions and not name.startswith("/aws/")}
            if params:
                data[(account, region)] = params
    tmp = args.state + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, args.state)


def load_state():
    try:
        with open(args.state, "rb") as f:
            data = pickle.load(f)
    except FileNotFoundError:
        return False
    for (account, region), params in data.items():
        store = ssm_backends[account][region]._parameters  # moto 5.1 keeps the store there
        for name, versions in params.items():
            dict.__setitem__(store, name, versions)
    return True


# ---- AWS-shaped answers -----------------------------------------------------------------------
def aws_error(start_response, status, code, message):
    body = json.dumps({"__type": code, "message": message}).encode()
    start_response(status, [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    ])
    return [body]


def json_reply(start_response, doc, status="200 OK"):
    body = json.dumps(doc).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def limits_problem(action, req):
    """The SSM limits moto does not enforce, with AWS's messages; None when within them."""
    if action == "GetParametersByPath" and "MaxResults" in req:
        n = req["MaxResults"]
        if isinstance(n, int) and n > PAGE_MAX:
            return ("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy "
                    "constraint: Member must have value less than or equal to %d" % (n, PAGE_MAX))
    if action == "PutParameter" and isinstance(req.get("Value"), str):
        tier = req.get("Tier") or "Standard"
        n = len(req["Value"])
        if tier == "Standard" and n > STANDARD_MAX:
            return ("Standard tier parameters support a maximum parameter value of 4096 characters. "
                    "To create a larger parameter value, upgrade the parameter to use the "
                    "advanced-parameter tier. For more information, see "
                    "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html")
        if n > ADVANCED_MAX:
            return ("1 validation error detected: Value at 'value' failed to satisfy constraint: "
                    "Member must have length less than or equal to %d" % ADVANCED_MAX)
    return None


# ---- SigV4 with the instance role's credentials ---------------------------------------------------
def known_credentials():
    try:
        mtime = os.stat(args.credentials).st_mtime_ns
    except FileNotFoundError:
        return {}
    if mtime != CREDS["mtime"]:
        with open(args.credentials) as f:
            doc = json.load(f)
        CREDS["by_key"] = {c["AccessKeyId"]: c for c in doc.get("credentials", [])}
        CREDS["mtime"] = mtime
    return CREDS["by_key"]


def header(environ, name):
    if name == "content-type":
        return environ.get("CONTENT_TYPE", "")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH", "")
    return environ.get("HTTP_" + name.upper().replace("-", "_"), "")


def auth_problem(environ, body):
    """None when the request is signed (SigV4) with a live credential of the instance role, for
    ssm in this region; else (code, message) as AWS answers."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if not auth:
        return "MissingAuthenticationTokenException", "Missing Authentication Token"
    try:
        algorithm, rest = auth.split(" ", 1)
        fields = dict(p.strip().split("=", 1) for p in rest.split(","))
        key_id, date, region, service, term = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        signature = fields["Signature"]
    except (ValueError, KeyError):
        return "IncompleteSignatureException", "Authorization header requires Credential, SignedHeaders and Signature."
    if algorithm != "AWS4-HMAC-SHA256" or term != "aws4_request":
        return "IncompleteSignatureException", "Unsupported signature algorithm or scope."
    cred = known_credentials().get(key_id)
    if cred is None:
        return "UnrecognizedClientException", "The security token included in the request is invalid."
    if header(environ, "x-amz-security-token") != cred["Token"]:
        return "UnrecognizedClientException", "The security token included in the request is invalid."
    expires = datetime.datetime.strptime(cred["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    if expires <= now:
        return "ExpiredTokenException", "The security token included in the request is expired"
    if region != args.region or service != "ssm":
        return "InvalidSignatureException", "Credential should be scoped to a valid region and service (%s, ssm)." % args.region
    amz_date = header(environ, "x-amz-date")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return "IncompleteSignatureException", "X-Amz-Date is missing or malformed."
    if abs((now - when).total_seconds()) > CLOCK_SKEW or not amz_date.startswith(date):
        return "InvalidSignatureException", "Signature expired: %s is now earlier or later than the allowed skew." % amz_date
    if "host" not in signed:
        return "InvalidSignatureException", "'Host' must be a signed header."
    canonical_headers = "".join(
        "%s:%s\n" % (h, " ".join(header(environ, h).split())) for h in signed)
    payload = header(environ, "x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical = "\n".join([
        environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/", environ.get("QUERY_STRING", ""),
        canonical_headers, ";".join(signed), payload])
    scope = "/".join([date, region, service, term])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + cred["SecretAccessKey"]).encode()
    for part in (date, region, service, term):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return ("InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
    return None


# ---- the two listeners ------------------------------------------------------------------------
def summary(req):
    """What a request asked, without values."""
    out = {}
    for k in ("Path", "Recursive", "WithDecryption", "MaxResults", "Name", "Type", "Overwrite", "Tier"):
        if k in req:
            out[k] = req[k]
    if "Names" in req:
        out["Names"] = req["Names"]
    if "NextToken" in req:
        out["NextToken"] = True
    if isinstance(req.get("Value"), str):
        out["ValueLength"] = len(req["Value"])
    return out


def handle(environ, start_response, listener):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    action = target.split(".", 1)[1] if target.startswith("AmazonSSM.") else target
    try:
        req = json.loads(body) if body else {}
    except ValueError:
        req = {}
    if not isinstance(req, dict):
        req = {}
    entry = {"listener": listener, "peer": environ.get("REMOTE_ADDR"), "action": action, "request": summary(req)}
    result = {}

    def capture(status, headers, exc_info=None):
        result["status"] = int(status.split()[0])
        return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

    def finish(chunks):
        entry["status"] = result.get("status")
        if entry["status"] and entry["status"] >= 400 and "error" not in entry:
            try:  # moto's own error: its __type (ParameterNotFound, ...)
                entry["error"] = json.loads(b"".join(chunks)).get("__type")
            except (ValueError, AttributeError):
                pass
        log(entry)
        return chunks

    if listener == "public":
        problem = auth_problem(environ, body)
        m = (environ.get("HTTP_AUTHORIZATION", "") + " ").split("Credential=", 1)
        entry["access_key"] = m[1].split("/", 1)[0] if len(m) == 2 else None
        if problem:
            entry["error"] = problem[0]
            return finish(aws_error(capture, "400 Bad Request", *problem))
    problem = limits_problem(action, req)
    if problem:
        entry["error"] = "ValidationException"
        return finish(aws_error(capture, "400 Bad Request", "ValidationException", problem))
    if listener == "public" and action == "GetParametersByPath" and CTRL["pages"] == "short":
        token = req.get("NextToken")
        if isinstance(token, str) and token.startswith(EMPTY_TOKEN):
            original = base64.urlsafe_b64decode(token[len(EMPTY_TOKEN):].encode()).decode()
            if original:
                req["NextToken"] = original
            else:
                req.pop("NextToken")
            body = json.dumps(req).encode()
        else:
            entry["injected_empty_page"] = True
            fake = EMPTY_TOKEN + base64.urlsafe_b64encode((token or "").encode()).decode()
            return finish(json_reply(capture, {"Parameters": [], "NextToken": fake}))
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    if action in MUTATING:
        with STATE_LOCK:
            chunks = list(MOTO(environ, capture))
            if result.get("status", 500) < 300:
                save_state()
        return finish(chunks)
    return finish(list(MOTO(environ, capture)))


def public_app(environ, start_response):
    return handle(environ, start_response, "public")


def front(state):
    """Opens (up) or closes (down) the public listener."""
    with FRONT_LOCK:
        if state == "up" and FRONT["server"] is None:
            host, port = args.listen.rsplit(":", 1)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(args.cert, args.key)
            server = make_server(host, int(port), public_app, threaded=True, ssl_context=ctx)
            thread = threading.Thread(target=server.serve_forever, name="public", daemon=True)
            thread.start()
            FRONT.update(server=server, thread=thread)
        elif state == "down" and FRONT["server"] is not None:
            FRONT["server"].shutdown()
            FRONT["server"].server_close()
            FRONT.update(server=None, thread=None)
        CTRL["front"] = state
    log({"listener": "admin", "action": "e2e/front/" + state})


def admin_app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if not path.startswith("/e2e/"):
        return handle(environ, start_response, "admin")
    method = environ["REQUEST_METHOD"]
    if method == "GET" and path == "/e2e/status":
        count = sum(1 for regions in list(ssm_backends.values()) for b in list(regions.values())
                    for name, versions in dict.items(b._parameters) if versions and not name.startswith("/aws/"))
        return json_reply(start_response, dict(CTRL, region=args.region, parameters=count))
    if method == "POST" and path in ("/e2e/front/up", "/e2e/front/down"):
        front(path.rsplit("/", 1)[1])
        return json_reply(start_response, dict(CTRL))
    if method == "POST" and path in ("/e2e/pages/short", "/e2e/pages/normal"):
        CTRL["pages"] = path.rsplit("/", 1)[1]
        log({"listener": "admin", "action": "e2e/pages/" + CTRL["pages"]})
        return json_reply(start_response, dict(CTRL))
    if method == "POST" and path == "/e2e/save":
        with STATE_LOCK:
            save_state()
        return json_reply(start_response, dict(CTRL))
    return json_reply(start_response, {"error": "unknown control request %s %s" % (method, path)}, "404 Not Found")


def main():
    CTRL["restored"] = load_state()
    host, port = args.admin.rsplit(":", 1)
    admin = make_server(host, int(port), admin_app, threaded=True)
    done = threading.Event()

    def stop(signum, _frame):
        with STATE_LOCK:
            save_state()
        sys.stderr.write("aws_standin: signal %d, store saved to %s\n" % (signum, args.state))
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=admin.serve_forever, name="admin", daemon=True).start()
    sys.stderr.write("aws_standin: admin on %s, public %s (closed until /e2e/front/up), region %s, store %s\n"
                     % (args.admin, args.listen, args.region, "restored from " + args.state if CTRL["restored"] else "empty"))
    sys.stderr.flush()
    while not done.wait(3600):
        pass


if __name__ == "__main__":
    main()
