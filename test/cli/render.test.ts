// The render command: the seam the VM test boots, and the same messages as pulumi up.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import * as zlib from "zlib";
import { cloudConfig, isGzip } from "../../components/boot/cloudConfig";
import { parseSettings } from "../../components/config/settings";
import { rawConfigFromStackFile } from "../../components/config/stackFile";

const ROOT = path.join(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "Pulumi.example.yaml");

function render(...args: string[]) {
    return spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(ROOT, "cli/render.ts"), ...args], {
        encoding: "utf8",
        cwd: ROOT,
    });
}

function tempFile(name: string, content: string): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "render-")), name);
    fs.writeFileSync(file, content);
    return file;
}

describe("render command", function () {
    this.timeout(60000);

    it("prints the example stack's cloud-config, identical to the program's", () => {
        const result = render("--config", EXAMPLE);
        expect(result.status, result.stderr).to.equal(0);
        const settings = parseSettings(rawConfigFromStackFile(fs.readFileSync(EXAMPLE, "utf8"), EXAMPLE));
        expect(result.stdout).to.equal(cloudConfig({ settings, psk: settings.psk! }));
        expect(result.stdout).not.to.contain("- path: /etc/vpn-gateway/public-ip");
    });

    it("writes the exact user-data bytes with --out, carrying --public-ip", () => {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "render-")), "user-data");
        const result = render("--config", EXAMPLE, "--public-ip", "198.51.100.20", "--out", out);
        expect(result.status, result.stderr).to.equal(0);
        // over 16 KB plain, the exact bytes are gzip (what EC2 and cloud-init take)
        const bytes = fs.readFileSync(out);
        const written = (isGzip(bytes) ? zlib.gunzipSync(bytes) : bytes).toString("utf8");
        expect(written.startsWith("#cloud-config\n")).to.equal(true);
        const files = (parse(written) as { write_files: Array<{ path: string; content: string }> }).write_files;
        expect(files.find((f) => f.path === "/etc/vpn-gateway/public-ip")!.content).to.equal("198.51.100.20\n");
        expect(fs.statSync(out).mode & 0o777).to.equal(0o600);
        expect(result.stdout).to.equal("");
    });

    it("exits non-zero with the same messages as pulumi up on a bad config", () => {
        const bad = tempFile("Pulumi.bad.yaml", stringify({ config: { "vpn-gateway:psk": "short", "vpn-gateway:users": [{ name: "a b", password: "pw" }], "aws:region": "eu-west-1" } }));
        const result = render("--config", bad);
        expect(result.status).to.equal(1);
        expect(result.stdout).to.equal("");
        expect(result.stderr).to.contain("vpn-gateway:psk: is 5 characters; allowed: 12 to 128");
        expect(result.stderr).to.contain("vpn-gateway:users[0].name: contains whitespace");
        expect(result.stderr).not.to.match(/at .*\.ts:\d+/); // a message, not a stack trace
    });

    it("refuses encrypted values, which it cannot read", () => {
        const enc = tempFile("Pulumi.enc.yaml", stringify({ config: { "vpn-gateway:psk": { secure: "AAABAxyz" }, "vpn-gateway:users": [{ name: "a", password: "p" }] } }));
        const result = render("--config", enc);
        expect(result.status).to.equal(1);
        expect(result.stderr).to.contain("vpn-gateway:psk: is encrypted (secure:)");
    });

    it("checks the pool against --vpc-cidr, and rejects a bad --public-ip", () => {
        const overlap = render("--config", EXAMPLE, "--vpc-cidr", "192.168.0.0/16");
        expect(overlap.status).to.equal(1);
        expect(overlap.stderr).to.contain("overlaps the VPC's 192.168.0.0/16");
        const badIp = render("--config", EXAMPLE, "--public-ip", "example.com");
        expect(badIp.status).to.equal(1);
        expect(badIp.stderr).to.contain("--public-ip");
    });

    it("renders for another os with --os, validated like the stack's value", () => {
        const result = render("--config", EXAMPLE, "--os", "debian-13");
        expect(result.status, result.stderr).to.equal(0);
        const raw = rawConfigFromStackFile(fs.readFileSync(EXAMPLE, "utf8"), EXAMPLE);
        const settings = parseSettings({ ...raw, os: "debian-13" });
        expect(result.stdout).to.equal(cloudConfig({ settings, psk: settings.psk! }));
        expect(result.stdout).to.contain("keyexchange=ikev1");
        const bad = render("--config", EXAMPLE, "--os", "ubuntu-22.04");
        expect(bad.status).to.equal(1);
        expect(bad.stderr).to.contain('vpn-gateway:os: "ubuntu-22.04" is not supported');
    });

    it("renders without Pulumi: the renderers and the composer load none of it", () => {
        // What cli/render.ts loads, then which @pulumi modules that brought in.
        const script = [
            `require("./components/boot/cloudConfig");`,
            `require("./components/config/settings");`,
            `require("./components/config/stackFile");`,
            `console.log(JSON.stringify(Object.keys(require.cache).filter((m) => m.includes("@pulumi"))));`,
        ].join("");
        const result = spawnSync(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), "-e", script], { cwd: ROOT, encoding: "utf8" });
        expect(result.status, result.stderr).to.equal(0);
        expect(JSON.parse(result.stdout)).to.deep.equal([]);
        // and the Pulumi side does load it (the check can see it)
        const pulumiSide = spawnSync(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), "-e", script.replace("boot/cloudConfig", "boot/parts")], { cwd: ROOT, encoding: "utf8" });
        expect(JSON.parse(pulumiSide.stdout).length, pulumiSide.stderr).to.be.greaterThan(0);
    });

    it("explains its usage", () => {
        const result = render("--bogus", "x");
        expect(result.status).to.equal(2);
        expect(result.stderr).to.contain("usage: npm run render -- --config FILE");
    });
});
