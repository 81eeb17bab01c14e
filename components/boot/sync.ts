// Sync: the gateway follows its users and PSK in SSM Parameter Store (vpn-gateway-sync, the agent:
// the Python package agent/vpn_gateway_agent, built into one zipapp by agent/build.py). The
// user-data gets what the sync needs that is no secret and no user's: sync.json (region, path,
// pool, the limits of config/settings.ts), the installer, the units; the first boot installs the
// zipapp from the stack's PATH/program/N parameters (it does not fit the user-data), checked
// against the SHA-256 the user-data carries, and runs its first sync before the VPN daemons start.
import { createHash } from "crypto";
import * as fs from "fs";
import { assetPath } from "../assets";
import {
    CHAP_WORD_FORBIDDEN,
    CHAP_WORD_RULE,
    ClientPool,
    NAME_MAX_LENGTH,
    PASSWORD_FIRST_FORBIDDEN,
    PASSWORD_MAX_LENGTH,
    PSK_MAX_LENGTH,
    PSK_MIN_LENGTH,
    PSK_RULE,
    SECRET_FORBIDDEN,
} from "../config/settings";
import { BootComponent, plainFile } from "./bootFile";
import { PPP_SERVER_NAME } from "./l2tp";
import { SsmParameter, gzipPieces } from "./parameters";

export const SYNC_CONFIG_FILE = "/etc/vpn-gateway/sync.json";
export const SYNC_PROGRAM = "/usr/local/sbin/vpn-gateway-sync";
export const SYNC_INSTALLER = "/usr/local/sbin/vpn-gateway-sync-install";
/** The agent as the gateway runs it, relative to the package root: `npm run build:agent` writes it. */
export const PROGRAM_BUILD = ["dist", "agent", "vpn-gateway-sync.pyz"] as const;

/**
 * The rules of config/settings.ts that the agent checks the parameters' values against again, as
 * sync.json's "limits" (the agent's settings.parse_limits reads them): one source, the values and
 * the wording here, the mechanism there.
 */
export const SYNC_LIMITS = {
    nameMaxLength: NAME_MAX_LENGTH,
    passwordMaxLength: PASSWORD_MAX_LENGTH,
    pskMinLength: PSK_MIN_LENGTH,
    pskMaxLength: PSK_MAX_LENGTH,
    secretForbidden: SECRET_FORBIDDEN,
    chapWordForbidden: CHAP_WORD_FORBIDDEN,
    passwordFirstForbidden: PASSWORD_FIRST_FORBIDDEN,
    secretRule: PSK_RULE,
    chapWordRule: CHAP_WORD_RULE,
} as const;

/** An AWS region name as vpn-gateway-sync accepts it in sync.json (its REGION_PATTERN). */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-[0-9]+$/;

/** What the Sync part renders from: where the parameters are, and the pool the users' addresses come from. */
export interface SyncInput {
    /** The AWS region of the stack's parameters. */
    region: string;
    /** The stack's parameter path, /vpn-gateway/<stack>. */
    parameterPath: string;
    /** The client pool: the gateway's address and the static range, which the sync checks users against. */
    clientPool: ClientPool;
}

/** The sync program as the gateway runs it (the zipapp's bytes), its SHA-256, and the pieces its parameters hold. */
export interface SyncProgram {
    bytes: Buffer;
    sha256: string;
    /** gzip (level 9), base64, in pieces of at most PARAMETER_VALUE_LIMIT characters. */
    chunks: string[];
}

let program: SyncProgram | undefined;

/** The program, read once per process from the agent's build (a zip: bytes, not text). */
export function syncProgram(): SyncProgram {
    if (!program) {
        const file = assetPath(...PROGRAM_BUILD);
        if (!fs.existsSync(file)) {
            throw new Error(`the gateway's agent is not built: no ${file}; run \`npm run build:agent\` (python3 agent/build.py ${PROGRAM_BUILD.join("/")})`);
        }
        const bytes = fs.readFileSync(file);
        program = { bytes, sha256: createHash("sha256").update(bytes).digest("hex"), chunks: gzipPieces(bytes) };
    }
    return program;
}

/**
 * The program's parameters, PATH/program/1 to N: SecureStrings like every parameter of the stack,
 * though nothing in them is secret (the installer checks them against the user-data's SHA-256).
 */
export function programParameters(parameterPath: string): SsmParameter[] {
    return syncProgram().chunks.map((value, i) => ({ name: `${parameterPath}/program/${i + 1}`, type: "SecureString", value }));
}

/** sync.json: what vpn-gateway-sync follows (its load_config reads these keys). */
export function syncConfig(input: SyncInput): string {
    const { region, parameterPath, clientPool } = input;
    if (!REGION_PATTERN.test(region)) throw new Error(`region ${JSON.stringify(region)} is not an AWS region like eu-west-1`);
    return (
        JSON.stringify(
            {
                region,
                path: parameterPath,
                serverName: PPP_SERVER_NAME,
                clientPool: clientPool.cidr.text,
                gatewayAddress: clientPool.gatewayAddress,
                staticRange: clientPool.staticRange,
                limits: SYNC_LIMITS,
            },
            null,
            2,
        ) + "\n"
    );
}

export function sync(input: SyncInput): BootComponent {
    const { sha256, chunks } = syncProgram();
    return {
        // boto3 reaches SSM with the instance role's credentials (IMDSv2); in every supported release's archive.
        packages: ["python3-boto3"],
        files: [
            { path: SYNC_CONFIG_FILE, permissions: "0644", owner: "root:root", content: syncConfig(input) },
            plainFile(SYNC_INSTALLER, "0755", "sync/vpn-gateway-sync-install"),
            plainFile("/etc/systemd/system/vpn-gateway-sync-boot.service", "0644", "sync/vpn-gateway-sync-boot.service"),
            plainFile("/etc/systemd/system/vpn-gateway-sync.service", "0644", "sync/vpn-gateway-sync.service"),
            plainFile("/etc/systemd/system/vpn-gateway-sync.timer", "0644", "sync/vpn-gateway-sync.timer"),
        ],
        commands: [
            // The program, exactly the release this user-data names; then the users and the PSK,
            // before the VPN daemons start (each stops the first boot visibly if SSM never answers).
            [SYNC_INSTALLER, sha256, String(chunks.length)],
            [SYNC_PROGRAM, "boot"],
        ],
        // Polls every 30 s from now on.
        services: ["vpn-gateway-sync.timer"],
        // Later boots: the boot run, before ipsec and xl2tpd (this boot ran it above).
        enableOnly: ["vpn-gateway-sync-boot.service"],
    };
}
