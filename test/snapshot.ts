// Snapshot files beside the tests: rendered output is compared whole, and UPDATE_SNAPSHOTS=1
// rewrites them (review the diff before committing).
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";

const DIR = path.join(__dirname, "snapshots");

export function matchSnapshot(name: string, actual: string): void {
    const file = path.join(DIR, name);
    if (process.env.UPDATE_SNAPSHOTS === "1") {
        fs.mkdirSync(DIR, { recursive: true });
        fs.writeFileSync(file, actual);
        return;
    }
    if (!fs.existsSync(file)) expect.fail(`no snapshot ${file}; run UPDATE_SNAPSHOTS=1 npm test and review it`);
    expect(actual, `snapshot ${name} differs; if intended, run UPDATE_SNAPSHOTS=1 npm test`).to.equal(fs.readFileSync(file, "utf8"));
}
