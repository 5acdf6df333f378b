"""MSAL Python (Debian python3-msal), unchanged, against the emulator: app-only with a
certificate, username/password, device code, authorization code, cache and refresh."""
import base64
import json
import sys
import uuid

import msal
import requests

from steps import aadsts, event, invoke, load_config, reply, run

cfg = load_config()
base, tenant = cfg["base"], cfg["tenant"]
exo = cfg["exchange_resource"] + "/.default"
scc = cfg["compliance_resource"] + "/.default"
admin = cfg["users"]["admin"]
pw = cfg["passwords"]


def http_client():
    """requests, as MSAL uses it. Without the front on 443 (not root), a session that puts the
    emulator's port back into the user-realm lookup, which MSAL Python 1.21 sends to
    https://{host}/common/userrealm/... without the authority's port."""
    s = requests.Session()
    s.verify = cfg["ca_file"]
    if cfg.get("port443"):
        return s
    host = base.split("://", 1)[1].split(":")[0]
    orig = s.request

    def request(method, url, *a, **kw):
        prefix = "https://%s/common/userrealm/" % host
        if url.lower().startswith(prefix):
            url = base + url[len("https://" + host):]
        return orig(method, url, *a, **kw)
    s.request = request
    return s


with open(cfg["key_pem"]) as f:
    key = f.read()
cred = {"private_key": key, "thumbprint": cfg["thumbprint"]}
apps = {}


def conf_app():
    if "conf" not in apps:
        apps["conf"] = msal.ConfidentialClientApplication(
            cfg["app_id"], client_credential=cred, authority=base + "/" + tenant,
            instance_discovery=False, http_client=http_client())
    return apps["conf"]


def s_discovery():
    app = conf_app()
    return app.authority.token_endpoint.startswith(base + "/" + cfg["tenant_id"] + "/"), app.authority.token_endpoint


tokens = {}


def s_client_credentials():
    r = conf_app().acquire_token_for_client([exo])
    tokens["app"] = r.get("access_token")
    return bool(tokens["app"]), r.get("error_description", "ok")


def s_invoke_app():
    status, body = invoke(cfg, tokens["app"], "Get-AcceptedDomain")
    return status == 200 and len(body.get("value", [])) == 2, "%s %s" % (status, json.dumps(body)[:300])


def s_second_scope():
    # MSAL Python keeps its signed client assertion for minutes and sends it again: the second
    # resource must be served with the same assertion.
    r = conf_app().acquire_token_for_client([scc])
    return bool(r.get("access_token")), r.get("error_description", "ok")


def s_cache():
    # MSAL Python 1.21 reads an app token from its cache with acquire_token_silent(account=None)
    # (acquire_token_for_client itself always asks Entra in that version).
    r = conf_app().acquire_token_silent([exo], account=None)
    return bool(r) and r.get("access_token") == tokens["app"], json.dumps(r)[:200] if r else "None"


def s_unknown_app():
    app = msal.ConfidentialClientApplication(
        str(uuid.uuid4()), client_credential=cred, authority=base + "/" + tenant,
        instance_discovery=False, http_client=http_client())
    r = app.acquire_token_for_client([exo])
    return 700016 in aadsts(r) and r.get("error") == "unauthorized_client", json.dumps(r)[:300]


def pub_app():
    if "pub" not in apps:
        apps["pub"] = msal.PublicClientApplication(
            cfg["module_app_id"], authority=base + "/organizations", instance_discovery=False, http_client=http_client())
    return apps["pub"]


def s_ropc():
    r = pub_app().acquire_token_by_username_password(admin, pw[admin], scopes=[exo])
    tokens["user"] = r.get("access_token")
    how = "emulator on :443" if cfg.get("port443") else "user-realm port rewritten by the http_client (not root)"
    return bool(tokens["user"]), "%s; %s" % (how, r.get("error_description", "ok"))


def ropc_error(upn, password, code):
    r = pub_app().acquire_token_by_username_password(upn, password, scopes=[exo])
    return code in aadsts(r), json.dumps(r)[:300]


