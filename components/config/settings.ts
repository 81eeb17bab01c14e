// Stack config -> validated, typed settings. Every later stage trusts these values, so each rule
// here is what keeps a config file on the gateway from meaning something other than intended.
import { Cidr, PRIVATE_RANGES, contains, formatIpv4, overlaps, parseCidr, parseIpv4 } from "./ipv4";
import {
    AMI_ID_PATTERN,
    CHAP_WORD_RULE,
    CONFIG_KEYS,
    DEFAULTS,
    DEVICE_MAX_LENGTH,
    DEVICE_PATTERN,
    DEVICE_RULE,
    GENERATED_PSK_LENGTH,
    HEALTH_CHECK_TIMEOUT_MAX,
    IKEV2_NAME_PATTERN,
    IKEV2_NAME_RULE,
    INSTANCE_TYPE_PATTERN,
    MAX_DNS_SERVERS,
    METHODS,
    NAME_MAX_LENGTH,
    OS_CHOICES,
    PASSWORD_MAX_LENGTH,
    POOL_PREFIX_MAX,
    POOL_PREFIX_MIN,
    PSK_MAX_LENGTH,
    PSK_MIN_LENGTH,
    PSK_RULE,
    REISSUE_MAX,
    SSH_KEY_NAME_PATTERN,
    SUBNET_ID_PATTERN,
    TAG_NAME_MAX_LENGTH,
    TAG_RESERVED_PREFIX,
    TAG_VALUE_MAX_LENGTH,
    USER_FIELDS,
    USER_SHAPE,
    VPC_ID_PATTERN,
} from "./schema";
import type { ConfigKey, Method, OsChoice } from "./schema";

// The keys, defaults and limits live in schema.ts (one statement of the config, which Pulumi.yaml
// and the README are generated from); the program has always imported them from here.
export {
    CHAP_WORD_RULE,
    PSK_RULE,
    CONFIG_KEYS,
    DEFAULTS,
    DEVICE_MAX_LENGTH,
    DEVICE_PATTERN,
    GENERATED_PSK_LENGTH,
    HEALTH_CHECK_TIMEOUT_MAX,
    IKEV2_NAME_PATTERN,
    MAX_DNS_SERVERS,
    METHODS,
    NAME_MAX_LENGTH,
    OS_CHOICES,
    PASSWORD_MAX_LENGTH,
    POOL_PREFIX_MAX,
    POOL_PREFIX_MIN,
    PSK_MAX_LENGTH,
    PSK_MIN_LENGTH,
    REISSUE_MAX,
};
export type { ConfigKey, Method, OsChoice };

export const PROJECT = "vpn-gateway";

/** An L2TP user: what chap-secrets holds. */
export interface VpnUser {
    name: string;
    password: string;
    /** A static address in the pool's static range, or undefined for one from xl2tpd's dynamic range. */
    ip?: string;
}

/**
 * An IKEv2 certificate of the stack's CA, and whether it must be refused (on the CRL). A user
 * without devices has one, named as the user; users[N].devices gives one per device, named
 * NAME.DEVICE (its CN, dNSName and the ID the device sends), so that the devices connect at once
 * (pluto ends a session when another comes up with the same ID) and one can be revoked alone.
 */
export interface Ikev2User {
    /** The certificate's name: the user's name, or NAME.DEVICE. */
    name: string;
    /** For a device's certificate only: the user (users[N].name) and the device. */
    user?: string;
    device?: string;
    /** Bumped by the user to have a new certificate issued (the old one is revoked). */
    reissue: number;
    /** users[N].revoked: the certificate is on the CRL and nothing is issued again. */
    revoked: boolean;
}

export interface Ikev2Settings {
    /** The IKEv2 clients' addresses (ikev2Pool): apart from the L2TP pool and the VPC. */
    pool: Cidr;
    /** What Libreswan hands out: the pool's hosts after the first (kept back, like L2TP's gateway address). */
    poolRange: AddressRange;
    /** A certificate per user with the ikev2 method (per device with devices), revoked ones included (they go on the CRL). */
    users: Ikev2User[];
}

/** An inclusive range of addresses. */
export interface AddressRange {
    first: string;
    last: string;
}

