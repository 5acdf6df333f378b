"""Shared helpers for the conformance step scripts: one JSON line per step on stdout."""
import json
import sys
import traceback


def load_config():
    with open(sys.argv[1]) as f:
        return json.load(f)


def report(name, ok, detail=""):
    print(json.dumps({"step": name, "ok": bool(ok), "detail": str(detail)[:2000]}), flush=True)


def event(kind, **fields):
    fields["event"] = kind
    print(json.dumps(fields), flush=True)


def reply():
    line = sys.stdin.readline()
    return json.loads(line) if line else {}


def run(name, fn):
    """Runs one step; fn returns (ok, detail). An exception fails the step with its text."""
    try:
        ok, detail = fn()
    except Exception as e:  # a client error is the step's answer
        ok, detail = False, "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc(limit=3))
    report(name, ok, detail)
    return ok


def aadsts(result):
    """The AADSTS codes of an MSAL error result."""
    return (result or {}).get("error_codes") or []


def invoke(cfg, token, cmdlet, params=None, base=None):
    """POSTs one cmdlet to InvokeCommand as PROTOCOL.md shows; returns (status, body)."""
    import requests
    url = (base or cfg["base"]) + "/adminapi/beta/" + cfg["tenant"] + "/InvokeCommand"
    body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": params or {}}}
    r = requests.post(url, json=body, verify=cfg["ca_file"], timeout=30, headers={
        "Authorization": "Bearer " + token, "Prefer": "odata.maxpagesize=1000",
        "X-CmdletName": cmdlet, "X-ClientApplication": "ExoManagementModule", "X-ResponseFormat": "json"})
    try:
        return r.status_code, r.json()
    except ValueError:
        return r.status_code, {"raw": r.text}
