// The render command: the seam the VM test boots, and the same messages as pulumi up.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import * as zlib from "zlib";
import { cloudConfig, gatewayParameters, isGzip, userDataBytes } from "../../components/boot/cloudConfig";
import { parseSettings } from "../../components/config/settings";
import { rawConfigFromStackFile } from "../../components/config/stackFile";
import { gatewayPki, ikev2PieceCount } from "../../components/pki/parameters";

import { commandLine } from "../helpers";

const ROOT = path.join(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "Pulumi.example.yaml");

function render(...args: string[]) {
    return spawnSync(process.execPath, [...commandLine("render").slice(1), ...args], {
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
        // the stack's name from the file's (Pulumi.example.yaml), the region its aws:region
        expect(result.stdout).to.equal(cloudConfig({ settings, region: "eu-west-1", parameterPath: "/vpn-gateway/example" }));
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
        const bad = tempFile(
            "Pulumi.bad.yaml",
            stringify({ config: { "vpn-gateway:psk": "short", "vpn-gateway:users": [{ name: "a b", password: "pw" }], "aws:region": "eu-west-1" } }),
        );
        const result = render("--config", bad);
        expect(result.status).to.equal(1);
        expect(result.stdout).to.equal("");
        expect(result.stderr).to.contain("vpn-gateway:psk: is 5 characters; allowed: 12 to 128");
        expect(result.stderr).to.contain("vpn-gateway:users[0].name: contains whitespace");
        expect(result.stderr).not.to.match(/at .*\.ts:\d+/); // a message, not a stack trace
    });

    it("refuses encrypted values, which it cannot read", () => {
        const enc = tempFile(
            "Pulumi.enc.yaml",
            stringify({ config: { "vpn-gateway:psk": { secure: "AAABAxyz" }, "vpn-gateway:users": [{ name: "a", password: "p" }] } }),
        );
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
        expect(result.stdout).to.equal(cloudConfig({ settings, region: "eu-west-1", parameterPath: "/vpn-gateway/example" }));
        expect(result.stdout).to.contain("keyexchange=ikev1");
        const bad = render("--config", EXAMPLE, "--os", "ubuntu-22.04");
        expect(bad.status).to.equal(1);
        expect(bad.stderr).to.contain('vpn-gateway:os: "ubuntu-22.04" is not supported');
    });

    it("writes the user-data and the stack's SSM parameters with --out-dir, both readable by their owner only", async () => {
        const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "render-")), "out");
        const result = render("--config", EXAMPLE, "--out-dir", dir, "--public-ip", "198.51.100.20");
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout).to.equal("");
        const settings = parseSettings(rawConfigFromStackFile(fs.readFileSync(EXAMPLE, "utf8"), EXAMPLE));
        const userData = fs.readFileSync(path.join(dir, "user-data"));
        expect(
            userData.equals(userDataBytes(cloudConfig({ settings, region: "eu-west-1", parameterPath: "/vpn-gateway/example", publicIp: "198.51.100.20" }))),
        ).to.equal(true);
        const parameters = JSON.parse(fs.readFileSync(path.join(dir, "ssm-parameters.json"), "utf8"));
        // the IKEv2 material from the CA the render keeps beside them (pki-state.json, what pulumi up keeps in state)
        const pki = JSON.parse(fs.readFileSync(path.join(dir, "pki-state.json"), "utf8"));
        expect(pki.server.address).to.equal("198.51.100.20");
        const ikev2 = await gatewayPki(pki);
        expect(parameters).to.deep.equal(
            gatewayParameters({
                parameterPath: "/vpn-gateway/example",
                psk: settings.psk!,
                users: settings.users,
                ikev2: { material: ikev2, pieces: ikev2PieceCount(settings.ikev2.users) },
            }),
        );
        expect(ikev2.serverKey).to.contain("BEGIN PRIVATE KEY");
        for (const p of parameters) expect(p.value, p.name).not.to.contain(pki.ca.keyPem.split("\n")[1]);
        expect(parameters.map((p: any) => Object.keys(p))).to.deep.equal(parameters.map(() => ["name", "type", "value"]));
        const names = parameters.map((p: any) => p.name);
        expect(names).to.include.members(["/vpn-gateway/example/psk", "/vpn-gateway/example/program/1"]);
        expect(names.filter((n: string) => n.startsWith("/vpn-gateway/example/users/"))).to.have.length.within(1, 2);
        expect(parameters.find((p: any) => p.name === "/vpn-gateway/example/psk").value).to.equal("example-psk-change-me-0123456789");
        for (const f of ["user-data", "ssm-parameters.json", "pki-state.json"]) expect(fs.statSync(path.join(dir, f)).mode & 0o777, f).to.equal(0o600);
        // a profile directory per IKEv2 user (both methods by default), the files private but the CA
        expect(fs.readdirSync(path.join(dir, "clients")).sort()).to.deep.equal(settings.ikev2.users.map((u) => u.name).sort());
        for (const name of fs.readdirSync(path.join(dir, "clients"))) {
            const files = fs.readdirSync(path.join(dir, "clients", name)).sort();
            expect(files).to.deep.equal(["ca.pem", `${name}.mobileconfig`, `${name}.p12`, `${name}.p12.password`, `${name}.sswan`].sort());
            for (const f of files.filter((f) => f !== "ca.pem")) expect(fs.statSync(path.join(dir, "clients", name, f)).mode & 0o777, f).to.equal(0o600);
            expect(fs.readFileSync(path.join(dir, "clients", name, "ca.pem"), "utf8")).to.equal(pki.ca.certPem);
        }
        // no secret in the user-data, and none on stderr
        const document = (isGzip(userData) ? zlib.gunzipSync(userData) : userData).toString("utf8");
        for (const secret of [settings.psk!, ...settings.users.map((u) => u.password)]) {
            expect(document).not.to.contain(secret);
            expect(result.stderr).not.to.contain(secret);
        }
    });

    it("writes a profile directory per device (NAME.DEVICE); listing devices revokes the user's one certificate, a device removed is revoked, the others kept byte for byte", () => {
        const base = parse(fs.readFileSync(EXAMPLE, "utf8"));
        const withDevices = (devices?: string[]) =>
            tempFile(
                "Pulumi.example.yaml",
                stringify({
                    ...base,
                    config: {
                        ...base.config,
                        "vpn-gateway:users": [
                            { name: "alice", password: "alice-Passw0rd!", ...(devices ? { devices } : {}) },
                            { name: "bob", password: "bob-s3cret-pass" },
                        ],
                    },
                }),
            );
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
        // alice first with one certificate: listing her devices revokes it (a device's profile replaces it)
        const plain = render("--config", withDevices(), "--out-dir", dir);
        expect(plain.status, plain.stderr).to.equal(0);
        const single = JSON.parse(fs.readFileSync(path.join(dir, "pki-state.json"), "utf8"));
        const first = render("--config", withDevices(["phone", "laptop"]), "--out-dir", dir);
        expect(first.status, first.stderr).to.equal(0);
        expect(first.stderr).to.contain("(1 certificates revoked)");
        expect(fs.readdirSync(path.join(dir, "clients")).sort()).to.deep.equal(["alice.laptop", "alice.phone", "bob"]);
        expect(fs.readdirSync(path.join(dir, "clients", "alice.phone")).sort()).to.deep.equal([
            "alice.phone.mobileconfig",
            "alice.phone.p12",
            "alice.phone.p12.password",
            "alice.phone.sswan",
            "ca.pem",
        ]);
        const before = JSON.parse(fs.readFileSync(path.join(dir, "pki-state.json"), "utf8"));
        expect(before.revoked).to.deep.equal([
            { serial: single.users.alice.serial, name: "alice", revokedAt: before.updatedAt, reason: "cessationOfOperation" },
        ]);
        expect(before.users.bob).to.deep.equal(single.users.bob);
        const second = render("--config", withDevices(["phone"]), "--out-dir", dir);
        expect(second.status, second.stderr).to.equal(0);
        expect(second.stderr).to.contain("(2 certificates revoked)");
        const after = JSON.parse(fs.readFileSync(path.join(dir, "pki-state.json"), "utf8"));
        expect(fs.readdirSync(path.join(dir, "clients")).sort()).to.deep.equal(["alice.phone", "bob"]);
        expect(after.users["alice.phone"]).to.deep.equal(before.users["alice.phone"]);
        expect(after.users.bob).to.deep.equal(before.users.bob);
        // (members: two revocations within one second sort by serial, the ledger's tests cover the order)
        expect(after.revoked).to.have.deep.members([
            ...before.revoked,
            { serial: before.users["alice.laptop"].serial, name: "alice.laptop", revokedAt: after.updatedAt, reason: "cessationOfOperation" },
        ]);
    });

    it("gives the same user-data bytes after a change of users or PSK; only ssm-parameters.json changes", () => {
        const base = parse(fs.readFileSync(EXAMPLE, "utf8"));
        const changed = {
            ...base,
            config: {
                ...base.config,
                "vpn-gateway:psk": "a-changed-psk-0123456789",
                "vpn-gateway:users": [
                    { name: "alice", password: "alice-Changed-1" },
                    { name: "erin", password: "erin-pass-12345", ip: "192.168.42.77" },
                ],
            },
        };
        const file = tempFile("Pulumi.example.yaml", stringify(changed));
        const outputs = [EXAMPLE, file].map((config) => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
            const result = render("--config", config, "--out-dir", dir);
            expect(result.status, result.stderr).to.equal(0);
            return { userData: fs.readFileSync(path.join(dir, "user-data")), parameters: fs.readFileSync(path.join(dir, "ssm-parameters.json"), "utf8") };
        });
        expect(outputs[1].userData.equals(outputs[0].userData)).to.equal(true);
        expect(outputs[1].parameters).not.to.equal(outputs[0].parameters);
        expect(outputs[1].parameters).to.contain("a-changed-psk-0123456789");
    });

    it("takes the stack from --stack or a Pulumi.<stack>.yaml name, the region from --region or aws:region, else dev and us-east-1, saying so", () => {
        const plain = tempFile(
            "stack.yaml",
            stringify({ config: { "vpn-gateway:psk": "a-valid-psk-0123", "vpn-gateway:users": [{ name: "a", password: "p" }] } }),
        );
        const neither = render("--config", plain);
        expect(neither.status, neither.stderr).to.equal(0);
        expect(neither.stderr).to.contain(
            'stack "dev" (parameters under /vpn-gateway/dev), as "stack.yaml" is not named Pulumi.<stack>.yaml; --stack NAME renders another',
        );
        expect(neither.stderr).to.contain("region us-east-1, as");
        const defaults = (parse(neither.stdout) as any).write_files.find((f: any) => f.path === "/etc/vpn-gateway/sync.json");
        expect(JSON.parse(defaults.content)).to.include({ region: "us-east-1", path: "/vpn-gateway/dev" });
        const given = render("--config", plain, "--stack", "dev.1", "--region", "us-east-2");
        expect(given.status, given.stderr).to.equal(0);
        const sync = (parse(given.stdout) as any).write_files.find((f: any) => f.path === "/etc/vpn-gateway/sync.json");
        expect(JSON.parse(sync.content)).to.include({ region: "us-east-2", path: "/vpn-gateway/dev.1" });
        // --region wins over the file's aws:region
        const other = render("--config", EXAMPLE, "--region", "ap-southeast-2", "--stack", "prod");
        const otherSync = (parse(other.stdout) as any).write_files.find((f: any) => f.path === "/etc/vpn-gateway/sync.json");
        expect(JSON.parse(otherSync.content)).to.include({ region: "ap-southeast-2", path: "/vpn-gateway/prod" });
        const badStack = render("--config", plain, "--stack", "my stack", "--region", "eu-west-1");
        expect(badStack.status).to.equal(1);
        expect(badStack.stderr).to.contain(`stack name "my stack": it names the stack's SSM parameters`);
        const badRegion = render("--config", plain, "--stack", "dev", "--region", "Ireland");
        expect(badRegion.status).to.equal(1);
        expect(badRegion.stderr).to.contain('--region: "Ireland" is not an AWS region like eu-west-1');
        const both = render("--config", EXAMPLE, "--out", "/dev/null", "--out-dir", "/tmp/x");
        expect(both.status).to.equal(2);
    });

    it("needs the PSK written for ssm-parameters.json only (the user-data does not hold it)", () => {
        const noPsk = tempFile("Pulumi.nopsk.yaml", stringify({ config: { "aws:region": "eu-west-1", "vpn-gateway:users": [{ name: "a", password: "p" }] } }));
        expect(render("--config", noPsk).status).to.equal(0);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
        const result = render("--config", noPsk, "--out-dir", dir);
        expect(result.status).to.equal(1);
        expect(result.stderr).to.contain("vpn-gateway:psk: required for ssm-parameters.json");
    });

    it("renders without Pulumi: the renderers and the composer load none of it", () => {
        // What cli/render.ts loads, then which @pulumi modules that brought in.
        const script = [
            `require("./dist/components/boot/cloudConfig");`,
            `require("./dist/components/config/settings");`,
            `require("./dist/components/config/stackFile");`,
            `console.log(JSON.stringify(Object.keys(require.cache).filter((m) => m.includes("@pulumi"))));`,
        ].join("");
        commandLine("render"); // the compiled package, as current as the sources
        const result = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" });
        expect(result.status, result.stderr).to.equal(0);
        expect(JSON.parse(result.stdout)).to.deep.equal([]);
        // and the Pulumi side does load it (the check can see it)
        const pulumiSide = spawnSync(process.execPath, ["-e", script.replace("boot/cloudConfig", "boot/parts")], { cwd: ROOT, encoding: "utf8" });
        expect(JSON.parse(pulumiSide.stdout).length, pulumiSide.stderr).to.be.greaterThan(0);
    });

    it("explains its usage", () => {
        const result = render("--bogus", "x");
        expect(result.status).to.equal(2);
        expect(result.stderr).to.contain("usage: npm run render -- --config FILE");
    });
});
