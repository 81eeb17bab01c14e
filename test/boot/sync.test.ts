// The gateway's agent (agent/vpn_gateway_agent, a Python package built into one zipapp) and its
// PPP session hook (files/ppp/vpn-gateway-session): the agent's own tests (agent/tests, pytest
// against a stubbed SSM client, with pyflakes3 and mypy: npm run test:agent, which npm test runs
// before mocha) run with the distribution's Python and python3-boto3, as on the gateway; here, the
// checks that tie them to the rest of the project: the agent names what ipsec.conf and the
// certificates name, its tests' limits are what sync.json carries, the hook passes shellcheck, and
// the agent reads the sync.json the user-data writes and the parameters the program creates as
// exactly the configured users and PSK.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { firstBootParts, gatewayParameters } from "../../components/boot/cloudConfig";
import { CRL_CHECK_INTERVAL, SERVER_CERT_NAME } from "../../components/boot/ipsec";
import { PPP_SERVER_NAME } from "../../components/boot/l2tp";
import { SYNC_LIMITS } from "../../components/boot/sync";
import { CRL_URL } from "../../components/pki/ledger";
import { NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH } from "../../components/config/settings";
import { PARAMETER_PATH, PSK, bootInput, pppdWords, syncReads } from "../helpers";

const ROOT = path.join(__dirname, "..", "..");
const AGENT = path.join(ROOT, "agent", "vpn_gateway_agent");
const FILES = path.join(ROOT, "files");

const agentSource = (module: string) => fs.readFileSync(path.join(AGENT, `${module}.py`), "utf8");
const read = (name: string) => fs.readFileSync(path.join(FILES, name), "utf8");

/** The lines that are not comments: what pppd and pluto read. */
const entries = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));

