// The gateway's sync (templates/sync/vpn-gateway-sync.mustache, a Python program) and its PPP
// session hook (templates/ppp/vpn-gateway-session.mustache): their own tests (test/boot/sync, Python
// unittest against a stubbed SSM client) run with the distribution's Python and python3-boto3, as
// on the gateway; and the checks that tie them to the rest of the project: they render to
// themselves, the hook passes shellcheck, and the files the sync writes have the lines the
// first-boot templates write.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { renderTemplate } from "../../components/boot/bootFile";
import { firstBootParts } from "../../components/boot/cloudConfig";
import { PPP_SERVER_NAME } from "../../components/boot/l2tp";
import { PSK, USERS, bootInput } from "../helpers";

const ROOT = path.join(__dirname, "..", "..");
const PYTHON = "/usr/bin/python3";
const PYTHON_TESTS = path.join(ROOT, "test", "boot", "sync", "test_vpn_gateway_sync.py");
// How many Python tests there were when this was written: fewer run means some were lost.
const PYTHON_TESTS_WRITTEN = 63;
const INSTALL_HINT = "the sync's tests need /usr/bin/python3 with boto3: `bash scripts/setup.sh test` installs python3-boto3 (Debian: apt-get install python3-boto3)";
// Every new template, by its name for renderTemplate; none may contain a Mustache tag.
const TEMPLATES = [
    "sync/vpn-gateway-sync",
    "sync/vpn-gateway-sync-install",
    "sync/vpn-gateway-sync.service",
    "sync/vpn-gateway-sync-boot.service",
    "sync/vpn-gateway-sync.timer",
    "ppp/vpn-gateway-session",
];

const read = (name: string) => fs.readFileSync(path.join(ROOT, "templates", `${name}.mustache`), "utf8");

/** Runs a Python snippet that has the program loaded as `sync`; its stdout. */
function withProgram(code: string, input: string): string {
    const prelude = [
        "import importlib.machinery, importlib.util, ipaddress, json, sys",
        "loader = importlib.machinery.SourceFileLoader('vpn_gateway_sync', 'templates/sync/vpn-gateway-sync.mustache')",
        "sync = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))",
        "sys.modules[loader.name] = sync",
        "loader.exec_module(sync)",
    ].join("\n");
    const r = spawnSync(PYTHON, ["-B", "-c", `${prelude}\n${code}`], { cwd: ROOT, input, encoding: "utf8" });
    if (r.error) expect.fail(`${INSTALL_HINT} (${r.error.message})`);
    expect(r.status, r.stderr).to.equal(0);
    return r.stdout;
}

/** The lines that are not comments: what pppd and pluto read. */
const entries = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));

