// Shared by the PKI tests: a request, a state made once per run (RSA keys take a while), and
// openssl as the independent reader of what the code writes.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PkiRequest, PkiState, PkiUserRequest, reconcilePki } from "../../components/pki/ledger";

export const CA_NAME = "vpn-gateway test CA";
export const ADDRESS = "203.0.113.10";
/** Names that break a DN built from a "CN=..." string, or XML, or JSON. */
export const AWKWARD = ["a,b=c+d", 'e"f@example.com', "x<&>'y!"];

/** Dates in the past, so that openssl (which checks at the real time) finds every certificate and CRL valid. */
export const T0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 2 * 86400_000);
export const T1 = new Date(T0.getTime() + 86400_000);

export function users(...names: string[]): PkiUserRequest[] {
    return names.map((name) => ({ name, reissue: 0, revoked: false }));
}

export function request(overrides: Partial<PkiRequest> = {}): PkiRequest {
    return { caName: CA_NAME, address: ADDRESS, users: users("alice", "bob", "carol", ...AWKWARD), now: T0, ...overrides };
}

let base: Promise<PkiState> | undefined;
/** One state for the whole run (read-only: tests that change it reconcile from it). */
export function baseState(): Promise<PkiState> {
    base ??= reconcilePki(undefined, request());
    return base;
}

let dir: string | undefined;
/** Writes a file into a per-run temporary directory; returns its path. */
export function tmpFile(name: string, content: string | Buffer): string {
    dir ??= fs.mkdtempSync(path.join(os.tmpdir(), "pki-test-"));
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
}

/** openssl's stdout; throws (with its stderr) when it fails. */
export function openssl(...args: string[]): string {
    return execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** openssl's exit status and output, for checks that are meant to fail. */
export function opensslStatus(...args: string[]): { status: number | null; output: string } {
    const result = spawnSync("openssl", args, { encoding: "utf8" });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
