// The stack config, stated once: every key with its type, default, limits, secrecy and what a user
// reads about it. settings.ts validates against these limits; `npm run gen:config`
// (scripts/gen-config.ts) writes Pulumi.yaml's config block and the README's configuration table
// from this file, and test/config/schema.test.ts checks both, and that the validator enforces
// every limit stated here. Nothing here may import settings.ts (settings.ts imports this file).
import { PRIVATE_RANGES } from "./ipv4";

// ---- The limits: each value written once, read by the validator and the descriptions alike. ----

/** Length of a generated PSK, and the bounds of one a user sets. */
export const GENERATED_PSK_LENGTH = 32;
export const PSK_MIN_LENGTH = 12;
export const PSK_MAX_LENGTH = 128;
export const NAME_MAX_LENGTH = 64;
export const PASSWORD_MAX_LENGTH = 128;
/** pppd pushes at most two DNS servers (ms-dns). */
export const MAX_DNS_SERVERS = 2;
export const POOL_PREFIX_MIN = 16;
export const POOL_PREFIX_MAX = 29;
export const HEALTH_CHECK_TIMEOUT_MAX = 3600;
export const REISSUE_MAX = 1000000;
/** users[N].devices[M]: a short word, so that NAME.DEVICE stays readable and unambiguous. */
export const DEVICE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const DEVICE_MAX_LENGTH = 32;
/**
 * An IKEv2 user's name also names files (DIR/clients/NAME/NAME.p12): beyond the chap-secrets rule,
 * no '/' and no leading '.'. A user whose methods are unset gets IKEv2 only with such a name, so
 * that no L2TP user of an earlier release is refused.
 */
export const IKEV2_NAME_PATTERN = /^[^/.][^/]*$/;
/** EC2's limits on a key pair's name, and on tags (the aws: prefix is AWS's own). */
export const SSH_KEY_NAME_MAX_LENGTH = 255;
export const TAG_NAME_MAX_LENGTH = 128;
export const TAG_VALUE_MAX_LENGTH = 256;
export const TAG_RESERVED_PREFIX = "aws:";

// Each needs its lookup in network.ts IMAGES; the kernel step adapts to what the image boots, not to this name.
export const OS_CHOICES = ["ubuntu-24.04", "ubuntu-26.04", "debian-12", "debian-13"] as const;
export type OsChoice = (typeof OS_CHOICES)[number];

/** How a user may connect: users[N].methods, both by default. */
export const METHODS = ["l2tp", "ikev2"] as const;
export type Method = (typeof METHODS)[number];

// The rules that are words rather than numbers, in the words of the validator's messages.
export const PSK_RULE = "printable ASCII without whitespace, quotes or backslash";
export const CHAP_WORD_RULE = `printable ASCII without whitespace, quotes, backslash, '#' or '*'`;
export const IKEV2_NAME_RULE = `no '/' and no leading '.'`;
export const DEVICE_RULE = `letters, digits, '-' and '_', starting with a letter or digit, at most ${DEVICE_MAX_LENGTH} characters`;

/** The patterns of the plain string settings (the EC2 ids and names). */
export const INSTANCE_TYPE_PATTERN = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
export const AMI_ID_PATTERN = /^ami-[0-9a-f]{8,17}$/;
export const VPC_ID_PATTERN = /^vpc-[0-9a-f]{8,17}$/;
export const SUBNET_ID_PATTERN = /^subnet-[0-9a-f]{8,17}$/;
export const SSH_KEY_NAME_PATTERN = new RegExp(`^[\\x20-\\x7e]{1,${SSH_KEY_NAME_MAX_LENGTH}}$`);

export const DEFAULTS = {
    clientPool: "192.168.42.0/24",
    ikev2Pool: "192.168.43.0/24",
    dnsServers: ["8.8.8.8", "8.8.4.4"],
    instanceType: "t3.micro",
    os: "ubuntu-24.04" as OsChoice,
    allowedCidrs: ["0.0.0.0/0"],
    healthCheckTimeout: 900,
    allowClientToClient: false,
};

