// The gateway's secrets as SSM Parameter Store holds them: names and values (pure). The program
// creates exactly these (aws/gateway.ts, through the parts that own them), `npm run render
// --out-dir` writes them for a test bed, and the gateway's vpn-gateway-sync reads them
// (agent/vpn_gateway_agent: the format, the names it follows).
//
//   /vpn-gateway/<stack>/psk            the PSK
//   /vpn-gateway/<stack>/users/<bb>     the users whose name's SHA-256 starts with the byte bb (two
//                                       lowercase hex digits), as compact JSON
//                                       {"format":1,"users":[{"name","password","ip"?},...]},
//                                       sorted by name; only buckets that hold a user exist
//   /vpn-gateway/<stack>/users/<bb>-2   ... -3, ...: the rest of bucket bb when its JSON would be
//                                       over 4096 characters (split in name order)
//   /vpn-gateway/<stack>/ikev2/1..N     the IKEv2 material (pki/parameters.ts): the gzip+base64 of
//                                       {"format":1,"caCert","serverCert","serverKey","crl",
//                                       "revoked":[{"name","serial"},...]} in pieces
//
// Every parameter is a SecureString of the standard tier (no charge; at most 4096 characters,
// which every value here respects). The bucket of a user depends on the name alone, so one user's
// change rewrites that bucket's one parameter: with 256 buckets, 5,000 users of realistic names and
// passwords are about 20 to a bucket, some 1,000 characters. Only a bucket over 4096 characters is
// split, and then a change there may move the split and rewrite more than one of its parameters.
import { createHash } from "crypto";
import * as zlib from "zlib";
import { ConfigError, PROJECT, VpnUser } from "../config/settings";

/** SSM's standard tier: a value of at most 4096 characters. */
export const PARAMETER_VALUE_LIMIT = 4096;
/** SSM's standard tier: at most 10,000 parameters per account and region (shared with everything else there). */
export const STANDARD_PARAMETERS_PER_REGION = 10000;
/** Every stack's parameters live under /vpn-gateway/<stack>. */
export const PARAMETER_ROOT = `/${PROJECT}`;
/** The version of the users parameters' JSON, which vpn-gateway-sync checks. */
export const USERS_FORMAT = 1;
/**
 * The longest stack name a gateway can have: its IAM role is auto-named `vpn-gateway-<stack>-` plus 7
 * random characters, and IAM allows 64 (Pulumi's own bound, 100, would fail only at `pulumi up`).
 * Far below SSM's 1011 characters for a parameter name.
 */
export const STACK_NAME_MAX_LENGTH = 64 - "vpn-gateway-".length - "-1234567".length;

/** One parameter as SSM holds it, its value in plain: what ssm-parameters.json lists. */
export interface SsmParameter {
    name: string;
    type: "SecureString";
    value: string;
}

/**
 * The stack's parameter path, /vpn-gateway/<stack>. A stack name is part of every parameter's name,
 * so it must be made of what SSM allows in one: letters, digits, '_', '.', '-'.
 */
export function parameterPath(stack: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack) || stack.length > STACK_NAME_MAX_LENGTH) {
        throw new ConfigError([
            `stack name ${JSON.stringify(stack)}: it names the stack's SSM parameters (${PARAMETER_ROOT}/<stack>/...) and its IAM role ` +
                `(vpn-gateway-<stack>-<7 random characters>, at most 64), so it may hold only letters, digits, '_', '.' and '-', ` +
                `at most ${STACK_NAME_MAX_LENGTH} characters (this one has ${stack.length}); use another stack name`,
        ]);
    }
    return `${PARAMETER_ROOT}/${stack}`;
}

/** IAM allows 64 characters in a role's name; Pulumi names a gateway's role `<name>-` plus 7 random characters. */
export const GATEWAY_NAME_MAX_LENGTH = 64 - "-1234567".length;
/** SSM allows 15 levels in a parameter's name; the deepest of a gateway's is PATH/users/<bb>. */
const PATH_LEVELS_MAX = 15 - 2;

/**
 * A component's name names its IAM role and, by default, its parameter path
 * (/vpn-gateway/<stack>/<name>): problems with either, named as `name` and `parameterPath`.
 */
export function gatewayNameProblems(name: string, path: string, pathKey: string): string[] {
    const problems: string[] = [];
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.length > GATEWAY_NAME_MAX_LENGTH) {
        problems.push(
            `name ${JSON.stringify(name)}: it names the gateway's IAM role (<name>-<7 random characters>, at most 64) and its default parameter path, ` +
                `so it may hold only letters, digits, '_', '.' and '-', at most ${GATEWAY_NAME_MAX_LENGTH} characters (this one has ${name.length})`,
        );
    }
    const segments = path.split("/").slice(1);
    if (!path.startsWith("/") || segments.some((s) => !/^[A-Za-z0-9_.-]+$/.test(s)) || segments.length > PATH_LEVELS_MAX || path.length > 900) {
        problems.push(
            `${pathKey}: ${JSON.stringify(path)} is not an SSM path for the gateway's parameters; expected /SEGMENT[/SEGMENT...] ` +
                `of letters, digits, '_', '.' and '-', at most ${PATH_LEVELS_MAX} levels and 900 characters`,
        );
    } else if (/^(aws|ssm)/i.test(segments[0])) {
        problems.push(`${pathKey}: ${JSON.stringify(path)} starts with "${segments[0]}"; SSM reserves names that begin with "aws" or "ssm"`);
    }
    return problems;
}