/**
 * The client pool, split in two halves so that xl2tpd's configuration never depends on the users:
 * static addresses (users[N].ip) come from the lower half, after the gateway's own address;
 * xl2tpd hands out the upper half. A user change is then a change of the users' parameters alone.
 */
export interface ClientPool {
    cidr: Cidr;
    /** The gateway's own PPP address: the pool's first host. */
    gatewayAddress: string;
    /** Where users[N].ip may be: the lower half of the pool after the gateway's address. */
    staticRange: AddressRange;
    /** Addresses xl2tpd hands out: the upper half of the pool, its broadcast address left out. */
    dynamicRanges: AddressRange[];
}

export interface Settings {
    /** Undefined when the stack should generate (and keep) one. */
    psk?: string;
    /** The L2TP users (method l2tp, not revoked): chap-secrets. */
    users: VpnUser[];
    clientPool: ClientPool;
    ikev2: Ikev2Settings;
    dnsServers: string[];
    instanceType: string;
    os: OsChoice;
    amiId?: string;
    vpcId?: string;
    subnetId?: string;
    allowedCidrs: string[];
    sshKeyName?: string;
    adminCidr?: string;
    tags: Record<string, string>;
    /** Whether VPN clients may reach each other through the gateway. */
    allowClientToClient: boolean;
    /** Seconds `pulumi up` waits for the gateway to answer IKE; 0 skips the check. */
    healthCheckTimeout: number;
}

/** Config as Pulumi hands it over: each value a string (structured values as JSON), keyed by the short name. */
export type RawConfig = Partial<Record<string, string>>;

