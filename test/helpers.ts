// Shared fixtures: a valid raw config, and a way to vary one key of it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { RawConfig, Settings, parseSettings } from "../components/config/settings";
import { BootInput, FILES_DIR, TEMPLATE_DIR } from "../components/boot/bootFile";
import { IpsecInput } from "../components/boot/ipsec";

/** The region and parameter path the tests render for: the mock runtime's stack is "test". */
export const REGION = "eu-west-1";
export const PARAMETER_PATH = "/vpn-gateway/test";

export const PSK = "test-psk-0123456789abcdef";

export const USERS = [
    { name: "alice", password: "alice-Passw0rd!" },
    { name: "bob", password: "bob-s3cret-pass", ip: "192.168.42.5" },
];

export function rawConfig(overrides: Record<string, unknown> = {}): RawConfig {
    const base: Record<string, unknown> = { psk: PSK, users: USERS };
    const merged = { ...base, ...overrides };
    const raw: RawConfig = {};
    for (const [k, v] of Object.entries(merged)) {
        if (v === undefined) continue;
        raw[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return raw;
}

export function settings(overrides: Record<string, unknown> = {}): Settings {
    return parseSettings(rawConfig(overrides));
}

export function bootInput(overrides: Record<string, unknown> = {}, publicIp: string | null = "203.0.113.10"): BootInput {
    // null: the program does not know the public address (render without --public-ip).
    const s = settings(overrides);
    return { settings: s, region: REGION, parameterPath: PARAMETER_PATH, ...(publicIp !== null ? { publicIp } : {}) };
}

/** The IPsec part's input: its settings from a raw config, and the public IP unless null. */
export function ipsecInput(overrides: Record<string, unknown> = {}, publicIp: string | null = "203.0.113.10"): IpsecInput {
    const s = settings(overrides);
    return { clientPool: s.clientPool, ikev2: s.ikev2, dnsServers: s.dnsServers, os: s.os, ...(publicIp !== null ? { publicIp } : {}) };
}

/** chap-secrets as pppd reads it: words separated by blanks, quotes group, '#' comments, backslash escapes. */
export function pppdWords(line: string): string[] {
    const words: string[] = [];
    let i = 0;
    while (i < line.length) {
        while (i < line.length && /\s/.test(line[i])) i++;
        if (i >= line.length || line[i] === "#") break;
        let word = "";
        let quote: string | undefined;
        while (i < line.length && (quote || !/\s/.test(line[i]))) {
            const ch = line[i++];
            if (ch === "\\" && i < line.length) word += line[i++];
            else if (quote && ch === quote) quote = undefined;
            else if (!quote && (ch === '"' || ch === "'")) quote = ch;
            else if (!quote && ch === "#") {
                i = line.length;
                break;
            } else word += ch;
        }
        words.push(word);
    }
    return words;
}

/** What vpn-gateway-sync makes of a gateway's sync.json and its stack's parameters. */
export interface SyncReading {
    /** check_configuration's problems: none when it accepts them. */
    problems: string[];
    psk?: string;
    /** The users it serves, by name: [name, password, ip or null]. */
    users?: Record<string, [string, string, string | null]>;
    /** The files it writes. */
    chapSecrets?: string;
    ipsecSecrets?: string;
}

/**
 * Runs the gateway's own agent (the zipapp npm run build:agent writes, with the distribution's
 * Python) over each case at once: it loads sync.json as written by the user-data, checks the
 * parameters' values as it does after decrypting them, and renders chap-secrets and ipsec.secrets
 * from them.
 */
export function syncReads(cases: Array<{ syncJson: string; parameters: Array<{ name: string; value: string }> }>): SyncReading[] {
    const root = path.join(__dirname, "..");
    const code = [
        "import json, os, sys, tempfile",
        "sys.path.insert(0, sys.argv[1])",
        "from vpn_gateway_agent.configuration import check_configuration",
        "from vpn_gateway_agent.secretsfiles import render_chap_secrets, render_ipsec_secrets",
        "from vpn_gateway_agent.settings import load_config",
        "out = []",
        "directory = tempfile.mkdtemp()",
        "for case in json.load(sys.stdin):",
        "    file = os.path.join(directory, 'sync.json')",
        "    with open(file, 'w') as f: f.write(case['syncJson'])",
        "    config = load_config(file)",
        "    configuration, problems = check_configuration({p['name']: p['value'] for p in case['parameters']}, config)",
        "    if configuration is None:",
        "        out.append({'problems': problems}); continue",
        "    out.append({'problems': problems, 'psk': configuration.psk,",
        "                'users': {n: [u.name, u.password, u.ip] for n, u in configuration.users.items()},",
        "                'chapSecrets': render_chap_secrets(configuration, config), 'ipsecSecrets': render_ipsec_secrets(configuration, config)})",
        "json.dump(out, sys.stdout)",
    ].join("\n");
    const zipapp = path.join(root, "dist", "agent", "vpn-gateway-sync.pyz");
    const r = spawnSync("/usr/bin/python3", ["-B", "-c", code, zipapp], {
        cwd: root,
        input: JSON.stringify(cases),
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
    });
    if (r.error) throw new Error(`the sync's check needs /usr/bin/python3 with boto3 (bash scripts/setup.sh test): ${r.error.message}`);
    if (r.status !== 0) throw new Error(`the sync program failed (is it built? npm run build:agent): ${r.stderr}`);
    return JSON.parse(r.stdout);
}

/** Every file under dir, at any depth, by its path relative to dir ('/'-separated), sorted. */
function filesUnder(dir: string): string[] {
    return (fs.readdirSync(dir, { recursive: true }) as string[])
        .filter((f) => fs.statSync(path.join(dir, f)).isFile())
        .map((f) => f.split(path.sep).join("/"))
        .sort();
}

/** Every template file, at any depth, by its path relative to templates/ (as renderTemplate takes it). */
export function templateFiles(): string[] {
    return filesUnder(TEMPLATE_DIR);
}

/** Every plain file, at any depth, by its path relative to files/ (as plainFile takes it). */
export function plainFiles(): string[] {
    return filesUnder(FILES_DIR);
}

const ROOT_DIR = path.join(__dirname, "..");

/** The newest modification time of the TypeScript sources the compiled package is built from. */
function newestSource(dir: string): number {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) newest = Math.max(newest, newestSource(file));
        else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(file).mtimeMs);
    }
    return newest;
}

let checkedBuild = false;
/**
 * How a test runs a command: node on the compiled dist/cli/NAME.js, as the installed package runs
 * it (starting ts-node for each run cost the fast suite most of its time). `npm test` builds it
 * first; a build older than the sources fails here rather than testing yesterday's code.
 */
export function commandLine(name: "render" | "client" | "probe"): string[] {
    // The way before the package was compiled, kept for scripts/bench-suite.sh's comparison.
    if (process.env.VPN_GATEWAY_TEST_COMMANDS === "ts-node")
        return [process.execPath, require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(ROOT_DIR, "cli", `${name}.ts`)];
    const compiled = path.join(ROOT_DIR, "dist", "cli", `${name}.js`);
    if (!checkedBuild) {
        if (!fs.existsSync(compiled)) throw new Error(`${compiled} is missing: run npm run build (npm test does)`);
        const built = fs.statSync(compiled).mtimeMs;
        for (const dir of ["components", "cli"]) {
            if (newestSource(path.join(ROOT_DIR, dir)) > built) throw new Error(`dist/ is older than ${dir}/: run npm run build (npm test does)`);
        }
        checkedBuild = true;
    }
    return [process.execPath, compiled];
}