describe("gateway sync (vpn-gateway-sync)", function () {
    this.timeout(180000);

    it("passes its Python tests with the distribution's python3 and python3-boto3", () => {
        const r = spawnSync(PYTHON, ["-B", "-m", "unittest", "discover", "-s", "test/boot/sync", "-v"], {
            cwd: ROOT,
            encoding: "utf8",
            env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
            maxBuffer: 64 * 1024 * 1024,
        });
        if (r.error) expect.fail(`${INSTALL_HINT} (${r.error.message})`);
        const out = `${r.stdout}${r.stderr}`;
        if (/No module named 'boto3'/.test(out)) expect.fail(`${INSTALL_HINT}\n${out}`);
        expect(r.status, out).to.equal(0);
        const ran = /^Ran (\d+) tests? in /m.exec(r.stderr);
        expect(ran, out).to.not.equal(null);
        const defined = (fs.readFileSync(PYTHON_TESTS, "utf8").match(/^    def test_/gm) ?? []).length;
        expect(defined).to.be.at.least(PYTHON_TESTS_WRITTEN);
        expect(Number(ran![1]), out).to.be.at.least(Math.max(PYTHON_TESTS_WRITTEN, defined));
        expect(r.stderr).to.match(/^OK$/m);
    });

    it("renders to itself: no Mustache tag in the program, its units or the session hook", () => {
        for (const name of TEMPLATES) {
            const text = read(name);
            expect(text.length, name).to.be.greaterThan(100);
            expect(renderTemplate(`${name}.mustache`, { users: [{ name: "x" }], psk: "x", serverName: "x" }), name).to.equal(text);
        }
        expect(read("sync/vpn-gateway-sync").startsWith("#!/usr/bin/python3\n")).to.equal(true);
        expect(read("sync/vpn-gateway-sync-install").startsWith("#!/usr/bin/python3\n")).to.equal(true);
    });

    it("names its units after the files they become, and orders the boot run before the VPN daemons", () => {
        const boot = read("sync/vpn-gateway-sync-boot.service");
        expect(boot).to.match(/^Before=ipsec\.service xl2tpd\.service$/m);
        expect(boot).to.match(/^After=network-online\.target$/m);
        expect(boot).to.match(/^Wants=network-online\.target$/m);
        expect(boot).to.match(/^ExecStart=\/usr\/local\/sbin\/vpn-gateway-sync boot$/m);
        // Requires/RequiredBy would restart ipsec (every session) whenever this unit restarts.
        expect(boot).not.to.match(/^(Requires|RequiredBy|BindsTo|PartOf)=/m);
        expect(read("sync/vpn-gateway-sync.service")).to.match(/^ExecStart=\/usr\/local\/sbin\/vpn-gateway-sync once$/m);
        const timer = read("sync/vpn-gateway-sync.timer");
        expect(timer).to.match(/^Unit=vpn-gateway-sync\.service$/m);
        for (const key of ["OnBootSec", "OnUnitActiveSec"]) {
            const m = new RegExp(`^${key}=(\\d+)s$`, "m").exec(timer);
            expect(m, key).to.not.equal(null);
            expect(Number(m![1]), key).to.be.at.most(30);
        }
        expect(timer).to.match(/^AccuracySec=1s$/m);
    });

    it("session hook: passes shellcheck as POSIX sh", () => {
        const file = path.join(ROOT, "templates", "ppp", "vpn-gateway-session.mustache");
        const r = spawnSync("shellcheck", ["--color=never", "-s", "sh", file], { cwd: ROOT, encoding: "utf8" });
        if (r.error) expect.fail(`shellcheck is not installed: \`bash scripts/setup.sh test\` installs it (${r.error.message})`);
        expect(`${r.stdout}${r.stderr}`.trim()).to.equal("");
        expect(r.status).to.equal(0);
    });

    it("writes the chap-secrets and ipsec.secrets lines the first-boot templates write", () => {
        const parts = firstBootParts(bootInput());
        const firstBoot = (files: { path: string; content: string }[], p: string) => files.find((f) => f.path === p)!.content;
        const chap = firstBoot(parts.ppp.files, "/etc/ppp/chap-secrets");
        const secrets = firstBoot(parts.ipsec.files, "/etc/ipsec.secrets");
        const out = JSON.parse(
            withProgram(
                [
                    "view = json.load(sys.stdin)",
                    "config = sync.SyncConfig('eu-west-1', '/vpn-gateway/dev', view['serverName'], ipaddress.IPv4Network('192.168.42.0/24'), ipaddress.IPv4Address('192.168.42.1'))",
                    "users = {u['name']: sync.User(u['name'], u['password'], u.get('ip')) for u in view['users']}",
                    "configuration = sync.Configuration(view['psk'], users)",
                    "print(json.dumps({'chap': sync.render_chap_secrets(configuration, config), 'ipsec': sync.render_ipsec_secrets(configuration, config)}))",
                ].join("\n"),
                JSON.stringify({ serverName: PPP_SERVER_NAME, psk: PSK, users: USERS }),
            ),
        );
        expect(entries(chap).length).to.equal(USERS.length);
        expect(entries(out.chap)).to.deep.equal([...entries(chap)].sort());
        expect(entries(out.ipsec)).to.deep.equal(entries(secrets));
        // The column header line of the template too.
        const header = chap.split("\n").find((l) => l.startsWith("# client"));
        expect(out.chap.split("\n")).to.include(header);
    });
});
