// The IKEv2 CA's cost at scale (issue 21's targets), printed, never asserted:
//   npm run bench:pki [-- --users 100,1000,5000]
// For each count of users with both methods (names and passwords like real ones):
//   - the PKI step of a first `pulumi up`: the dynamic provider's create, as the engine's
//     provider host calls it (compiled code, a plain node process: `npm run build` first);
//   - one user added, and one removed: the provider's update;
//   - what the stack's state holds for the PKI (the provider's `state` output);
//   - `client --user NAME --format p12` for one user (the compiled command, whole process);
//   - every user's profiles: `render --out-dir` (the compiled command, whole process).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const DIST = path.join(ROOT, "dist");

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled provider, as the host runs it (not ts-node's)
const { stackPkiProvider } = require(path.join(DIST, "components", "aws", "pki.js")) as typeof import("../components/aws/pki");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled validator, for the users the provider receives
const { parseSettings } = require(path.join(DIST, "components", "config", "settings.js")) as typeof import("../components/config/settings");

const counts = (process.argv.includes("--users") ? process.argv[process.argv.indexOf("--users") + 1] : "100,1000,5000").split(",").map(Number);

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
async function timed<T>(f: () => Promise<T> | T): Promise<[T, number]> {
    const t0 = process.hrtime.bigint();
    const value = await f();
    return [value, seconds(t0)];
}

/** Users named and passworded like real ones: first.last-N, 20-character passwords. */
function users(n: number) {
    const first = ["anna", "ben", "carla", "dmitri", "elena", "farid", "grace", "hiro", "ines", "jonas"];
    const last = ["smith", "garcia", "mueller", "rossi", "tanaka", "nowak", "silva", "kim", "dubois", "olsen"];
    return Array.from({ length: n }, (_, i) => ({
        name: `${first[i % 10]}.${last[Math.floor(i / 10) % 10]}-${i}`,
        password: `Pw-${(i * 7919).toString(36)}-xK9%vLq2mZ`,
    }));
}

const ikev2Users = (list: ReturnType<typeof users>) => parseSettings({ psk: "bench-psk-0123456789abcdef", users: JSON.stringify(list) }).ikev2.users;

async function main() {
    if (!fs.existsSync(path.join(DIST, "cli", "render.js"))) throw new Error("dist/ is missing: run npm run build first");
    const rows: string[][] = [];
    for (const n of counts) {
        const list = users(n);
        const inputs = { caName: "vpn-gateway bench CA", address: "203.0.113.10", users: ikev2Users(list) };
        const [created, first] = await timed(() => stackPkiProvider.create(inputs));
        const outs = created.outs;
        const added = { ...inputs, users: ikev2Users([...list, { name: "newcomer", password: "Pw-newcomer-xK9%vLq2" }]) };
        const [, add] = await timed(() => stackPkiProvider.update!(created.id, outs, added));
        const removed = { ...inputs, users: ikev2Users(list.slice(1)) };
        const [, remove] = await timed(() => stackPkiProvider.update!(created.id, outs, removed));
        const stateBytes = Buffer.byteLength(outs.state, "utf8");

        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-pki-"));
        const stateFile = path.join(dir, "state.json");
        fs.writeFileSync(stateFile, outs.state, { mode: 0o600 });
        const [, client] = await timed(() =>
            execFileSync(process.execPath, [
                path.join(DIST, "cli", "client.js"),
                "--state",
                stateFile,
                "--user",
                list[0].name,
                "--format",
                "p12",
                "--out",
                path.join(dir, "one.p12"),
            ]),
        );
        const config = path.join(dir, "Pulumi.bench.yaml");
        fs.writeFileSync(
            config,
            `config:\n  aws:region: eu-west-1\n  vpn-gateway:psk: bench-psk-0123456789abcdef\n  vpn-gateway:users: ${JSON.stringify(JSON.stringify(list))}\n`,
        );
        const out = path.join(dir, "out");
        fs.mkdirSync(out);
        // render keeps its CA in out/pki-state.json: the test's state, so no CA is made again
        fs.copyFileSync(stateFile, path.join(out, "pki-state.json"));
        const [, profiles] = await timed(() =>
            execFileSync(process.execPath, [path.join(DIST, "cli", "render.js"), "--config", config, "--out-dir", out, "--public-ip", "203.0.113.10"], {
                stdio: "pipe",
            }),
        );
        fs.rmSync(dir, { recursive: true, force: true });
        rows.push([
            n.toLocaleString("en-US"),
            first.toFixed(2),
            add.toFixed(2),
            remove.toFixed(2),
            (stateBytes / 1e6).toFixed(2),
            client.toFixed(2),
            profiles.toFixed(1),
        ]);
        console.error(`bench-pki: ${n} users done`);
    }
    const header = ["users", "first PKI step s", "one added s", "one removed s", "PKI state MB", "client p12 s", "all profiles (render --out-dir) s"];
    console.log(`| ${header.join(" | ")} |`);
    console.log(`| ${header.map(() => "---").join(" | ")} |`);
    for (const r of rows) console.log(`| ${r.join(" | ")} |`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