/** Every problem found in a stack config, each naming its key and what is allowed. */
export class ConfigError extends Error {
    /** heading: what was invalid, e.g. `VpnGateway "eng": invalid arguments` for a component's args. */
    constructor(
        readonly problems: string[],
        heading = "invalid stack config",
    ) {
        super(`${heading}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/** How messages name the stack config's keys: `vpn-gateway:` for the stack program (the default). */
export const STACK_CONFIG_PREFIX = `${PROJECT}:`;
/**
 * What names a setting in messages during one parseSettings call: the stack config's key
 * (`vpn-gateway:psk`), or a component argument's field (`psk`) when VpnGateway validates its args.
 */
let keyPrefix = STACK_CONFIG_PREFIX;
const key = (name: string) => `${keyPrefix}${name}`;

/** Runs check with messages naming settings by prefix + name; parseSettings is synchronous, so this cannot leak. */
export function withKeyPrefix<T>(prefix: string, check: () => T): T {
    const saved = keyPrefix;
    keyPrefix = prefix;
    try {
        return check();
    } finally {
        keyPrefix = saved;
    }
}

/** Characters a value may not hold (or, for a password, start with), and the problem they are. */
export interface Forbidden {
    characters: string;
    problem: string;
}

/**
 * Beyond printable ASCII, the characters no secret (PSK, password) and no chap-secrets word may
 * hold, in the order they are checked: they change the meaning of a chap-secrets or ipsec.secrets
 * line, or clients mistype them. The gateway's agent checks the same (sync.json's limits).
 */
export const SECRET_FORBIDDEN: readonly Forbidden[] = [
    { characters: " ", problem: "whitespace" },
    { characters: `"'`, problem: "quote characters" },
    { characters: "\\", problem: "backslash" },
];
/** chap-secrets is parsed in words: '#' starts a comment, '*' is a wildcard. */
export const CHAP_WORD_FORBIDDEN: readonly Forbidden[] = [
    { characters: "#", problem: "'#' (starts a comment in chap-secrets)" },
    { characters: "*", problem: "'*' (a wildcard in chap-secrets)" },
];
/** pppd reads a chap-secrets secret that starts with '@' as the name of a file holding it. */
export const PASSWORD_FIRST_FORBIDDEN: Forbidden = {
    characters: "@",
    problem: "starts with '@', which pppd reads as a file name; allowed: any other first character",
};
/** The rules in words, for messages. */

/** Characters that change the meaning of a chap-secrets or ipsec.secrets line, or that clients mistype. */
function secretProblem(value: string): string | undefined {
    for (const ch of value) {
        const code = ch.codePointAt(0)!;
        if (code > 0x7e) return `non-ASCII character ${JSON.stringify(ch)}`;
        if (code < 0x20 || code === 0x7f) return `control character (code ${code}), e.g. a newline or tab`;
        const forbidden = SECRET_FORBIDDEN.find((f) => f.characters.includes(ch));
        if (forbidden) return forbidden.problem;
    }
    return undefined;
}

/** A chap-secrets word: a secret's rule, and none of CHAP_WORD_FORBIDDEN. */
function chapWordProblem(value: string): string | undefined {
    const basic = secretProblem(value);
    if (basic) return basic;
    return CHAP_WORD_FORBIDDEN.find((f) => [...f.characters].some((ch) => value.includes(ch)))?.problem;
}

class Collector {
    problems: string[] = [];
    add(problem: string) {
        this.problems.push(problem);
    }
}

function parseStructured(raw: RawConfig, name: ConfigKey): unknown {
    const text = raw[name];
    if (text === undefined) return undefined;
    try {
        return JSON.parse(text);
    } catch {
        // A plain string where a list or map was expected.
        return text;
    }
}

function optionalString(raw: RawConfig, name: ConfigKey, c: Collector, pattern: RegExp, allowed: string): string | undefined {
    const value = raw[name];
    if (value === undefined || value === "") return undefined;
    if (!pattern.test(value)) {
        c.add(`${key(name)}: ${JSON.stringify(value)} is not valid; expected ${allowed}`);
        return undefined;
    }
    return value;
}

function cidrList(value: unknown, name: ConfigKey, c: Collector, fallback: string[]): string[] {
    if (value === undefined) return fallback;
    if (!Array.isArray(value) || value.length === 0) {
        c.add(`${key(name)}: expected a non-empty list of IPv4 CIDR blocks like ["203.0.113.0/24"]`);
        return fallback;
    }
    const out: string[] = [];
    value.forEach((item, i) => {
        if (typeof item !== "string") {
            c.add(`${key(name)}[${i}]: expected a CIDR string, got ${JSON.stringify(item)}`);
            return;
        }
        const parsed = parseCidr(item);
        if ("error" in parsed) c.add(`${key(name)}[${i}]: ${parsed.error}`);
        else out.push(parsed.cidr.text);
    });
    return out;
}

function validatePsk(raw: RawConfig, c: Collector): string | undefined {
    const psk = raw.psk;
    if (psk === undefined || psk === "") return undefined;
    const problem = secretProblem(psk);
    if (problem) {
        c.add(`${key("psk")}: contains ${problem}; allowed: ${PSK_RULE}`);
    } else if (psk.length < PSK_MIN_LENGTH || psk.length > PSK_MAX_LENGTH) {
        c.add(
            `${key("psk")}: is ${psk.length} characters; allowed: ${PSK_MIN_LENGTH} to ${PSK_MAX_LENGTH} ` +
                `(unset it to have a ${GENERATED_PSK_LENGTH}-character one generated)`,
        );
    }
    return psk;
}

/** The PSK's problems (none: []), named as parseSettings names them: for a PSK known only at deploy time. */
export function pskProblems(psk: string, prefix = STACK_CONFIG_PREFIX): string[] {
    return withKeyPrefix(prefix, () => {
        const c = new Collector();
        validatePsk({ psk }, c);
        return c.problems;
    });
}

function validatePool(raw: RawConfig, c: Collector, name: "clientPool" | "ikev2Pool" = "clientPool"): Cidr | undefined {
    const text = raw[name] || DEFAULTS[name];
    const parsed = parseCidr(text);
    if ("error" in parsed) {
        c.add(`${key(name)}: ${parsed.error}`);
        return undefined;
    }
    const pool = parsed.cidr;
    if (pool.prefix < POOL_PREFIX_MIN || pool.prefix > POOL_PREFIX_MAX) {
        c.add(`${key(name)}: "${text}" is a /${pool.prefix}; allowed: /${POOL_PREFIX_MIN} to /${POOL_PREFIX_MAX}`);
        return undefined;
    }
    if (!PRIVATE_RANGES.some((range) => contains(range, pool.network) && contains(range, pool.last))) {
        c.add(`${key(name)}: "${text}" is not private; allowed: inside ${PRIVATE_RANGES.map((r) => r.text).join(", ")}`);
        return undefined;
    }
    return pool;
}

/** Libreswan's address pool: the hosts after the first (kept back, as L2TP keeps the gateway's). */
function ikev2PoolRange(pool: Cidr): AddressRange {
    return { first: formatIpv4(pool.network + 2), last: formatIpv4(pool.last - 1) };
}

/** users[N].devices: undefined when unset (one certificate named as the user). */
function userDevices(value: unknown, at: string, c: Collector): string[] | undefined | null {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.length === 0) {
        c.add(
            `${at}.devices: ${JSON.stringify(value)} is not valid; expected a non-empty list of device names such as ["phone", "laptop"] (leave it unset for one certificate named as the user)`,
        );
        return null;
    }
    const devices: string[] = [];
    for (const [j, d] of value.entries()) {
        if (typeof d !== "string" || !DEVICE_PATTERN.test(d) || d.length > DEVICE_MAX_LENGTH) {
            c.add(`${at}.devices[${j}]: ${JSON.stringify(d)} is not a device name; allowed: ${DEVICE_RULE}`);
            return null;
        }
        if (devices.includes(d)) {
            c.add(`${at}.devices[${j}]: ${JSON.stringify(d)} is listed twice`);
            return null;
        }
        devices.push(d);
    }
    return devices;
}

/** users[N].methods: a list of METHODS without repeats; both when unset. */
function userMethods(value: unknown, at: string, c: Collector, name: unknown): Method[] | undefined {
    if (value === undefined || value === null) {
        return typeof name === "string" && !IKEV2_NAME_PATTERN.test(name) ? ["l2tp"] : [...METHODS];
    }
    const allowed = `a non-empty list of ${METHODS.map((m) => JSON.stringify(m)).join(", ")}, e.g. ["ikev2"]`;
    if (!Array.isArray(value) || value.length === 0) {
        c.add(`${at}.methods: ${JSON.stringify(value)} is not valid; expected ${allowed}`);
        return undefined;
    }
    const methods: Method[] = [];
    for (const [j, m] of value.entries()) {
        if (!(METHODS as readonly unknown[]).includes(m)) {
            c.add(`${at}.methods[${j}]: ${JSON.stringify(m)} is not a method; allowed: ${METHODS.join(", ")}`);
            return undefined;
        }
        if (methods.includes(m as Method)) {
            c.add(`${at}.methods[${j}]: ${JSON.stringify(m)} is listed twice`);
            return undefined;
        }
        methods.push(m as Method);
    }
    return methods;
}

/** A boolean that `pulumi config set --path` stores as a boolean, or as the string "true"/"false". */
function flag(value: unknown, at: string, c: Collector): boolean | undefined {
    if (value === undefined || value === null || value === false || value === "false") return false;
    if (value === true || value === "true") return true;
    c.add(`${at}: ${JSON.stringify(value)} is not valid; expected true or false`);
    return undefined;
}

function reissueCount(value: unknown, at: string, c: Collector): number | undefined {
    if (value === undefined || value === null) return 0;
    const n = typeof value === "string" && /^[0-9]+$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > REISSUE_MAX) {
        c.add(`${at}: ${JSON.stringify(value)} is not valid; expected a whole number from 0 to ${REISSUE_MAX} (raise it to have a new certificate issued)`);
        return undefined;
    }
    return n;
}

