// VpnGatewayArgs: what a program hands the component, field for field the stack config's keys (the
// stack program passes its config through unchanged). Validation is the stack config's
// (settings.ts parseSettings), so a component and a stack get the same rules and messages; only
// the names differ (`users[0].name` here, `vpn-gateway:users[0].name` in a stack's config).
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, Method, OsChoice, RawConfig, STACK_CONFIG_PREFIX, Settings, parseSettings, PSK_MAX_LENGTH } from "./settings";

/** One user of the gateway: an L2TP login (name and password) and/or IKEv2 certificates. */
export interface VpnGatewayUser {
    /** The login name and the certificate's name: printable ASCII, no whitespace, quotes, backslash, `#` or `*`, at most 64 characters. */
    name: string;
    /** The L2TP password (required with the `l2tp` method): the same characters as a name, not starting with `@`, at most 128. */
    password?: string;
    /** A static L2TP address from the lower half of `clientPool` (after the gateway's own first host). */
    ip?: string;
    /** How the user connects: `["l2tp", "ikev2"]` when unset. */
    methods?: Method[];
    /** Revokes the user's certificates (on the CRL) and removes the L2TP login. */
    revoked?: boolean;
    /** Raise it to have new certificates issued; the old ones are revoked. */
    reissue?: number;
    /** One IKEv2 certificate per device, named `NAME.DEVICE`: letters, digits, `-`, `_`, at most 32 characters each. */
    devices?: string[];
}

/** The arguments of VpnGateway. Everything but `users` has a default. */
export interface VpnGatewayArgs {
    /** The users: at least one. Plain, not an Input: each user's bucket shapes the SSM parameters. */
    users: VpnGatewayUser[];
    /**
     * The IPsec pre-shared key of L2TP clients: printable ASCII without whitespace, quotes or
     * backslash, 12 to 128 characters. Unset, a 32-character one is generated and kept in the
     * stack's state (output `psk`). Stored as a secret in SSM, never in the user-data.
     */
    psk?: pulumi.Input<string>;
    /** The L2TP clients' addresses: a private IPv4 block from /16 to /29, apart from the VPC. Default `192.168.42.0/24`. */
    clientPool?: string;
    /** The IKEv2 clients' addresses: like `clientPool`, apart from it and from the VPC. Default `192.168.43.0/24`. */
    ikev2Pool?: string;
    /** One or two IPv4 DNS servers pushed to clients. Default `["8.8.8.8", "8.8.4.4"]`. */
    dnsServers?: string[];
    /** The EC2 instance type (its architecture picks the image). Default `t3.micro`. */
    instanceType?: string;
    /** The image: `ubuntu-24.04` (default), `ubuntu-26.04`, `debian-12` or `debian-13`, looked up in the region. */
    os?: OsChoice;
    /** An AMI id to use instead of the looked-up image (it must be one of the `os` choices' releases). */
    amiId?: string;
    /** The VPC; with it, `subnetId` is required. Default: the region's default VPC. */
    vpcId?: string;
    /** A public subnet for the instance. Default: the first default subnet of the default VPC. */
    subnetId?: string;
    /** Who may reach the VPN ports (UDP 500, 4500, 1701): IPv4 CIDR blocks. Default `["0.0.0.0/0"]`. */
    allowedCidrs?: string[];
    /** An EC2 key pair's name for SSH (with `adminCidr`). Default: none, no SSH. */
    sshKeyName?: pulumi.Input<string>;
    /** The one IPv4 block SSH (TCP 22) is open to; needs `sshKeyName`. Default: SSH closed. */
    adminCidr?: string;
    /** Tags for every resource that takes them (beside `Name`). */
    tags?: Record<string, string>;
    /** Seconds `pulumi up` waits for the gateway to answer IKE from the deploying machine; 0 skips the check. Default 900, at most 3600. */
    healthCheckTimeout?: number;
    /** Whether clients may reach each other through the gateway. Default `false`. */
    allowClientToClient?: boolean;
    /**
     * Where the gateway's SSM parameters live (`PATH/psk`, `PATH/users/..`, `PATH/ikev2/N`,
     * `PATH/program/N`); its role reads nothing else. Default `/vpn-gateway/<stack>/<name>`, so
     * that two gateways of one stack never share one. The stack program keeps `/vpn-gateway/<stack>`.
     */
    parameterPath?: string;
    /** The IKEv2 CA's common name; names a new CA only. Default `vpn-gateway <stack> <name> CA`. */
    caName?: string;
    /**
     * How error messages name a setting: unset, by this interface's field (`users[0].name`); the
     * stack program sets `vpn-gateway` so that they name its config keys (`vpn-gateway:users[0].name`).
     */
    configNamespace?: string;
}

/** The fields that are not settings of the gateway's own (they place it, or name its problems). */
const COMPONENT_FIELDS = ["parameterPath", "caName", "configNamespace"] as const;

/** How a component's problems are named: by field, or by the stack config's key. */
export function argsPrefix(args: Pick<VpnGatewayArgs, "configNamespace">): string {
    return args.configNamespace === undefined ? "" : `${args.configNamespace}:`;
}

/** The heading of a component's ConfigError. */
export function argsHeading(name: string, args: Pick<VpnGatewayArgs, "configNamespace">): string | undefined {
    return argsPrefix(args) === STACK_CONFIG_PREFIX ? undefined : `VpnGateway ${JSON.stringify(name)}: invalid arguments`;
}

/**
 * The args as the stack config would hold them (strings, structured values as JSON), for the one
 * validator. An Input that is not yet known (an Output) is left out here and checked when it is
 * (VpnGateway); the PSK stands in with a value of its longest length for the size checks.
 */
export function rawConfigFromArgs(args: VpnGatewayArgs): RawConfig {
    const raw: RawConfig = {};
    for (const [k, v] of Object.entries(args)) {
        if ((COMPONENT_FIELDS as readonly string[]).includes(k) || v === undefined) continue;
        if (pulumi.Output.isInstance(v) || v instanceof Promise) {
            // Known at deploy time: a key pair's name satisfies adminCidr's need for one now.
            if (k === "sshKeyName") raw[k] = "key-pair-known-at-deploy-time";
            continue;
        }
        raw[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return raw;
}

/**
 * Validates the args with the stack config's rules: every problem at once, each naming its field.
 * An unknown field (a typo in JavaScript) is refused like an unknown config key.
 */
export function settingsFromArgs(name: string, args: VpnGatewayArgs): Settings {
    if (args === null || typeof args !== "object")
        throw new ConfigError([`expected an object of VpnGatewayArgs, got ${JSON.stringify(args)}`], argsHeading(name, {}));
    const prefix = argsPrefix(args);
    const settings = parseSettings(rawConfigFromArgs(args), prefix, argsHeading(name, args));
    // An Input known only later: it flows into its resource as it is (the provider checks it).
    if (pulumi.Output.isInstance(args.sshKeyName) || args.sshKeyName instanceof Promise) return { ...settings, sshKeyName: undefined };
    return settings;
}

/** The PSK's longest allowed value: what an unknown PSK is sized as. */
export const WIDEST_PSK = "x".repeat(PSK_MAX_LENGTH);
