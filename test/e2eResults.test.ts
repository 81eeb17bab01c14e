// The VM suite's verdict (e2e/lib/plan-results.sh, sourced by e2e/run.sh): what the harness
// announced is what must report. Run under bash against made-up consoles.
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const LIB = path.join(__dirname, "..", "e2e", "lib", "plan-results.sh");

function verdict(console: string, timedOut = "no", env: Record<string, string> = {}) {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "results-")), "console.txt");
    fs.writeFileSync(file, console);
    // as run.sh runs it: errexit, nounset, pipefail
    const r = spawnSync("bash", ["-c", `set -euo pipefail; . '${LIB}'; plan_results '${file}' ${timedOut}`], {
        encoding: "utf8",
        env: { ...process.env, ...env },
    });
    return { status: r.status, out: r.stdout };
}

describe("VM suite verdict (plan-results.sh)", () => {
    it("passes when every announced check passed", () => {
        const r = verdict("PLAN a_check b_check\nE2E: noise\nCHECK a_check PASS fine\nCHECK b_check PASS fine too\n");
        expect(r.out).to.contain("the harness announced 2 checks");
        expect(r.out).to.contain("2 passed, 0 failed");
        expect(r.status).to.equal(0);
    });
    it("fails an announced check that never reported", () => {
        const r = verdict("PLAN a_check b_check\nCHECK a_check PASS fine\n");
        expect(r.out).to.contain("CHECK b_check FAIL missing (the VM did not get that far)");
        expect(r.out).to.contain("1 passed, 1 failed");
        expect(r.status).to.equal(1);
    });
    it("fails a check that reported without being announced, even a passing one", () => {
        const r = verdict("PLAN a_check\nCHECK a_check PASS fine\nCHECK sneaky PASS never planned\n");
        expect(r.out).to.contain("CHECK sneaky FAIL reported but not announced");
        expect(r.status).to.equal(1);
    });
    it("fails a run whose harness announced nothing", () => {
        const r = verdict("E2E: the VM hung before the harness started\n");
        expect(r.out).to.contain("CHECK harness_plan FAIL the harness announced no checks");
        expect(r.status).to.equal(1);
    });
    it("counts a failed check, keeps the last report of a repeated one, and fails on a timeout", () => {
        expect(verdict("PLAN a_check\nCHECK a_check PASS first\nCHECK a_check FAIL then\n").status).to.equal(1);
        const r = verdict("PLAN a_check\nCHECK a_check PASS fine\n", "yes");
        expect(r.out).to.contain("CHECK run_within_timeout FAIL");
        expect(r.status).to.equal(1);
    });
    it("reports the checks after an early stop (--stop-after) as skipped, not passed", () => {
        const r = verdict("PLAN a_check b_check\nCHECK a_check FAIL wanted\nINFO stopping early: every check of --stop-after has run\n", "no", {
            E2E_STOP_AFTER: "a_check",
        });
        expect(r.out).to.contain("CHECK b_check SKIP not run");
        expect(r.out).to.contain("0 passed, 1 failed");
    });
});
