"""azure-identity (Debian python3-azure), unchanged, against the emulator: certificate,
username/password, device code and the managed identity sources it knows (App Service,
Cloud Shell, Azure Arc)."""
import base64
import json
import os

from azure.identity import (CertificateCredential, DeviceCodeCredential, ManagedIdentityCredential,
                            UsernamePasswordCredential)

from steps import event, invoke, load_config, run

cfg = load_config()
base, tenant = cfg["base"], cfg["tenant"]
exo = cfg["exchange_resource"] + "/.default"
scc = cfg["compliance_resource"] + "/.default"
admin = cfg["users"]["admin"]
mi = cfg["managed_identity"]
state = {}


def claims(token):
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


def s_certificate():
    # app-cert.pem + app-key.pem in one file: the key must be real PKCS#8 for cryptography.
    state["cert"] = CertificateCredential(tenant, cfg["app_id"], certificate_path=cfg["cert_key_pem"],
                                          authority=base, instance_discovery=False)
    tok = state["cert"].get_token(exo)
    state["app"] = tok.token
    return claims(tok.token).get("appid") == cfg["app_id"], "ok"


def s_second_scope():
    tok = state["cert"].get_token(scc)
    return claims(tok.token).get("aud") == cfg["compliance_resource"], claims(tok.token).get("aud")


def s_invoke():
    status, body = invoke(cfg, state["app"], "Get-AcceptedDomain")
    return status == 200 and len(body.get("value", [])) == 2, "%s %s" % (status, json.dumps(body)[:300])


def s_password():
    cred = UsernamePasswordCredential(cfg["module_app_id"], admin, cfg["passwords"][admin], tenant_id=tenant,
                                      authority=base, instance_discovery=False)
    tok = cred.get_token(exo)
    how = "emulator on :443" if cfg.get("port443") else "needs the emulator on :443 (MSAL Python's user-realm lookup drops the port)"
    return claims(tok.token).get("upn", "").lower() == admin.lower(), how


def s_device():
    def prompt(verification_uri, user_code, expires_on):
        event("device_code", user_code=user_code, upn=admin)
    cred = DeviceCodeCredential(cfg["module_app_id"], tenant_id=tenant, authority=base, prompt_callback=prompt,
                                instance_discovery=False, timeout=60)
    tok = cred.get_token(exo)
    return claims(tok.token).get("upn", "").lower() == admin.lower(), "ok"


def with_env(env, fn):
    keys = ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
            "IDENTITY_SERVER_THUMBPRINT"]
    saved = {k: os.environ.pop(k, None) for k in keys}
    os.environ.update(env)
    try:
        return fn()
    finally:
        for k in keys:
            os.environ.pop(k, None)
            if saved[k] is not None:
                os.environ[k] = saved[k]


def s_app_service():
    def go():
        tok = ManagedIdentityCredential().get_token(base + "/.default")
        return claims(tok.token).get("appid") == mi["system_client_id"], claims(tok.token).get("appid")
    return with_env({"IDENTITY_ENDPOINT": mi["app_service_endpoint"], "IDENTITY_HEADER": mi["identity_header"]}, go)


def s_app_service_user():
    def go():
        tok = ManagedIdentityCredential(client_id=mi["user_client_id"]).get_token(base + "/.default")
        return claims(tok.token).get("appid") == mi["user_client_id"], claims(tok.token).get("appid")
    return with_env({"IDENTITY_ENDPOINT": mi["app_service_endpoint"], "IDENTITY_HEADER": mi["identity_header"]}, go)


def s_cloud_shell():
    def go():
        tok = ManagedIdentityCredential().get_token(cfg["exchange_resource"] + "/.default")
        c = claims(tok.token)
        # Cloud Shell answers with the signed-in user's token.
        ok = c.get("upn", "").lower() == mi["cloud_shell_user"].lower()
        if ok:
            status, body = invoke(cfg, tok.token, "Get-AcceptedDomain")
            ok = status == 200
        return ok, json.dumps({k: c.get(k) for k in ("upn", "appid", "scp")})
    return with_env({"MSI_ENDPOINT": mi["cloud_shell_endpoint"]}, go)


def s_arc():
    def go():
        tok = ManagedIdentityCredential().get_token(base + "/.default")
        return claims(tok.token).get("appid") == mi["system_client_id"], "api-version 2019-11-01"
    return with_env({"IDENTITY_ENDPOINT": mi["arc_endpoint"], "IMDS_ENDPOINT": mi["arc_imds_endpoint"]}, go)


steps = [
    ("CertificateCredential with a PEM certificate and PKCS#8 key", s_certificate),
    ("second resource with the same credential (S&C)", s_second_scope),
    ("InvokeCommand with the app token", s_invoke),
    ("UsernamePasswordCredential", s_password),
    ("DeviceCodeCredential", s_device),
    ("ManagedIdentityCredential on App Service", s_app_service),
    ("ManagedIdentityCredential on App Service, user-assigned", s_app_service_user),
    ("ManagedIdentityCredential in Cloud Shell is the user", s_cloud_shell),
    ("ManagedIdentityCredential on Azure Arc", s_arc),
]
for name, fn in steps:
    run(name, fn)