/** The PSK's parameter. */
export function pskParameter(path: string, psk: string): SsmParameter {
    return { name: `${path}/psk`, type: "SecureString", value: psk };
}

/** A user's bucket: the first byte of the SHA-256 of the name, as two lowercase hex digits. */
export function userBucket(name: string): string {
    return createHash("sha256").update(name, "utf8").digest("hex").slice(0, 2);
}

/** One user as the users parameters hold it: name, password, and ip only for a static address. */
function record(user: VpnUser): string {
    return JSON.stringify({ name: user.name, password: user.password, ...(user.ip ? { ip: user.ip } : {}) });
}

function usersValue(records: string[]): string {
    return `{"format":${USERS_FORMAT},"users":[${records.join(",")}]}`;
}

/**
 * The users' parameters, sorted by name. The same users in any order give the same parameters.
 * Throws a ConfigError naming the users when a layout cannot be made (a record that could not fit
 * one parameter, or more parameters than SSM's standard tier allows in a region), which the
 * validated limits on names and passwords rule out: it is checked before anything is created all
 * the same.
 */
export function usersParameters(path: string, users: VpnUser[]): SsmParameter[] {
    const buckets = new Map<string, VpnUser[]>();
    for (const user of users) {
        const bucket = userBucket(user.name);
        buckets.set(bucket, [...(buckets.get(bucket) ?? []), user]);
    }
    const empty = usersValue([]).length;
    const parameters: SsmParameter[] = [];
    for (const bucket of [...buckets.keys()].sort()) {
        const members = buckets.get(bucket)!.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        // Greedy, in name order: each parameter takes users until the next would not fit.
        const pieces: string[][] = [[]];
        let length = empty;
        for (const user of members) {
            const text = record(user);
            if (empty + text.length > PARAMETER_VALUE_LIMIT) {
                const i = users.indexOf(user);
                throw new ConfigError([
                    `${PROJECT}:users[${i}]: its record is ${text.length} characters, more than one SSM parameter holds (${PARAMETER_VALUE_LIMIT}); shorten the name or password`,
                ]);
            }
            const current = pieces[pieces.length - 1];
            const added = text.length + (current.length > 0 ? 1 : 0);
            if (current.length > 0 && length + added > PARAMETER_VALUE_LIMIT) {
                pieces.push([text]);
                length = empty + text.length;
            } else {
                current.push(text);
                length += added;
            }
        }
        pieces.forEach((piece, i) => {
            parameters.push({ name: `${path}/users/${bucket}${i === 0 ? "" : `-${i + 1}`}`, type: "SecureString", value: usersValue(piece) });
        });
    }
    return parameters;
}

/** A text (UTF-8) or bytes as gzip (level 9, no name or time in the header: the same input always gives the same text), base64. */
export function gzipBase64(data: string | Buffer): string {
    return zlib.gzipSync(typeof data === "string" ? Buffer.from(data, "utf8") : data, { level: 9 }).toString("base64");
}

/**
 * A text (UTF-8) or bytes as gzipBase64, in pieces of at most PARAMETER_VALUE_LIMIT characters: for
 * values larger than one parameter (the sync program's zipapp, the IKEv2 material).
 */
export function gzipPieces(data: string | Buffer): string[] {
    const packed = gzipBase64(data);
    const pieces: string[] = [];
    for (let i = 0; i < packed.length; i += PARAMETER_VALUE_LIMIT) pieces.push(packed.slice(i, i + PARAMETER_VALUE_LIMIT));
    return pieces;
}

/** Every parameter of a stack, sorted by name, each checked against SSM's standard tier. */
export function sortedAndChecked(parameters: SsmParameter[]): SsmParameter[] {
    const sorted = [...parameters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const names = sorted.map((p) => p.name);
    const twice = names.filter((n, i) => i > 0 && names[i - 1] === n);
    if (twice.length > 0) throw new Error(`two parameters named ${twice.join(", ")}`);
    for (const p of sorted) {
        if (p.value.length > PARAMETER_VALUE_LIMIT)
            throw new Error(`${p.name}: ${p.value.length} characters, over SSM's standard tier's ${PARAMETER_VALUE_LIMIT}`);
        if (p.value.length === 0) throw new Error(`${p.name}: empty (SSM refuses an empty value)`);
    }
    if (sorted.length > STANDARD_PARAMETERS_PER_REGION) {
        throw new ConfigError([
            `${PROJECT}:users: ${sorted.length} SSM parameters would be needed, more than the ${STANDARD_PARAMETERS_PER_REGION} of SSM's standard tier in a region; use fewer users`,
        ]);
    }
    return sorted;
}