function validateUsers(raw: RawConfig, pool: Cidr | undefined, c: Collector): { l2tp: VpnUser[]; ikev2: Ikev2User[] } {
    const value = parseStructured(raw, "users");
    const shape = `a list of ${USER_SHAPE}`;
    if (value === undefined) {
        c.add(
            `${key("users")}: no users; set at least one with ` +
                `pulumi config set --path 'users[0].name' NAME and pulumi config set --secret --path 'users[0].password' PASSWORD`,
        );
        return { l2tp: [], ikev2: [] };
    }
    if (!Array.isArray(value) || value.length === 0) {
        c.add(`${key("users")}: expected ${shape} with at least one user`);
        return { l2tp: [], ikev2: [] };
    }
    const users: VpnUser[] = [];
    const ikev2: Ikev2User[] = [];
    const names = new Map<string, number>();
    const ips = new Map<string, number>();
    let active = 0;
    value.forEach((item, i) => {
        const at = `${key("users")}[${i}]`;
        if (item === null || typeof item !== "object" || Array.isArray(item)) {
            c.add(`${at}: expected ${USER_SHAPE}, got ${JSON.stringify(item)}`);
            return;
        }
        const record = item as Record<string, unknown>;
        for (const field of Object.keys(record)) {
            if (!(USER_FIELDS as string[]).includes(field)) c.add(`${at}.${field}: unknown field; allowed: ${USER_FIELDS.join(", ")}`);
        }
        const { name, password, ip } = record;
        let ok = true;
        const methods = userMethods(record.methods, at, c, name);
        const revoked = flag(record.revoked, `${at}.revoked`, c);
        const reissue = reissueCount(record.reissue, `${at}.reissue`, c);
        const devices = userDevices(record.devices, at, c);
        if (methods === undefined || revoked === undefined || reissue === undefined || devices === null) ok = false;
        const l2tp = methods?.includes("l2tp") ?? false;
        const withIkev2 = methods?.includes("ikev2") ?? false;
        if (devices && methods && !withIkev2) {
            c.add(`${at}.devices: devices get IKEv2 certificates; this user has no ikev2 method (add "ikev2" to methods, or remove devices)`);
            ok = false;
        }
        // `pulumi config set --path` stores digits-only and true/false values as numbers and booleans.
        for (const [field, v] of [
            ["name", name],
            ["password", password],
        ] as const) {
            if (typeof v === "number" || typeof v === "boolean") {
                c.add(
                    `${at}.${field}: is a ${typeof v}, not a string; set it with --type string (pulumi config set --type string --path '${at.slice(keyPrefix.length)}.${field}' ...)`,
                );
                ok = false;
            }
        }
        if (typeof name === "number" || typeof name === "boolean") {
            // reported above
        } else if (typeof name !== "string" || name === "") {
            c.add(`${at}.name: required, a non-empty string`);
            ok = false;
        } else {
            const problem = chapWordProblem(name);
            if (problem) {
                c.add(`${at}.name: contains ${problem}; allowed: ${CHAP_WORD_RULE}`);
                ok = false;
            } else if (name.length > NAME_MAX_LENGTH) {
                c.add(`${at}.name: longer than ${NAME_MAX_LENGTH} characters`);
                ok = false;
            } else if (names.has(name)) {
                c.add(`${at}.name: "${name}" is also users[${names.get(name)}]; names must be unique`);
                ok = false;
            } else if (withIkev2 && !IKEV2_NAME_PATTERN.test(name)) {
                c.add(
                    `${at}.name: ${JSON.stringify(name)} cannot name an IKEv2 certificate's files; allowed for ikev2: the rule above with ${IKEV2_NAME_RULE} (or set ${at.slice(keyPrefix.length)}.methods to ["l2tp"])`,
                );
                ok = false;
            } else {
                names.set(name, i);
            }
        }
        if (typeof password === "number" || typeof password === "boolean") {
            // reported above
        } else if (password === undefined || password === null || password === "") {
            // Only L2TP reads a password: IKEv2 users prove themselves with their certificate.
            if (l2tp && !revoked) {
                c.add(`${at}.password: required for the l2tp method, a non-empty string (set it with --secret, or set methods to ["ikev2"])`);
                ok = false;
            }
        } else if (typeof password !== "string") {
            c.add(`${at}.password: expected a string`);
            ok = false;
        } else {
            // Never echo a password back: say only what is wrong with it.
            const problem = chapWordProblem(password);
            if (problem) {
                c.add(`${at}.password: contains ${problem}; allowed: ${CHAP_WORD_RULE}`);
                ok = false;
            } else if (PASSWORD_FIRST_FORBIDDEN.characters.includes(password[0])) {
                c.add(`${at}.password: ${PASSWORD_FIRST_FORBIDDEN.problem}`);
                ok = false;
            } else if (password.length > PASSWORD_MAX_LENGTH) {
                c.add(`${at}.password: longer than ${PASSWORD_MAX_LENGTH} characters`);
                ok = false;
            }
        }
        let staticIp: string | undefined;
        if (ip !== undefined && ip !== null && ip !== "") {
            const address = typeof ip === "string" ? parseIpv4(ip) : undefined;
            if (address === undefined) {
                c.add(`${at}.ip: ${JSON.stringify(ip)} is not an IPv4 address`);
                ok = false;
            } else if (methods && !l2tp) {
                c.add(`${at}.ip: a static address is an L2TP address (from ${key("clientPool")}); this user has no l2tp method`);
                ok = false;
            } else if (pool) {
                if (!contains(pool, address) || address === pool.network || address === pool.last) {
                    c.add(`${at}.ip: ${ip} is not a host address of the client pool ${pool.text}`);
                    ok = false;
                } else if (address === pool.network + 1) {
                    c.add(`${at}.ip: ${ip} is the gateway's own PPP address; ${staticRangeRule(pool)}`);
                    ok = false;
                } else if (address > halves(pool).staticLast) {
                    c.add(`${at}.ip: ${ip} is in xl2tpd's dynamic range; ${staticRangeRule(pool)}`);
                    ok = false;
                } else if (ips.has(ip as string)) {
                    c.add(`${at}.ip: ${ip} is also users[${ips.get(ip as string)}]'s address; static addresses must be unique`);
                    ok = false;
                }
            }
            if (ok) {
                staticIp = ip as string;
                ips.set(staticIp, i);
            }
        }
        if (!ok) return;
        if (!revoked) active++;
        if (l2tp && !revoked) users.push({ name: name as string, password: password as string, ...(staticIp ? { ip: staticIp } : {}) });
        if (withIkev2 && devices) {
            for (const device of devices) {
                ikev2.push({ name: `${name as string}.${device}`, user: name as string, device, reissue: reissue!, revoked: revoked! });
            }
        } else if (withIkev2) {
            ikev2.push({ name: name as string, reissue: reissue!, revoked: revoked! });
        }
    });
    // A certificate's name is an ID pluto tells apart: NAME.DEVICE must be nobody else's.
    const owners = new Map<string, string>();
    for (const cert of ikev2) {
        const owner = cert.device ? `${cert.user}'s device ${JSON.stringify(cert.device)}` : `user ${JSON.stringify(cert.name)}`;
        const other = owners.get(cert.name);
        if (other) {
            c.add(
                `${key("users")}: the IKEv2 certificate name ${JSON.stringify(cert.name)} is both ${other} and ${owner}; rename one (device certificates are named NAME.DEVICE)`,
            );
        } else if (cert.name.length > NAME_MAX_LENGTH) {
            c.add(
                `${key("users")}: ${owner}'s certificate name ${JSON.stringify(cert.name)} is longer than ${NAME_MAX_LENGTH} characters (a certificate's common name); shorten the name or the device`,
            );
        }
        owners.set(cert.name, owner);
    }
    if (active === 0 && c.problems.length === 0) {
        c.add(`${key("users")}: every user is revoked; at least one must be able to connect`);
    }
    return { l2tp: users, ikev2 };
}

