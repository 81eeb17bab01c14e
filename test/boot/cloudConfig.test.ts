import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
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

    it("keeps secrets files 0600 and scripts executable", () => {
        const mode = (p: string) => parsed.write_files.find((w) => w.path === p)!.permissions;
        expect(mode("/etc/ipsec.secrets")).to.equal("0600");
        expect(mode("/etc/ppp/chap-secrets")).to.equal("0600");
        expect(mode("/usr/local/sbin/vpn-gateway-firewall")).to.equal("0755");
        expect(mode("/usr/local/sbin/vpn-gateway-identity")).to.equal("0755");
    });

    it("checks the kernel first, stops at the first failure, then enables and starts the services", () => {
        expect(parsed.runcmd[0]).to.equal("set -e");
        expect(parsed.runcmd[1]).to.deep.equal(["/usr/local/sbin/vpn-gateway-kernel", "check"]);
        const services = ["vpn-gateway-firewall.service", "vpn-gateway-identity.service", "ipsec.service", "xl2tpd.service"];
        expect(parsed.runcmd).to.deep.include(["systemctl", "enable", ...services]);
        expect(parsed.runcmd[parsed.runcmd.length - 1]).to.deep.equal(["systemctl", "restart", ...services]);
    });

    it("carries values with YAML-special characters through unchanged", () => {
        const tricky = bootInput({ psk: "a:b#c{d}[e]&f*g!h|i>j%k@l`m---", users: [{ name: "-:{}[]&!%@", password: "p:q&s!t|>%{}[]?" }] });
        const back = parse(cloudConfig(tricky)) as { write_files: WrittenFile[] };
        const secrets = back.write_files.find((w) => w.path === "/etc/ipsec.secrets")!.content;
        expect(secrets).to.contain(`%any %any : PSK "a:b#c{d}[e]&f*g!h|i>j%k@l\`m---"`);
        const chap = back.write_files.find((w) => w.path === "/etc/ppp/chap-secrets")!.content;
        expect(chap).to.contain(`"-:{}[]&!%@"\tl2tpd\t"p:q&s!t|>%{}[]?"\t*`);
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

        it("gzips a large document, deterministically", () => {
            const users = Array.from({ length: 250 }, (_, i) => ({ name: `user${i}`, password: `password-${i}-xxxxxxxx` }));
            const big = cloudConfig(bootInput({ users }));
            expect(Buffer.byteLength(big)).to.be.greaterThan(EC2_USER_DATA_LIMIT);
            const bytes = userDataBytes(big);
            expect(isGzip(bytes)).to.equal(true);
            expect(bytes.length).to.be.at.most(EC2_USER_DATA_LIMIT);
            expect(zlib.gunzipSync(bytes).toString("utf8")).to.equal(big);
            expect(userDataBytes(big).equals(bytes)).to.equal(true);
        });

        it("fails with the figure, the limit and what to do when even gzip is too large", () => {
            const noise = (i: number) => zlib.deflateSync(Buffer.from(`seed-${i}`)).toString("base64").replace(/[^A-Za-z0-9]/g, "") + i.toString(36);
            const users = Array.from({ length: 1500 }, (_, i) => ({ name: `u${i}${noise(i).slice(0, 10)}`, password: `${noise(i + 7)}${noise(i * 31)}`.slice(0, 60) }));
            const huge = cloudConfig(bootInput({ clientPool: "10.20.0.0/16", users }));
            expect(() => userDataBytes(huge)).to.throw(UserDataTooLarge, /bytes gzip-compressed .* EC2 allows 16384\. Reduce the number of users/);
        });
    });
});
