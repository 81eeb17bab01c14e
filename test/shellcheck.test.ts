// shellcheck on every shell script of the project: the tracked ones (*.sh, and files without the
// extension that start with a bash/sh shebang) and the ones the product WRITES on the gateway, as
// rendered from the stacks the project ships (cloud-config write_files whose content starts with
// #!/bin/sh or #!/bin/bash, and runcmd/bootcmd as cloud-init turns them into a script).
// Any finding fails, at shellcheck's default severity (style and up); a finding that is intended
// is silenced where it occurs with a `# shellcheck disable=SCnnnn` and its reason.
import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { cloudConfig } from "../components/boot/cloudConfig";
import { parseSettings } from "../components/config/settings";
import { rawConfigFromStackFile } from "../components/config/stackFile";

const ROOT = path.join(__dirname, "..");
const SHELL_SHEBANG = /^#!\s*(\/usr)?\/bin\/(env\s+)?(bash|sh)(\s|$)/;
const INSTALL_HINT = "shellcheck is not installed: `bash scripts/setup.sh test` installs it (Debian: apt-get install shellcheck)";

/** Tracked shell scripts, relative to ROOT: every *.sh, and extensionless files with a shell shebang. */
function trackedScripts(): string[] {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })
        .split("\0")
        .filter((f) => f !== "" && fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).isFile());
    return files
        .filter((f) => {
            if (f.endsWith(".sh")) return true;
            if (path.basename(f).includes(".")) return false; // templates, configs, sources: not scripts themselves
            const fd = fs.openSync(path.join(ROOT, f), "r");
            try {
                const head = Buffer.alloc(128);
                const n = fs.readSync(fd, head, 0, head.length, 0);
                return SHELL_SHEBANG.test(head.subarray(0, n).toString("utf8").split("\n")[0]);
            } finally {
                fs.closeSync(fd);
            }
        })
        .sort();
}

/** cloud-init's util.shellify: runcmd/bootcmd as the #!/bin/sh script it writes and runs. */
function shellify(commands: Array<string | string[]>): string {
    const quote = (arg: string) => `'${String(arg).replace(/'/g, "'\\''")}'`;
    return "#!/bin/sh\n" + commands.map((c) => (Array.isArray(c) ? c.map(quote).join(" ") : c) + "\n").join("");
}

interface RenderedScript {
    gatewayPath: string;
    label: string; // the gateway's path, and where it was rendered from
    file: string; // the rendered content, written to a temporary file
}

/**
 * The scripts the product writes on the gateway, rendered as `npm run render` renders them (the
 * example stack, and the e2e stacks, which switch on the templates' optional parts). A script
 * that renders the same for several stacks is checked once.
 */
function renderedScripts(dir: string): RenderedScript[] {
    const stacks = [
        "Pulumi.example.yaml",
        ...fs
            .readdirSync(path.join(ROOT, "e2e", "configs"))
            .filter((f) => f.endsWith(".yaml"))
            .sort()
            .map((f) => path.join("e2e", "configs", f)),
    ];
    const seen = new Set<string>();
    const out: RenderedScript[] = [];
    const add = (gatewayPath: string, stack: string, content: string) => {
        const key = `${gatewayPath}\0${content}`;
        if (seen.has(key)) return;
        seen.add(key);
        const file = path.join(dir, `${out.length}`, gatewayPath);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
        out.push({ gatewayPath, label: `${gatewayPath} (rendered from ${stack})`, file });
    };
    for (const stack of stacks) {
        const file = path.join(ROOT, stack);
        const settings = parseSettings(rawConfigFromStackFile(fs.readFileSync(file, "utf8"), file));
        const document = parse(cloudConfig({ settings, region: "eu-west-1", parameterPath: "/vpn-gateway/shellcheck" })) as {
            write_files?: Array<{ path: string; content: string }>;
            runcmd?: Array<string | string[]>;
            bootcmd?: Array<string | string[]>;
        };
        for (const f of document.write_files ?? []) {
            if (/^#!\/bin\/(sh|bash)(\s|$)/.test(f.content)) add(f.path, stack, f.content);
        }
        if (document.bootcmd) add("/var/lib/cloud/instance/boothooks/bootcmd", stack, shellify(document.bootcmd));
        if (document.runcmd) add("/var/lib/cloud/instance/scripts/runcmd", stack, shellify(document.runcmd));
    }
    return out;
}

/** shellcheck FILE from the project's root (so .shellcheckrc applies); "" when it finds nothing. */
function shellcheck(file: string): string {
    const result = spawnSync("shellcheck", ["--color=never", file], { cwd: ROOT, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    if (result.error) throw new Error(`${INSTALL_HINT} (${result.error.message})`);
    if (result.status === 0 && result.stdout.trim() === "") return "";
    return `${result.stdout}${result.stderr}`.trim() || `shellcheck exited with status ${result.status}`;
}

describe("shellcheck", function () {
    this.timeout(60000);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "shellcheck-"));
    const tracked = trackedScripts();
    const rendered = renderedScripts(tmp);

    before(() => {
        const probe = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
        if (probe.error || probe.status !== 0) expect.fail(INSTALL_HINT);
    });

    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("finds the project's scripts (it cannot pass by checking nothing)", () => {
        expect(tracked.length, tracked.join(" ")).to.be.at.least(15);
        for (const f of [".ci/run", "e2e/run.sh", "e2e/image/build.sh", "scripts/setup.sh", "e2e/image/overlay/usr/local/lib/e2e/bench.sh"]) {
            expect(tracked, f).to.include(f);
        }
        expect(rendered.length, rendered.map((r) => r.label).join("\n")).to.be.at.least(7);
        const gatewayPaths = rendered.map((r) => r.gatewayPath);
        for (const p of [
            "/usr/local/sbin/vpn-gateway-kernel",
            "/usr/local/sbin/vpn-gateway-firewall",
            "/usr/local/sbin/vpn-gateway-identity",
            "/etc/ppp/ip-up.d/vpn-gateway-connect",
            "/etc/ppp/ip-up.d/vpn-gateway-session",
            "/etc/ppp/ip-down.d/vpn-gateway-session",
            "/var/lib/cloud/instance/scripts/runcmd",
        ]) {
            expect(gatewayPaths, p).to.include(p);
        }
    });

    describe("the project's scripts", () => {
        for (const f of tracked) {
            it(f, () => {
                const findings = shellcheck(f);
                if (findings) expect.fail(`shellcheck finds problems in ${f}:\n${findings}`);
            });
        }
    });

    describe("the scripts the product writes on the gateway", () => {
        for (const r of rendered) {
            it(r.label, () => {
                const findings = shellcheck(r.file);
                if (findings) expect.fail(`shellcheck finds problems in ${r.label}:\n${findings}`);
            });
        }
    });
});