/**
 * The pool's two halves: static addresses from the gateway's address + 1 to the end of the lower
 * half, xl2tpd's from the upper half's first address to the last host (e.g. 192.168.42.0/24:
 * static .2-.127, dynamic .128-.254; a /29: static .2-.3, dynamic .4-.6).
 */
function halves(pool: Cidr): { gateway: number; staticFirst: number; staticLast: number; dynamicFirst: number; dynamicLast: number } {
    const middle = pool.network + (pool.last - pool.network + 1) / 2;
    return { gateway: pool.network + 1, staticFirst: pool.network + 2, staticLast: middle - 1, dynamicFirst: middle, dynamicLast: pool.last - 1 };
}

/** What a static address may be, for messages: the setting, the range, and why. */
function staticRangeRule(pool: Cidr): string {
    const h = halves(pool);
    return (
        `allowed: ${formatIpv4(h.staticFirst)} to ${formatIpv4(h.staticLast)} (the lower half of ${key("clientPool")} ${pool.text} ` +
        `after the gateway's ${formatIpv4(h.gateway)}; xl2tpd hands out ${formatIpv4(h.dynamicFirst)} to ${formatIpv4(h.dynamicLast)})`
    );
}

function buildPool(pool: Cidr): ClientPool {
    const h = halves(pool);
    return {
        cidr: pool,
        gatewayAddress: formatIpv4(h.gateway),
        staticRange: { first: formatIpv4(h.staticFirst), last: formatIpv4(h.staticLast) },
        dynamicRanges: [{ first: formatIpv4(h.dynamicFirst), last: formatIpv4(h.dynamicLast) }],
    };
}