def s_accounts():
    accts = pub_app().get_accounts(username=admin)
    return len(accts) == 1, json.dumps(accts)[:300]


def s_silent():
    acct = pub_app().get_accounts(username=admin)[0]
    r = pub_app().acquire_token_silent([exo], account=acct)
    return bool(r and r.get("access_token")), json.dumps(r)[:200] if r else "None"


def s_refresh():
    acct = pub_app().get_accounts(username=admin)[0]
    r = pub_app().acquire_token_silent_with_error([exo], account=acct, force_refresh=True)
    ok = bool(r and r.get("access_token")) and r.get("access_token") != tokens["user"]
    # The refresh answer carries id_token and client_info: the account stays filed under its id.
    ok = ok and len(pub_app().get_accounts(username=admin)) == 1
    return ok, (r or {}).get("error_description", "ok")


def s_invoke_user():
    status, body = invoke(cfg, tokens["user"], "Get-Mailbox", {"ResultSize": 1})
    return status == 200 and len(body.get("value", [])) == 1, "%s %s" % (status, json.dumps(body)[:300])


flows = {}


def s_device_initiate():
    app = msal.PublicClientApplication(cfg["module_app_id"], authority=base + "/" + tenant, instance_discovery=False, http_client=http_client())
    apps["device"] = app
    flow = app.initiate_device_flow(scopes=[exo])
    flows["device"] = flow
    return bool(flow.get("user_code")) and flow.get("verification_uri", "").startswith(base), json.dumps(flow)[:300]


def s_device_complete():
    event("device_code", user_code=flows["device"]["user_code"], upn=admin)
    r = apps["device"].acquire_token_by_device_flow(flows["device"])
    return bool(r.get("access_token")), r.get("error_description", "ok")


def s_auth_code():
    app = msal.PublicClientApplication(cfg["module_app_id"], authority=base + "/organizations", instance_discovery=False, http_client=http_client())
    flow = app.initiate_auth_code_flow([exo], redirect_uri=cfg["redirect_uri"], login_hint=admin)
    event("authorize", url=flow["auth_uri"], upn=admin)
    ans = reply()
    if "error" in ans:
        return False, ans["error"]
    # acquire_token_by_auth_code_flow checks state, PKCE and that the id_token's nonce is the flow's.
    r = app.acquire_token_by_auth_code_flow(flow, ans["query"])
    tokens["code"] = r
    return bool(r.get("access_token")), r.get("error_description", "ok")


def s_id_token():
    c = tokens["code"].get("id_token_claims") or {}
    return c.get("preferred_username", "").lower() == admin.lower() and bool(c.get("nonce")), json.dumps(c)[:300]


steps = [
    ("discovery at a tenant authority", s_discovery),
    ("client credentials with a certificate (Exchange)", s_client_credentials),
    ("InvokeCommand with the app token", s_invoke_app),
    ("second resource with the same assertion (S&C)", s_second_scope),
    ("app token from the cache", s_cache),
    ("unknown app is AADSTS700016", s_unknown_app),
    ("username/password (with its user-realm lookup)", s_ropc),
    ("wrong password is AADSTS50126", lambda: ropc_error(admin, "wrong-password", 50126)),
    ("MFA user is AADSTS50076", lambda: ropc_error(cfg["users"]["mfa"], pw[cfg["users"]["mfa"]], 50076)),
    ("disabled user is AADSTS50057", lambda: ropc_error(cfg["users"]["disabled"], pw[cfg["users"]["disabled"]], 50057)),
    ("the signed-in account is cached", s_accounts),
    ("silent token from the cache", s_silent),
    ("silent refresh keeps the account", s_refresh),
    ("InvokeCommand with the user token", s_invoke_user),
    ("device flow starts", s_device_initiate),
    ("device flow completes", s_device_complete),
    ("authorization code flow (state, PKCE, nonce)", s_auth_code),
    ("id_token claims", s_id_token),
]
for name, fn in steps:
    run(name, fn)