describe("gateway sync (vpn-gateway-sync)", function () {
    this.timeout(180000);

    it("names the server certificate, the CRL's file and pluto's CRL interval as ipsec.conf and the certificates do", () => {
        const ikev2 = agentSource("ikev2");
        expect(ikev2).to.match(new RegExp(`^SERVER_NICKNAME = "${SERVER_CERT_NAME}"`, "m"));
        expect(ikev2).to.match(new RegExp(`^CRL_CHECK_INTERVAL = ${CRL_CHECK_INTERVAL}$`, "m"));
        expect(CRL_URL.startsWith("file://")).to.equal(true);
        expect(agentSource("settings")).to.contain(`crl_file: str = "${CRL_URL.slice("file://".length)}"`);
    });

    it("gives the agent's tests the limits sync.json carries (agent/tests/limits.json), and the agent none of its own", () => {
        const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, "agent", "tests", "limits.json"), "utf8"));
        expect(fixture).to.deep.equal(JSON.parse(JSON.stringify(SYNC_LIMITS)));
        const syncJson = JSON.parse(firstBootParts(bootInput()).sync.files.find((f) => f.path === "/etc/vpn-gateway/sync.json")!.content);
        expect(syncJson.limits).to.deep.equal(fixture);
        // one source: no limit's value or wording written again in the package
        for (const file of fs.readdirSync(AGENT).filter((f) => f.endsWith(".py"))) {
            const text = fs.readFileSync(path.join(AGENT, file), "utf8");
            for (const rule of [SYNC_LIMITS.chapWordRule, SYNC_LIMITS.secretRule, SYNC_LIMITS.passwordFirstForbidden.problem])
                expect(text, file).not.to.contain(rule);
            expect(text, file).not.to.match(/\b(NAME_MAX_LENGTH|PASSWORD_MAX_LENGTH|PSK_MIN_LENGTH|PSK_MAX_LENGTH|CHAP_WORD_RULE|PSK_RULE)\s*=/);
        }
    });

    it("keeps every test of the agent and its installer (npm run test:agent runs them; fewer means some were lost)", () => {
        // test/boot/sync's two Python files held 103 and 7 when they moved to agent/tests
        const tests = path.join(ROOT, "agent", "tests");
        const modules = fs.readdirSync(tests).filter((f) => /^test_\w+\.py$/.test(f));
        const defined = modules.map((f) => (fs.readFileSync(path.join(tests, f), "utf8").match(/^ {4}def test_/gm) ?? []).length).reduce((a, b) => a + b, 0);
        expect(defined).to.be.at.least(103 + 7);
        // one test module per module of the package
        for (const module of fs.readdirSync(AGENT).filter((f) => f.endsWith(".py") && !f.startsWith("__")))
            expect(modules, module).to.include(`test_${module}`);
    });

    it("keeps the units and the installer as plain files (no Mustache tag), the installer a Python program", () => {
        for (const name of [
            "sync/vpn-gateway-sync-install",
            "sync/vpn-gateway-sync.service",
            "sync/vpn-gateway-sync-boot.service",
            "sync/vpn-gateway-sync.timer",
            "ppp/vpn-gateway-session",
        ]) {
            const text = read(name);
            expect(text.length, name).to.be.greaterThan(100);
            expect(text, name).not.to.contain("{{");
        }
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
        const file = path.join(FILES, "ppp", "vpn-gateway-session");
        const r = spawnSync("shellcheck", ["--color=never", "-s", "sh", file], { cwd: ROOT, encoding: "utf8" });
        if (r.error) expect.fail(`shellcheck is not installed: \`bash scripts/setup.sh test\` installs it (${r.error.message})`);
        expect(`${r.stdout}${r.stderr}`.trim()).to.equal("");
        expect(r.status).to.equal(0);
    });

    it("reads the parameters the program creates: exactly the configured users and PSK, written as pppd and pluto read them", () => {
        const stacks: Array<Record<string, unknown>> = [
            {},
            // values with every character a config may hold that means something in JSON, YAML or chap-secrets
            {
                psk: "a:b#c{d}[e]&f*g!h|i>j%k@l`m---",
                users: [
                    { name: "-:{}[]&!%@/<>", password: "p:q&s!t|>%{}[]?/<>=" },
                    { name: "x", password: "y", ip: "192.168.42.127" },
                ],
            },
            {
                clientPool: "10.8.0.0/24",
                users: [
                    { name: "carol", password: "c@rol-P4ss;word,with.punct" },
                    { name: "dave", password: "dave-pass-2", ip: "10.8.0.10" },
                ],
            },
            // enough users for every bucket, some static
            {
                clientPool: "10.20.0.0/16",
                users: Array.from({ length: 1000 }, (_, i) => ({
                    name: `user-${i}`,
                    password: `pw-${i}-${"x".repeat(i % 50)}`,
                    ...(i % 7 === 0 ? { ip: `10.20.${Math.floor(i / 250)}.${(i % 250) + 2}` } : {}),
                })),
            },
            // the longest names and passwords a config may hold: buckets split over several parameters
            {
                clientPool: "10.20.0.0/16",
                users: Array.from({ length: 5000 }, (_, i) => ({
                    name: `${i}-`.padEnd(NAME_MAX_LENGTH, "n"),
                    password: `${i}-`.padEnd(PASSWORD_MAX_LENGTH, "p"),
                    ip: `10.20.${Math.floor(i / 250)}.${(i % 250) + 2}`,
                })),
            },
        ];
        const cases = stacks.map((overrides) => {
            const input = bootInput(overrides);
            const syncJson = firstBootParts(input).sync.files.find((f) => f.path === "/etc/vpn-gateway/sync.json")!.content;
            return {
                input,
                syncJson,
                parameters: gatewayParameters({ parameterPath: input.parameterPath, psk: input.settings.psk!, users: input.settings.users }),
            };
        });
        const split = cases[4].parameters.filter((p) => /\/users\/[0-9a-f]{2}-\d+$/.test(p.name));
        expect(split.length, "the 5,000 longest users need split buckets").to.be.greaterThan(0);
        const readings = syncReads(cases);
        readings.forEach((reading, i) => {
            const { settings } = cases[i].input;
            expect(reading.problems, `stack ${i}`).to.deep.equal([]);
            expect(reading.psk).to.equal(settings.psk);
            expect(reading.users).to.deep.equal(Object.fromEntries(settings.users.map((u) => [u.name, [u.name, u.password, u.ip ?? null]])));
            // chap-secrets: one record per user, as pppd parses it
            const records = reading
                .chapSecrets!.split("\n")
                .map(pppdWords)
                .filter((w) => w.length > 0);
            expect(records).to.have.deep.members(settings.users.map((u) => [u.name, PPP_SERVER_NAME, u.password, u.ip ?? "*"]));
            expect(reading.chapSecrets!.split("\n")).to.include("# client\tserver\tsecret\tIP addresses");
            expect(entries(reading.ipsecSecrets!)).to.deep.equal([`%any %any : PSK "${settings.psk}"`]);
        });
    });

    it("refuses a static address outside the range sync.json names (xl2tpd's half of the pool)", () => {
        const input = bootInput();
        const syncJson = firstBootParts(input).sync.files.find((f) => f.path === "/etc/vpn-gateway/sync.json")!.content;
        const [reading] = syncReads([
            {
                syncJson,
                parameters: [
                    { name: `${PARAMETER_PATH}/psk`, value: PSK },
                    { name: `${PARAMETER_PATH}/users/00`, value: JSON.stringify({ format: 1, users: [{ name: "a", password: "p", ip: "192.168.42.200" }] }) },
                ],
            },
        ]);
        expect(reading.problems).to.deep.equal([
            `${PARAMETER_PATH}/users/00: users[0].ip: 192.168.42.200 is outside the static addresses 192.168.42.2 to 192.168.42.127 (xl2tpd hands out the rest of 192.168.42.0/24)`,
        ]);
    });
});
