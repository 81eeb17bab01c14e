// Every command answers --help with its usage on stdout and exit 0, and still refuses an unknown
// argument with exit 2.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as path from "path";

import { commandLine } from "../helpers";

const ROOT = path.join(__dirname, "..", "..");
const run = (command: string, ...args: string[]) => {
    const [node, ...script] = commandLine(command as "render" | "client" | "probe");
    return spawnSync(node, [...script, ...args], { cwd: ROOT, encoding: "utf8" });
};

describe("the commands' --help", () => {
    for (const command of ["render", "client", "probe"]) {
        it(`${command}: --help prints its usage and exits 0; an unknown argument exits 2`, () => {
            const help = run(command, "--help");
            expect(help.status, help.stderr).to.equal(0);
            expect(help.stdout).to.match(new RegExp(`^usage: npm run ${command} -- --`));
            const bad = run(command, "--no-such-flag", "x");
            expect(bad.status).to.equal(2);
            expect(bad.stdout).to.equal("");
            expect(bad.stderr).to.contain(`usage: npm run ${command}`);
        });
    }
});