/** Every key the program reads; anything else under vpn-gateway: is a typo and is refused. */
export const CONFIG_KEYS = [
    "psk",
    "users",
    "clientPool",
    "ikev2Pool",
    "dnsServers",
    "instanceType",
    "os",
    "amiId",
    "vpcId",
    "subnetId",
    "allowedCidrs",
    "sshKeyName",
    "adminCidr",
    "tags",
    "healthCheckTimeout",
    "allowClientToClient",
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

// ---- The schema's shape. ----

/** The types Pulumi.yaml's config block knows, and object (a record or a map), which it cannot type. */
export type ConfigType = "string" | "integer" | "boolean" | "array" | "object";
export type ConfigValue = string | number | boolean | readonly string[];

/** What the validator allows of a value; each is checked against the validator by test/config/schema.test.ts. */
export interface Limits {
    /** A string's length, in characters. */
    minLength?: number;
    maxLength?: number;
    /** An integer's range. */
    minimum?: number;
    maximum?: number;
    /** A list's length. */
    minItems?: number;
    maxItems?: number;
    /** A CIDR block's prefix length. */
    prefixMin?: number;
    prefixMax?: number;
    /** The allowed values. */
    oneOf?: readonly string[];
    /** What a string must match. */
    pattern?: RegExp;
}

/** An array's items, or a map's values: a scalar, or a record of named fields (users[N]). */
export type Item = { type: "string" | "integer" | "boolean"; limits?: Limits } | { type: "object"; fields: Record<string, Field> };

/** Whether a value may be left out, and what that means: exactly one of the three. */
type Presence =
    | { default: ConfigValue; unset?: never; required?: never }
    | { unset: string; default?: never; required?: never }
    | { required: true; default?: never; unset?: never };

interface Described {
    type: ConfigType;
    /** One or two sentences for the user, in Markdown (`code`, [links](#anchor)); Pulumi.yaml gets it as plain text. */
    description: string;
    secret?: boolean;
    limits?: Limits;
    /** For arrays. */
    items?: Item;
    /** For maps: the limits of their names, and their values. */
    names?: Limits;
    values?: Item;
}

/** A key of the stack config. */
export type Entry = Described &
    Presence & {
        /** `pulumi config set` lines, shown in Pulumi.yaml for the keys it cannot type. */
        examples?: readonly string[];
    };
/** A field of a record (users[N].name, ...). */
export type Field = Described & Presence;

const md = (value: string) => `\`${value}\``;
const jsonList = (values: readonly string[]) => `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;
const list = (values: readonly string[], last = "or") =>
    values.length < 2 ? values.join("") : `${values.slice(0, -1).join(", ")} ${last} ${values[values.length - 1]}`;

/** users[N]: the fields of one user. */
export const USER_FIELDS_SCHEMA = {
    name: {
        type: "string",
        required: true,
        limits: { minLength: 1, maxLength: NAME_MAX_LENGTH },
        description:
            `Unique; ${CHAP_WORD_RULE}, at most ${NAME_MAX_LENGTH} characters. ` +
            `With the ${md("ikev2")} method it also names the user's certificate and files: ${IKEV2_NAME_RULE}.`,
    },
    password: {
        type: "string",
        secret: true,
        unset: `none (required for the ${md("l2tp")} method)`,
        limits: { maxLength: PASSWORD_MAX_LENGTH },
        description:
            `The L2TP (CHAP) password, set with ${md("--secret")}: ${CHAP_WORD_RULE}, at most ${PASSWORD_MAX_LENGTH} characters, ` +
            `not starting with ${md("@")} (pppd reads that as a file name). IKEv2 needs none.`,
    },
    ip: {
        type: "string",
        unset: "one from xl2tpd's range",
        description:
            `A static L2TP address, unique, in the lower half of ${md("clientPool")} after the gateway's own first host ` +
            `(${md(".2")} to ${md(".127")} of a /24); xl2tpd hands out the upper half to the others. Needs the ${md("l2tp")} method.`,
    },
    methods: {
        type: "array",
        items: { type: "string", limits: { oneOf: METHODS } },
        default: METHODS,
        limits: { minItems: 1 },
        description:
            `How the user connects: ${md(jsonList(METHODS))} (both), ${list(METHODS.map((m) => md(jsonList([m]))))}. ` +
            `${md("l2tp")} needs the password; ${md("ikev2")} is a certificate of the stack's own CA. ` +
            `Unset, a name IKEv2 cannot use (${IKEV2_NAME_RULE}) gets ${md("l2tp")} only.`,
    },
    revoked: {
        type: "boolean",
        default: false,
        description: `${md("true")} puts the user's certificates on the CRL and removes their L2TP login; removing the user from the list does the same.`,
    },
    reissue: {
        type: "integer",
        default: 0,
        limits: { minimum: 0, maximum: REISSUE_MAX },
        description: `A whole number up to ${REISSUE_MAX}: raise it to have new certificates issued (the old ones are revoked).`,
    },
    devices: {
        type: "array",
        items: { type: "string", limits: { maxLength: DEVICE_MAX_LENGTH, pattern: DEVICE_PATTERN } },
        limits: { minItems: 1 },
        unset: "one certificate, named as the user",
        description:
            `Device names (${DEVICE_RULE}): a certificate per device named ${md("NAME.DEVICE")} (at most ${NAME_MAX_LENGTH} characters), ` +
            "so that the devices connect at once and one can be revoked alone (removed from the list); " +
            `${md("revoked")} and ${md("reissue")} apply to every device. Needs the ${md("ikev2")} method; ` +
            "see [IKEv2 profiles](#ikev2-profiles).",
    },
} as const satisfies Record<string, Field>;
export type UserField = keyof typeof USER_FIELDS_SCHEMA;
export const USER_FIELDS = Object.keys(USER_FIELDS_SCHEMA) as UserField[];
/** users[N] as the validator's messages write it: {name, password?, ...}. */
export const USER_SHAPE = `{${USER_FIELDS.map((f) => ("required" in USER_FIELDS_SCHEMA[f] ? f : `${f}?`)).join(", ")}}`;