function validateDns(raw: RawConfig, c: Collector): string[] {
    const value = parseStructured(raw, "dnsServers");
    if (value === undefined) return DEFAULTS.dnsServers;
    const list = typeof value === "string" ? [value] : value;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_DNS_SERVERS) {
        c.add(`${key("dnsServers")}: expected a list of 1 to ${MAX_DNS_SERVERS} IPv4 addresses`);
        return DEFAULTS.dnsServers;
    }
    list.forEach((item, i) => {
        if (typeof item !== "string" || parseIpv4(item) === undefined) {
            c.add(`${key("dnsServers")}[${i}]: ${JSON.stringify(item)} is not an IPv4 address`);
        }
    });
    return list as string[];
}

function validateTags(raw: RawConfig, c: Collector): Record<string, string> {
    const value = parseStructured(raw, "tags");
    if (value === undefined) return {};
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        c.add(`${key("tags")}: expected a map of tag names to strings`);
        return {};
    }
    const tags: Record<string, string> = {};
    for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        // AWS limits (schema.ts): a name of 1 to TAG_NAME_MAX_LENGTH characters, a value of at most
        // TAG_VALUE_MAX_LENGTH, and the aws: prefix is reserved.
        if (name.length === 0 || name.length > TAG_NAME_MAX_LENGTH || name.toLowerCase().startsWith(TAG_RESERVED_PREFIX)) {
            c.add(`${key("tags")}: tag name ${JSON.stringify(name)} must be 1-${TAG_NAME_MAX_LENGTH} characters and not start with "${TAG_RESERVED_PREFIX}"`);
        } else if (typeof v !== "string" || v.length > TAG_VALUE_MAX_LENGTH) {
            c.add(`${key("tags")}.${name}: expected a string of at most ${TAG_VALUE_MAX_LENGTH} characters`);
        } else {
            tags[name] = v;
        }
    }
    return tags;
}

