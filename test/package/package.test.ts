// The package as a user gets it: `npm pack`, installed into a new directory with its own
// package.json, the two-gateway example (examples/two-teams) compiled against it with tsc and run
// under Pulumi's mock runtime. Needs the compiled package: `npm run build` (npm test runs it).
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
const EXAMPLE = path.join(ROOT, "examples", "two-teams");
const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const npm = (args: string[], cwd: string) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

interface Registered {
    type: string;
    name: string;
    inputs: any;
    parent: string;
}

describe("the package as a user installs it (npm pack)", function () {
    this.timeout(300000);
    let dir: string;
    let tarball: string;
    let files: string[];

    before(() => {
        expect(fs.existsSync(path.join(ROOT, rootPackage.main)), `${rootPackage.main}: run npm run build first`).to.equal(true);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "vpn-gateway-user-"));
        // --ignore-scripts: prepack would build again; npm test has just built it.
        const packed = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", dir], ROOT));
        tarball = path.join(dir, packed[0].filename);
        files = packed[0].files.map((f: { path: string }) => f.path);
    });

    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("holds what the component needs at run time and nothing of the repository's own", () => {
        for (const needed of [
            "package.json",
            "LICENSE",
            rootPackage.main,
            rootPackage.types,
            "dist/components/aws/gateway.js",
            "dist/cli/probe.js",
            "dist/agent/vpn-gateway-sync.pyz",
            "templates/ipsec/ipsec.conf.mustache",
            "files/sync/vpn-gateway-sync.service",
        ]) {
            expect(files, needed).to.include(needed);
        }
        for (const f of files) expect(f, "no tests, sources of the tests, e2e or examples").not.to.match(/^(test|e2e|examples|scripts|agent)\//);
        for (const f of files) expect(f, "no TypeScript source but declarations").to.satisfy((p: string) => !p.endsWith(".ts") || p.endsWith(".d.ts"));
    });

    it("compiles the two-gateway example with tsc and runs it under mocks: two gateways that share nothing", () => {
        const user = path.join(dir, "user");
        fs.mkdirSync(user);
        fs.copyFileSync(path.join(EXAMPLE, "index.ts"), path.join(user, "index.ts"));
        fs.copyFileSync(path.join(EXAMPLE, "tsconfig.json"), path.join(user, "tsconfig.json"));
        const example = JSON.parse(fs.readFileSync(path.join(EXAMPLE, "package.json"), "utf8"));
        const dependencies = { ...example.dependencies, ...example.devDependencies, "vpn-gateway": `file:${tarball}` };
        fs.writeFileSync(path.join(user, "package.json"), JSON.stringify({ name: "a-user", private: true, dependencies }, null, 2));
        // From npm's cache where it has them (a fresh CI machine has just installed the same versions).
        npm(["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], user);
        const installed = path.join(user, "node_modules", "vpn-gateway");
        expect(fs.lstatSync(installed).isSymbolicLink(), "a copy of the package, not a link to the repository").to.equal(false);
        execFileSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", user], { cwd: user, stdio: "pipe" });
        fs.copyFileSync(path.join(__dirname, "runUnderMocks.js"), path.join(user, "runUnderMocks.js"));
        const password = (n: string) => `${n}-Passw0rd-1234`;
        fs.writeFileSync(
            path.join(user, "config.json"),
            JSON.stringify({
                engPsk: "eng-psk-0123456789abcdef",
                opsPsk: "ops-psk-0123456789abcdef",
                engUsers: [
                    { name: "alice", password: password("alice") },
                    { name: "bob", password: password("bob"), methods: ["ikev2"], devices: ["phone", "laptop"] },
                ],
                opsUsers: [{ name: "carol", password: password("carol") }],
            }),
        );
        const out = execFileSync(process.execPath, ["runUnderMocks.js", "bin/index.js", "config.json"], {
            cwd: user,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
        const { resources, outputs } = JSON.parse(out.trim().split("\n").pop()!) as { resources: Registered[]; outputs: Record<string, string> };

        // two gateways, each a full set, named after the gateway
        const gateways = resources.filter((r) => r.type === "vpn-gateway:index:VpnGateway").map((r) => r.name);
        expect(gateways.sort()).to.deep.equal(["eng", "ops"]);
        for (const team of ["eng", "ops"]) {
            for (const type of [
                "aws:ec2/instance:Instance",
                "aws:ec2/securityGroup:SecurityGroup",
                "aws:ec2/eip:Eip",
                "aws:iam/role:Role",
                "aws:iam/rolePolicy:RolePolicy",
            ]) {
                expect(
                    resources.filter((r) => r.type === type && r.name === team),
                    `${team} ${type}`,
                ).to.have.length(1);
            }
        }
        // no name clash: every (type, name) once
        const keys = resources.map((r) => `${r.type}::${r.name}`);
        expect(new Set(keys).size, "a type and name registered twice").to.equal(keys.length);
        // no shared parameter path: each gateway's parameters under its own
        expect(outputs.engParameters).to.equal("/vpn-gateway/dev/eng");
        expect(outputs.opsParameters).to.equal("/vpn-gateway/dev/ops");
        const parameters = resources.filter((r) => r.type === "aws:ssm/parameter:Parameter").map((r) => r.inputs.name as string);
        expect(parameters.length).to.be.above(10);
        for (const p of parameters) expect(p).to.match(/^\/vpn-gateway\/dev\/(eng|ops)\//);
        expect(parameters.filter((p) => p.startsWith("/vpn-gateway/dev/eng/users/")).length).to.be.above(0);
        expect(parameters.filter((p) => p.startsWith("/vpn-gateway/dev/ops/users/")).length).to.be.above(0);
        // no shared CA: two, named after each gateway
        const cas = resources.filter((r) => r.type === "pulumi-nodejs:dynamic:Resource").map((r) => r.inputs.caName);
        expect(cas.sort()).to.deep.equal(["vpn-gateway dev eng CA", "vpn-gateway dev ops CA"]);
        // each its own role, reading only its own path
        for (const team of ["eng", "ops"]) {
            const policy = JSON.parse(resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === team)!.inputs.policy);
            const granted = policy.Statement.flatMap((s: { Resource: string | string[] }) => [s.Resource].flat());
            expect(granted.length).to.be.above(0);
            for (const arn of granted) expect(arn, `${team}'s role`).to.match(new RegExp(`:parameter/vpn-gateway/dev/${team}(/\\*)?$`));
        }
        // each gateway's own pools and users
        const userData = (team: string) =>
            Buffer.from(resources.find((r) => r.type === "aws:ec2/instance:Instance" && r.name === team)!.inputs.userDataBase64, "base64");
        expect(userData("eng").equals(userData("ops")), "the two gateways' user-data").to.equal(false);
        expect(outputs.engInstructions).to.contain("alice").and.not.to.contain("carol");
        expect(outputs.opsInstructions).to.contain("carol").and.not.to.contain("alice");
    });
});
