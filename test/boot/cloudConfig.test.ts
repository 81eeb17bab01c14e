import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { parse } from "yaml";
import { EC2_USER_DATA_LIMIT, UserDataTooLarge, cloudConfig, firstBootComponents, isGzip, userDataBytes } from "../../components/boot/cloudConfig";
import { bootInput } from "../helpers";
import { snapshotsBeside } from "../snapshot";

const matchSnapshot = snapshotsBeside(__dirname);

interface WrittenFile {
    path: string;
    owner: string;
    permissions: string;
    defer: boolean;
    content: string;
}

describe("cloud-config composer", () => {
    const input = bootInput();
    const document = cloudConfig(input);
    const parsed = parse(document) as { package_update: boolean; packages: string[]; write_files: WrittenFile[]; runcmd: Array<string | string[]> };

    it("matches its snapshot", () => matchSnapshot("cloud-config.yaml", document));

    it("is one #cloud-config YAML document", () => {
        expect(document.startsWith("#cloud-config\n")).to.equal(true);
        expect(parsed).to.be.an("object");
    });

    it("installs every component's packages with cloud-init's packages module", () => {
        expect(parsed.package_update).to.equal(true);
        for (const p of ["libreswan", "xl2tpd", "ppp", "iptables", "curl"]) expect(parsed.packages).to.include(p);
    });

    it("writes every component file with its exact content, owner and mode, after the packages", () => {
        const expected = firstBootComponents(input).flatMap((c) => c.files);
        expect(parsed.write_files.map((f) => f.path)).to.deep.equal(expected.map((f) => f.path));
        for (const f of expected) {
            const written = parsed.write_files.find((w) => w.path === f.path)!;
            expect(written.content, f.path).to.equal(f.content);
            expect(written.permissions, f.path).to.equal(f.permissions);
            expect(written.owner, f.path).to.equal("root:root");
            expect(written.defer, f.path).to.equal(true);
        }
    });

    it("writes no secrets file (the sync writes them from SSM) and keeps scripts executable", () => {
        const mode = (p: string) => parsed.write_files.find((w) => w.path === p)!.permissions;
        const paths = parsed.write_files.map((w) => w.path);
        expect(paths).not.to.include("/etc/ipsec.secrets");
        expect(paths).not.to.include("/etc/ppp/chap-secrets");
        for (const script of [
            "/usr/local/sbin/vpn-gateway-firewall",
            "/usr/local/sbin/vpn-gateway-identity",
            "/usr/local/sbin/vpn-gateway-sync-install",
            "/etc/ppp/ip-up.d/vpn-gateway-session",
            "/etc/ppp/ip-down.d/vpn-gateway-session",
        ]) {
            expect(mode(script), script).to.equal("0755");
        }
        expect(parsed.packages).to.include("python3-boto3");
    });

    it("checks the kernel first, stops at the first failure, installs and runs the sync before the VPN daemons start, then enables and starts the services", () => {
        expect(parsed.runcmd[0]).to.equal("set -e");
        expect(parsed.runcmd[1]).to.deep.equal(["/usr/local/sbin/vpn-gateway-kernel", "check"]);
        const install = parsed.runcmd.findIndex((c) => Array.isArray(c) && c[0] === "/usr/local/sbin/vpn-gateway-sync-install");
        const boot = parsed.runcmd.findIndex((c) => JSON.stringify(c) === JSON.stringify(["/usr/local/sbin/vpn-gateway-sync", "boot"]));
        const restart = parsed.runcmd.length - 1;
        expect(install).to.be.greaterThan(1);
        expect(boot).to.equal(install + 1);
        expect(restart).to.be.greaterThan(boot);
        const services = ["vpn-gateway-firewall.service", "vpn-gateway-identity.service", "ipsec.service", "xl2tpd.service", "vpn-gateway-sync.timer"];
        // the boot unit: enabled for later boots, not started again now (runcmd just ran its work)
        expect(parsed.runcmd).to.deep.include(["systemctl", "enable", ...services, "vpn-gateway-sync-boot.service"]);
        expect(parsed.runcmd[restart]).to.deep.equal(["systemctl", "restart", ...services]);
    });

    it("holds no secret, and is the same bytes whoever the users are and whatever the PSK", () => {
        const configs: Array<Record<string, unknown>> = [
            {},
            { psk: "a:b#c{d}[e]&f*g!h|i>j%k@l`m---", users: [{ name: "-:{}[]&!%@", password: "p:q&s!t|>%{}[]?" }] },
            {
                psk: "another-psk-9876543210",
                users: [
                    { name: "alice", password: "alice-Other-pw" },
                    { name: "zed", password: "zed-pw-1234567", ip: "192.168.42.100" },
                ],
            },
            { users: Array.from({ length: 2000 }, (_, i) => ({ name: `user${i}`, password: `password-${i}-xxxxxxxx` })) },
        ];
        const reference = userDataBytes(document);
        for (const overrides of configs) {
            const input = bootInput(overrides);
            const bytes = userDataBytes(cloudConfig(input));
            expect(bytes.equals(reference), JSON.stringify(overrides).slice(0, 80)).to.equal(true);
            const text = (isGzip(bytes) ? zlib.gunzipSync(bytes) : bytes).toString("utf8");
            for (const secret of [input.settings.psk!, ...input.settings.users.map((u) => u.password)]) expect(text).not.to.contain(secret);
        }
    });

    it("is schema-valid for cloud-init (Debian's cloud-init schema)", function () {
        const probe = spawnSync("cloud-init", ["--version"]);
        if (probe.error) {
            // CI installs cloud-init, so there this check always runs.
            if (process.env.CI) expect.fail("cloud-init is not installed; .ci/run installs it");
            this.skip();
        }
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cc-"));
        const file = path.join(dir, "user-data");
        fs.writeFileSync(file, document);
        const out = execFileSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
        expect(out).to.match(/Valid cloud-config/);
    });

    describe("user-data bytes", () => {
        it("passes a document under EC2's limit through as is", () => {
            const small = "#cloud-config\nruncmd:\n  - [true]\n";
            const bytes = userDataBytes(small);
            expect(bytes.toString("utf8")).to.equal(small);
            expect(bytes.length).to.be.at.most(EC2_USER_DATA_LIMIT);
            expect(isGzip(bytes)).to.equal(false);
        });

        it("gzips a large document (every gateway's), deterministically", () => {
            const big = document;
            expect(Buffer.byteLength(big)).to.be.greaterThan(EC2_USER_DATA_LIMIT);
            const bytes = userDataBytes(big);
            expect(isGzip(bytes)).to.equal(true);
            expect(bytes.length).to.be.at.most(EC2_USER_DATA_LIMIT);
            expect(zlib.gunzipSync(bytes).toString("utf8")).to.equal(big);
            expect(userDataBytes(big).equals(bytes)).to.equal(true);
        });

        it("fits every gateway's within EC2's limit, with room to spare", () => {
            const bytes = userDataBytes(cloudConfig(bootInput({ adminCidr: "198.51.100.7/32", sshKeyName: "me", allowClientToClient: "true" })));
            expect(bytes.length).to.be.at.most(EC2_USER_DATA_LIMIT - 2048);
        });

        it("fails with the figure and the limit when even gzip is too large", () => {
            const noise = Array.from({ length: 500 }, (_, i) => createHash("sha512").update(`seed-${i}`).digest("base64")).join("\n");
            const huge = `#cloud-config\nwrite_files:\n  - path: /x\n    content: |\n      ${noise.replace(/\n/g, "\n      ")}\n`;
            expect(() => userDataBytes(huge)).to.throw(UserDataTooLarge, /bytes gzip-compressed .* EC2 allows 16384\. No setting changes its size/);
        });
    });
});
