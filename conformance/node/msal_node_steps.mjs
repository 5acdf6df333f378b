// MSAL Node (npm @azure/msal-node, locked in package-lock.json), unchanged, against the emulator:
// app-only with a certificate, username/password, device code, the cache and refresh. One JSON
// line per step on stdout; the Go harness turns each into a subtest.
import { readFileSync } from "node:fs";
import https from "node:https";
import { randomUUID } from "node:crypto";
import { ConfidentialClientApplication, PublicClientApplication } from "@azure/msal-node";

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const host = new URL(cfg.base).host;
const exo = cfg.exchange_resource + "/.default";
const scc = cfg.compliance_resource + "/.default";
const admin = cfg.users.admin;
// knownAuthorities: the emulator is trusted as is (no instance discovery at
// login.microsoftonline.com).
const authOpts = (tenant) => ({ authority: `${cfg.base}/${tenant}`, knownAuthorities: [host] });

const report = (step, ok, detail = "") =>
  console.log(JSON.stringify({ step, ok: !!ok, detail: String(detail).slice(0, 2000) }));
const event = (kind, fields) => console.log(JSON.stringify({ event: kind, ...fields }));
const claims = (t) => JSON.parse(Buffer.from(t.split(".")[1], "base64url").toString());

function invoke(token, cmdlet, params = {}) {
  const body = JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: params } });
  const url = new URL(`${cfg.base}/adminapi/beta/${cfg.tenant}/InvokeCommand`);
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "X-CmdletName": cmdlet,
        Prefer: "odata.maxpagesize=1000", "Content-Length": Buffer.byteLength(body) },
    }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () => { try { resolve([res.statusCode, JSON.parse(data)]); } catch { resolve([res.statusCode, { raw: data }]); } });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const key = readFileSync(cfg.key_pem, "utf8"); // PKCS#8, as Node's crypto needs it
const certPEM = readFileSync(cfg.cert_pem, "utf8");
const cca = new ConfidentialClientApplication({
  auth: { clientId: cfg.app_id, ...authOpts(cfg.tenant),
    clientCertificate: { thumbprintSha256: cfg.thumbprint_sha256, privateKey: key, x5c: certPEM } },
});
const pca = new PublicClientApplication({ auth: { clientId: cfg.module_app_id, ...authOpts("organizations") } });
const state = {};

const steps = [
  ["client credentials with a certificate (Exchange)", async () => {
    const r = await cca.acquireTokenByClientCredential({ scopes: [exo] });
    state.app = r.accessToken;
    return [claims(r.accessToken).appid === cfg.app_id, "ok"];
  }],
  ["second resource with the same assertion (S&C)", async () => {
    // MSAL Node keeps its signed assertion until it expires and sends it again.
    const r = await cca.acquireTokenByClientCredential({ scopes: [scc] });
    return [claims(r.accessToken).aud === cfg.compliance_resource, claims(r.accessToken).aud];
  }],
  ["client credentials from the cache", async () => {
    const r = await cca.acquireTokenByClientCredential({ scopes: [exo] });
    return [r.fromCache === true && r.accessToken === state.app, `fromCache=${r.fromCache}`];
  }],
  ["InvokeCommand with the app token", async () => {
    const [status, body] = await invoke(state.app, "Get-AcceptedDomain");
    return [status === 200 && (body.value || []).length === 2, `${status} ${JSON.stringify(body).slice(0, 300)}`];
  }],
  ["unknown app is AADSTS700016", async () => {
    const other = new ConfidentialClientApplication({
      auth: { clientId: randomUUID(), ...authOpts(cfg.tenant),
        clientCertificate: { thumbprintSha256: cfg.thumbprint_sha256, privateKey: key } },
    });
    try {
      await other.acquireTokenByClientCredential({ scopes: [exo] });
      return [false, "a token for an unknown app"];
    } catch (e) {
      return [String(e.errorMessage || e.message).includes("AADSTS700016"), e.errorCode + " " + e.errorMessage];
    }
  }],
  ["username/password", async () => {
    const r = await pca.acquireTokenByUsernamePassword({ scopes: [exo], username: admin, password: cfg.passwords[admin] });
    state.user = r.accessToken;
    return [claims(r.accessToken).upn.toLowerCase() === admin.toLowerCase(), "ok"];
  }],
  ["wrong password is AADSTS50126", async () => {
    try {
      await pca.acquireTokenByUsernamePassword({ scopes: [exo], username: admin, password: "wrong-password" });
      return [false, "a token for a wrong password"];
    } catch (e) {
      return [e.errorCode === "invalid_grant" && String(e.errorMessage).includes("AADSTS50126"), e.errorCode + " " + e.errorMessage];
    }
  }],
  ["the signed-in account is cached", async () => {
    const accts = await pca.getTokenCache().getAllAccounts();
    state.account = accts.find((a) => a.username.toLowerCase() === admin.toLowerCase());
    return [accts.length === 1 && !!state.account, JSON.stringify(accts).slice(0, 300)];
  }],
  ["silent token from the cache", async () => {
    const r = await pca.acquireTokenSilent({ scopes: [exo], account: state.account });
    return [r.fromCache === true && r.accessToken === state.user, `fromCache=${r.fromCache}`];
  }],
  ["silent refresh keeps the account", async () => {
    const r = await pca.acquireTokenSilent({ scopes: [exo], account: state.account, forceRefresh: true });
    const accts = await pca.getTokenCache().getAllAccounts();
    return [r.fromCache === false && r.accessToken !== state.user && accts.length === 1, `fromCache=${r.fromCache} accounts=${accts.length}`];
  }],
  ["device code", async () => {
    const dev = new PublicClientApplication({ auth: { clientId: cfg.module_app_id, ...authOpts(cfg.tenant) } });
    const r = await dev.acquireTokenByDeviceCode({
      scopes: [exo],
      deviceCodeCallback: (resp) => event("device_code", { user_code: resp.userCode, upn: admin }),
    });
    return [claims(r.accessToken).upn.toLowerCase() === admin.toLowerCase(), "ok"];
  }],
];

for (const [name, fn] of steps) {
  try {
    const [ok, detail] = await fn();
    report(name, ok, detail);
  } catch (e) {
    report(name, false, `${e.name}: ${e.errorCode || ""} ${e.errorMessage || e.message}`);
  }
}
