// Snapshot files beside the tests that own them (<test folder>/snapshots): rendered output is
// compared whole, and UPDATE_SNAPSHOTS=1 rewrites them (review the diff before committing).
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";

/** The matcher for the snapshots of the tests in testDir (pass the test file's __dirname). */
export function snapshotsBeside(testDir: string): (name: string, actual: string) => void {
    const dir = path.join(testDir, "snapshots");
    return function matchSnapshot(name: string, actual: string): void {
        const file = path.join(dir, name);
        if (process.env.UPDATE_SNAPSHOTS === "1") {
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(file, actual);
            return;
        }
        if (!fs.existsSync(file)) expect.fail(`no snapshot ${file}; run UPDATE_SNAPSHOTS=1 npm test and review it`);
        expect(actual, `snapshot ${name} differs; if intended, run UPDATE_SNAPSHOTS=1 npm test`).to.equal(fs.readFileSync(file, "utf8"));
    };
}