const POOL_LIMITS: Limits = { prefixMin: POOL_PREFIX_MIN, prefixMax: POOL_PREFIX_MAX };
const POOL_RULE = `a private IPv4 CIDR (inside ${list(PRIVATE_RANGES.map((r) => r.text))}), /${POOL_PREFIX_MIN} to /${POOL_PREFIX_MAX}`;

/** The stack config: every key of CONFIG_KEYS, and no other. */
export const SCHEMA = {
    psk: {
        type: "string",
        secret: true,
        unset: `a generated one: ${GENERATED_PSK_LENGTH} letters and digits, kept in the stack and exported as a secret`,
        limits: { minLength: PSK_MIN_LENGTH, maxLength: PSK_MAX_LENGTH },
        description:
            `The L2TP/IPsec pre-shared key: ${PSK_MIN_LENGTH} to ${PSK_MAX_LENGTH} characters, ${PSK_RULE}. ` +
            "It reaches the gateway through SSM Parameter Store (/vpn-gateway/<stack>), never its user-data.",
        examples: ["pulumi config set --secret psk '...'"],
    },
    users: {
        type: "array",
        items: { type: "object", fields: USER_FIELDS_SCHEMA },
        required: true,
        limits: { minItems: 1 },
        description:
            `The users, at least one not revoked: a list of ${USER_SHAPE} (the fields below). ` +
            "They reach the gateway through SSM Parameter Store, never its user-data: changing them updates those parameters in place, without a new instance.",
        examples: [
            "pulumi config set --path 'users[0].name' alice",
            "pulumi config set --secret --path 'users[0].password' '...'",
            "pulumi config set --path 'users[0].ip' 192.168.42.5",
            "pulumi config set --path 'users[1].methods[0]' ikev2",
            "pulumi config set --path 'users[1].devices[0]' phone",
        ],
    },
    clientPool: {
        type: "string",
        default: DEFAULTS.clientPool,
        limits: POOL_LIMITS,
        description:
            `The L2TP clients' addresses: ${POOL_RULE}, not overlapping the VPC. The gateway's PPP address is its first host, ` +
            `static addresses (users[N].ip) the rest of its lower half, and xl2tpd hands out its upper half (${md(".128")} to ${md(".254")} of a /24).`,
    },
    ikev2Pool: {
        type: "string",
        default: DEFAULTS.ikev2Pool,
        limits: POOL_LIMITS,
        description: `The IKEv2 clients' addresses: ${POOL_RULE}, apart from ${md("clientPool")} and the VPC. Its first host is kept back; clients get the others.`,
    },
    dnsServers: {
        type: "array",
        items: { type: "string" },
        default: DEFAULTS.dnsServers,
        limits: { minItems: 1, maxItems: MAX_DNS_SERVERS },
        description: `1 to ${MAX_DNS_SERVERS} IPv4 addresses of DNS servers pushed to the clients.`,
    },
    instanceType: {
        type: "string",
        default: DEFAULTS.instanceType,
        limits: { pattern: INSTANCE_TYPE_PATTERN },
        description: "Any EC2 instance type; its architecture (x86_64 or arm64) picks the image.",
    },
    os: {
        type: "string",
        default: DEFAULTS.os,
        limits: { oneOf: OS_CHOICES },
        description:
            `The image: ${md("ubuntu-24.04")} or ${md("ubuntu-26.04")}, whose first boot adds Ubuntu's extra kernel modules (where it keeps L2TP); ` +
            `or ${md("debian-12")} or ${md("debian-13")}, whose EC2 images boot Debian's cloud kernel, which has no PPP: ` +
            "the first boot installs the generic kernel and reboots into it once. " +
            `It also picks the one ${md("ipsec.conf")} line that differs between Libreswan 4.x (24.04, Debian 12: ${md("ikev2=no")}) ` +
            `and 5.x (26.04, Debian 13: ${md("keyexchange=ikev1")}; 4.x refuses that, 5.x logs the old one as replaced).`,
    },
    amiId: {
        type: "string",
        unset: `looked up for ${md("os")}`,
        limits: { pattern: AMI_ID_PATTERN },
        description: `An AMI id (${md("ami-...")}) to boot instead of the image looked up for ${md("os")}.`,
    },
    vpcId: {
        type: "string",
        unset: "the default VPC",
        limits: { pattern: VPC_ID_PATTERN },
        description: `The VPC (${md("vpc-...")}) to place the gateway in; needs ${md("subnetId")}.`,
    },
    subnetId: {
        type: "string",
        unset: "a default subnet of the default VPC",
        limits: { pattern: SUBNET_ID_PATTERN },
        description: `A public subnet (${md("subnet-...")}) for the gateway; required with ${md("vpcId")}.`,
    },
    allowedCidrs: {
        type: "array",
        items: { type: "string" },
        default: DEFAULTS.allowedCidrs,
        limits: { minItems: 1 },
        description: "IPv4 CIDRs allowed to reach the VPN ports (UDP 500, 4500 and 1701).",
    },
    sshKeyName: {
        type: "string",
        unset: "none: SSH stays closed",
        limits: { maxLength: SSH_KEY_NAME_MAX_LENGTH, pattern: SSH_KEY_NAME_PATTERN },
        description: `The EC2 key pair for SSH: its name, printable ASCII, at most ${SSH_KEY_NAME_MAX_LENGTH} characters.`,
    },
    adminCidr: {
        type: "string",
        unset: "none: SSH stays closed",
        description: `The IPv4 CIDR allowed to SSH in (TCP 22); needs ${md("sshKeyName")}.`,
    },
    tags: {
        type: "object",
        names: { minLength: 1, maxLength: TAG_NAME_MAX_LENGTH },
        values: { type: "string", limits: { maxLength: TAG_VALUE_MAX_LENGTH } },
        unset: "none",
        description:
            `Extra AWS tags for everything the program creates: a map of names (1 to ${TAG_NAME_MAX_LENGTH} characters, ` +
            `not starting with ${md(TAG_RESERVED_PREFIX)}) to values of at most ${TAG_VALUE_MAX_LENGTH} characters.`,
        examples: ["pulumi config set --path 'tags.team' network"],
    },
    healthCheckTimeout: {
        type: "integer",
        default: DEFAULTS.healthCheckTimeout,
        limits: { minimum: 0, maximum: HEALTH_CHECK_TIMEOUT_MAX },
        description:
            `Seconds (up to ${HEALTH_CHECK_TIMEOUT_MAX}) ${md("pulumi up")} waits for the gateway to answer IKE (UDP 500) from this machine before failing; ` +
            `${md("0")} skips the check (e.g. when ${md("allowedCidrs")} excludes this machine).`,
    },
    allowClientToClient: {
        type: "boolean",
        default: DEFAULTS.allowClientToClient,
        description: `${md("true")} lets VPN clients reach each other through the gateway.`,
    },
} as const satisfies Record<ConfigKey, Entry>;