/**
 * Validates the whole stack config and returns typed settings, or throws one ConfigError listing
 * every problem. Pure: the caller hands over the raw values, so this runs before any resource exists.
 */
export function parseSettings(raw: RawConfig, prefix = STACK_CONFIG_PREFIX, heading?: string): Settings {
    return withKeyPrefix(prefix, () => parseWithKeys(raw, heading));
}

function parseWithKeys(raw: RawConfig, heading: string | undefined): Settings {
    const c = new Collector();
    for (const name of Object.keys(raw)) {
        if (!(CONFIG_KEYS as readonly string[]).includes(name)) {
            c.add(`${key(name)}: unknown setting; known settings: ${CONFIG_KEYS.join(", ")}`);
        }
    }
    const psk = validatePsk(raw, c);
    const poolCidr = validatePool(raw, c);
    const { l2tp: users, ikev2: ikev2Users } = validateUsers(raw, poolCidr, c);
    const clientPool = poolCidr ? buildPool(poolCidr) : undefined;
    const ikev2Pool = validatePool(raw, c, "ikev2Pool");
    if (poolCidr && ikev2Pool && overlaps(poolCidr, ikev2Pool)) {
        c.add(`${key("ikev2Pool")}: ${ikev2Pool.text} overlaps ${key("clientPool")} ${poolCidr.text}; the two pools must be apart`);
    }
    const dnsServers = validateDns(raw, c);

    const os = (raw.os ?? DEFAULTS.os) as OsChoice;
    if (!OS_CHOICES.includes(os)) c.add(`${key("os")}: ${JSON.stringify(raw.os)} is not supported; allowed: ${OS_CHOICES.join(", ")}`);
    const instanceType = optionalString(raw, "instanceType", c, INSTANCE_TYPE_PATTERN, "an EC2 instance type like t3.micro") ?? DEFAULTS.instanceType;
    const amiId = optionalString(raw, "amiId", c, AMI_ID_PATTERN, "an AMI id like ami-0123456789abcdef0");
    const vpcId = optionalString(raw, "vpcId", c, VPC_ID_PATTERN, "a VPC id like vpc-0123456789abcdef0");
    const subnetId = optionalString(raw, "subnetId", c, SUBNET_ID_PATTERN, "a subnet id like subnet-0123456789abcdef0");
    if (vpcId && !subnetId) {
        c.add(`${key("subnetId")}: required when ${key("vpcId")} is set: name a public subnet of ${vpcId}`);
    }
    const allowedCidrs = cidrList(parseStructured(raw, "allowedCidrs"), "allowedCidrs", c, DEFAULTS.allowedCidrs);
    const sshKeyName = optionalString(raw, "sshKeyName", c, SSH_KEY_NAME_PATTERN, "the name of an EC2 key pair");
    let adminCidr: string | undefined;
    if (raw.adminCidr !== undefined && raw.adminCidr !== "") {
        const parsed = parseCidr(raw.adminCidr);
        if ("error" in parsed) c.add(`${key("adminCidr")}: ${parsed.error}`);
        else adminCidr = parsed.cidr.text;
        if (!sshKeyName) c.add(`${key("adminCidr")}: opens SSH, which needs ${key("sshKeyName")} too`);
    }
    const tags = validateTags(raw, c);
    let allowClientToClient = DEFAULTS.allowClientToClient;
    if (raw.allowClientToClient !== undefined && raw.allowClientToClient !== "") {
        if (raw.allowClientToClient !== "true" && raw.allowClientToClient !== "false") {
            c.add(`${key("allowClientToClient")}: ${JSON.stringify(raw.allowClientToClient)} is not valid; expected true or false`);
        }
        allowClientToClient = raw.allowClientToClient === "true";
    }
    let healthCheckTimeout = DEFAULTS.healthCheckTimeout;
    if (raw.healthCheckTimeout !== undefined && raw.healthCheckTimeout !== "") {
        const n = Number(raw.healthCheckTimeout);
        if (!/^[0-9]+$/.test(raw.healthCheckTimeout) || n > HEALTH_CHECK_TIMEOUT_MAX) {
            c.add(
                `${key("healthCheckTimeout")}: ${JSON.stringify(raw.healthCheckTimeout)} is not valid; expected whole seconds from 0 (no check) to ${HEALTH_CHECK_TIMEOUT_MAX}`,
            );
        } else {
            healthCheckTimeout = n;
        }
    }

    if (c.problems.length > 0 || !clientPool || !ikev2Pool) throw new ConfigError(c.problems, heading);
    return {
        ...(psk !== undefined ? { psk } : {}),
        users,
        clientPool,
        ikev2: { pool: ikev2Pool, poolRange: ikev2PoolRange(ikev2Pool), users: ikev2Users },
        dnsServers,
        instanceType,
        os,
        ...(amiId ? { amiId } : {}),
        ...(vpcId ? { vpcId } : {}),
        ...(subnetId ? { subnetId } : {}),
        allowedCidrs,
        ...(sshKeyName ? { sshKeyName } : {}),
        ...(adminCidr ? { adminCidr } : {}),
        tags,
        healthCheckTimeout,
        allowClientToClient,
    };
}

/** Checks the client pools against the VPC's blocks, once they are known (after the VPC lookup). */
export function checkPoolAgainstVpc(pool: ClientPool, vpcCidrs: string[], ikev2Pool?: Cidr, prefix = STACK_CONFIG_PREFIX, heading?: string): void {
    withKeyPrefix(prefix, () => checkPools(pool, vpcCidrs, ikev2Pool, heading));
}

function checkPools(pool: ClientPool, vpcCidrs: string[], ikev2Pool: Cidr | undefined, heading: string | undefined): void {
    const problems: string[] = [];
    for (const text of vpcCidrs) {
        const parsed = parseCidr(text);
        if ("cidr" in parsed && overlaps(pool.cidr, parsed.cidr)) {
            problems.push(`${key("clientPool")}: ${pool.cidr.text} overlaps the VPC's ${text}; choose a pool outside it`);
        }
        if (ikev2Pool && "cidr" in parsed && overlaps(ikev2Pool, parsed.cidr)) {
            problems.push(`${key("ikev2Pool")}: ${ikev2Pool.text} overlaps the VPC's ${text}; choose a pool outside it`);
        }
    }
    if (problems.length > 0) throw new ConfigError(problems, heading);
}
