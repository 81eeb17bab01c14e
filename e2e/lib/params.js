// Reads a stack config (Pulumi.<stack>.yaml) and writes the harness parameters (params.json)
// the VM's test harness uses: PSK, users, pool, the gateway's PPP address (the pool's first host).
// Usage: node params.js CONFIG OUT MODE PUBLIC_IP HOLD REBOOT SKIP_REBOOT
// (environment: E2E_PROFILE, E2E_STOP_AFTER, E2E_SSM_PATH: the stack's SSM parameter path, taken
// by run.sh from the parameters the SSM stand-in is seeded with)
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");
// The product's own node_modules has `yaml`.
const req = createRequire(path.join(__dirname, "..", "..", "package.json"));
const YAML = req("yaml");
const { stackOf } = require("./stack");

const [configFile, out, mode, publicIp, hold, reboot, skipReboot] = process.argv.slice(2);
const doc = YAML.parse(fs.readFileSync(configFile, "utf8")) || {};
const c = doc.config || {};
const get = (k) => c[`vpn-gateway:${k}`];
const psk = get("psk");
const users = get("users") || [];
const pool = get("clientPool") || "192.168.42.0/24";
const ikev2Pool = get("ikev2Pool") || "192.168.43.0/24";
// L2TP users: those with the l2tp method (the default) and not revoked; IKEv2-only users have no password
const l2tp = (u) => (!Array.isArray(u.methods) || u.methods.includes("l2tp")) && u.revoked !== true;
if (typeof psk !== "string" || !psk) throw new Error(`${configFile}: vpn-gateway:psk missing (plain value needed for the local test)`);
if (!users.filter(l2tp).length) throw new Error(`${configFile}: vpn-gateway:users has no L2TP user`);
for (const u of users.filter(l2tp)) {
    if (typeof u.password !== "string") throw new Error(`${configFile}: user ${u.name} has no plain password`);
}
const [net] = pool.split("/");
const o = net.split(".").map(Number);
const n = ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
const first = n + 1;
const gwPpp = [first >>> 24, (first >>> 16) & 255, (first >>> 8) & 255, first & 255].join(".");
const dyn = users.filter(l2tp).find((u) => !u.ip) || users.filter(l2tp)[0];
const stat = users.filter(l2tp).find((u) => u.ip) || null;
const params = {
    mode,
    hold: hold === "yes",
    // phase 1 ends by powering off (run.sh boots the same disk again) or by rebooting in place
    reboot: reboot === "guest" ? "reboot" : "poweroff",
    // first boot only (run.sh --skip-reboot): phase 1 is the last phase
    skip_reboot: skipReboot === "yes",
    // run.sh --profile: full (every check), platforms, kernel (the image's kernel checks, one client,
    // reboot), live (users and PSK changed in SSM on the running gateway), live-long (5,000 users, a
    // reboot while SSM is unreachable); parts joined with "+", e.g. platforms+live
    profile: process.env.E2E_PROFILE || "full",
    // run.sh --stop-after A,B: the harness ends once these checks have run
    stop_after: (process.env.E2E_STOP_AFTER || "").split(",").filter(Boolean),
    public_ip: publicIp,
    psk,
    pool_cidr: pool,
    gw_ppp_ip: gwPpp,
    dyn_user: { name: dyn.name, password: dyn.password, ip: dyn.ip || null },
    static_user: stat ? { name: stat.name, password: stat.password, ip: stat.ip } : { name: "", password: "", ip: "" },
    // every secret, for the check that none of them reaches a log
    users: users.filter(l2tp).map((u) => ({ name: u.name, password: u.password })),
    ikev2_pool_cidr: ikev2Pool,
    // what the gateway pushes to clients (IKEv2's mode config checks it), comma-separated
    dns_servers: [].concat(get("dnsServers") || ["8.8.8.8", "8.8.4.4"]).join(","),
    admin_cidr: get("adminCidr") || "",
    allow_client_to_client: String(get("allowClientToClient")) === "true",
    // the region the gateway's SSM client uses (the stack's aws:region): the test bed names
    // ssm.<region>.amazonaws.com after it and the metadata stand-in's placement follows it
    aws_region: stackOf(configFile).region,
    // where the stack's parameters are (/vpn-gateway/<stack>): the live checks change them there
    ssm_path: process.env.E2E_SSM_PATH || "",
};
fs.writeFileSync(out, JSON.stringify(params, null, 2));
