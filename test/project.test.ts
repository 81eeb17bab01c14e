// The project file and the stacks shipped with the project. Pulumi.yaml's config block is generated
// from components/config/schema.ts and checked by test/config/schema.test.ts.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseSettings } from "../components/config/settings";
import { rawConfigFromStackFile } from "../components/config/stackFile";
import { plainFiles, templateFiles } from "./helpers";

const ROOT = path.join(__dirname, "..");
const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));

describe("Pulumi.yaml", () => {
    it("names the project vpn-gateway, a TypeScript program", () => {
        expect(project.name).to.equal("vpn-gateway");
        expect(project.runtime).to.deep.equal({ name: "nodejs", options: { typescript: true } });
    });

    it("ships an example stack the program accepts", () => {
        const file = path.join(ROOT, "Pulumi.example.yaml");
        const s = parseSettings(rawConfigFromStackFile(fs.readFileSync(file, "utf8"), file));
        expect(s.users.length).to.be.at.least(2);
        expect(s.users.some((u) => u.ip)).to.equal(true);
    });

    it("ships e2e stacks that the program accepts and that differ from the example", () => {
        const dir = path.join(ROOT, "e2e", "configs");
        const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yaml"));
        expect(files).to.have.length.above(0);
        for (const f of files) {
            const file = path.join(dir, f);
            const s = parseSettings(rawConfigFromStackFile(fs.readFileSync(file, "utf8"), file));
            // the VM harness needs a user with a pool address and one with a static address
            expect(
                s.users.some((u) => u.ip),
                f,
            ).to.equal(true);
            expect(
                s.users.some((u) => !u.ip),
                f,
            ).to.equal(true);
            expect(s.clientPool.cidr.text, f).not.to.equal("192.168.42.0/24");
        }
    });
});

describe("Node.js", () => {
    // @pulumi/pulumi 3.249 and later need Node 22; Node 20 reached its end of life in April 2026.
    const MIN_MAJOR = 22;
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const engineMajor = () => {
        const m = /^>=\s*(\d+)(\.\d+){0,2}$/.exec(pkg.engines?.node ?? "");
        expect(m, `engines.node "${pkg.engines?.node}" is a plain ">=N" lower bound`).to.not.equal(null);
        return Number(m![1]);
    };

    it(`package.json's engines allow no Node older than ${MIN_MAJOR}`, () => {
        expect(engineMajor()).to.be.at.least(MIN_MAJOR);
    });

    it(`runs the tests on Node ${MIN_MAJOR} or later (scripts/setup.sh installs Node 24 where the machine's is older)`, () => {
        expect(Number(process.versions.node.split(".")[0]), `Node ${process.version}`).to.be.at.least(MIN_MAJOR);
    });

    it("types Node's API at the oldest supported version (@types/node's major is engines' minimum)", () => {
        const m = /^[\^~]?(\d+)\./.exec(pkg.devDependencies["@types/node"]);
        expect(m, pkg.devDependencies["@types/node"]).to.not.equal(null);
        expect(Number(m![1])).to.equal(engineMajor());
    });
});

describe("gateway scripts", () => {
    it("never pipe into grep -q under pipefail (the writer can die of SIGPIPE and fail the pipeline)", () => {
        // the gateway's scripts: templates and plain files alike, by their path in the repository
        const dir = path.join(__dirname, "..");
        const all = [...templateFiles().map((f) => path.join("templates", f)), ...plainFiles().map((f) => path.join("files", f))];
        const scripts = all.filter((f) => fs.readFileSync(path.join(dir, f), "utf8").includes("pipefail"));
        expect(scripts.length).to.be.greaterThan(1);
        for (const f of scripts) {
            const code = fs
                .readFileSync(path.join(dir, f), "utf8")
                .split("\n")
                .filter((l) => !l.trim().startsWith("#"));
            expect(
                code.filter((l) => /\|\s*grep\s+(-[a-zA-Z]*q|--quiet)/.test(l)),
                f,
            ).to.deep.equal([]);
        }
    });
});
