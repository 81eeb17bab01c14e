// The first-boot parts as Pulumi component resources: one per part, each a child of VpnGateway in
// the resource tree, owning what its daemon needs (the IPsec part the PSK and its SSM parameter,
// the PPP part the users' parameters, the Sync part the sync program's) and exposing the part
// (packages, files, commands, services) that the composer turns into the user-data. Each wraps
// its pure renderer, which stays testable without Pulumi; the renderers, the parameter layout and
// the composer do not import this file, so `npm run render` never loads Pulumi.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { GENERATED_PSK_LENGTH, VpnUser } from "../config/settings";
import { BootComponent } from "./bootFile";
import { FirewallInput, firewall } from "./firewall";
import { IpsecInput, ipsec } from "./ipsec";
import { kernel } from "./kernel";
import { L2tpInput, l2tp } from "./l2tp";
import { pskParameter, usersParameters } from "./parameters";
import { ppp } from "./ppp";
import { SyncInput, programParameters, sync } from "./sync";
import { sysctl } from "./sysctl";
import { updates } from "./updates";

/** What every part exposes to the composer. */
export abstract class BootPart extends pulumi.ComponentResource {
    /** The part as composeCloudConfig takes it. Never a secret: the secrets are in SSM parameters. */
    abstract readonly part: pulumi.Output<BootComponent>;
}

/** Where a part's SSM parameters go, and their tags. */
export interface ParameterArgs {
    /** The stack's parameter path, /vpn-gateway/<stack> (parameters.ts parameterPath). */
    parameterPath: string;
    /** Tags for the parameters (the gateway's: Name and the stack's tags). */
    tags?: Record<string, string>;
}

/**
 * One SSM parameter of the stack: SecureString (encrypted with the account's aws/ssm key), standard
 * tier (no charge, at most 4096 characters, which the layout guarantees), its value as given (a
 * secret stays one in state and previews). A new value is an in-place update (PutParameter).
 */
export function ssmParameter(resourceName: string, name: string, value: pulumi.Input<string>, args: ParameterArgs, parent: pulumi.Resource): aws.ssm.Parameter {
    return new aws.ssm.Parameter(resourceName, { name, type: "SecureString", tier: "Standard", value, tags: args.tags }, { parent });
}

/** The kernel part depends on no setting: it adapts to the image it boots, at boot. */
export type KernelArgs = Record<string, never>;

/** The kernel modules L2TP/IPsec needs: loaded at every boot, checked first on the first boot. */
export class Kernel extends BootPart {
    readonly part: pulumi.Output<BootComponent>;

    constructor(name: string, _args: KernelArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:Kernel", name, {}, opts);
        this.part = pulumi.output(kernel());
        this.registerOutputs({ part: this.part });
    }
}

/** The sysctl part depends on no setting: forwarding on, redirects and reverse-path filtering off. */
export type SysctlArgs = Record<string, never>;

/** Kernel parameters for a router of decapsulated traffic. */
export class Sysctl extends BootPart {
    readonly part: pulumi.Output<BootComponent>;

    constructor(name: string, _args: SysctlArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:Sysctl", name, {}, opts);
        this.part = pulumi.output(sysctl());
        this.registerOutputs({ part: this.part });
    }
}

/**
 * The firewall part's settings, as validated: clientPool, adminCidr, allowClientToClient, each
 * documented where the renderer declares it (FirewallInput).
 */
export type FirewallArgs = FirewallInput;

/** Firewall and NAT: default-deny, IKE/NAT-T in, L2TP only inside IPsec, the pool masqueraded. */
export class Firewall extends BootPart {
    readonly part: pulumi.Output<BootComponent>;

    constructor(name: string, args: FirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:Firewall", name, {}, opts);
        this.part = pulumi.output(firewall(args));
        this.registerOutputs({ part: this.part });
    }
}

/** The IPsec part's settings and deploy-time values. */
export interface IpsecArgs extends ParameterArgs, Pick<IpsecInput, "clientPool" | "ikev2" | "dnsServers" | "os"> {
    /**
     * The PSK from the stack config. Absent, the part generates one (a RandomPassword, its child)
     * that lives in the stack's state and so stays the same across updates.
     */
    psk?: pulumi.Input<string>;
    /** The Elastic IP clients dial. Absent, the gateway asks the metadata service at boot. */
    publicIp?: pulumi.Input<string>;
}

/**
 * IPsec: Libreswan answering IKEv1 PSK in transport mode for L2TP, with NAT-T. Owns the PSK and
 * its parameter, PATH/psk, from which vpn-gateway-sync writes /etc/ipsec.secrets.
 */
export class Ipsec extends BootPart {
    readonly part: pulumi.Output<BootComponent>;
    /** The PSK clients type, always secret. */
    readonly psk: pulumi.Output<string>;
    /** PATH/psk. */
    readonly parameters: aws.ssm.Parameter[];

    /**
     * A generated PSK is named `${name}-psk`: VpnGateway names the part like itself, so the PSK
     * keeps the name it had as the gateway's own child.
     */
    constructor(name: string, args: IpsecArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:Ipsec", name, {}, opts);
        this.psk = pulumi.secret(
            args.psk ??
                new random.RandomPassword(
                    `${name}-psk`,
                    // Letters and digits only: typed on phones, and safe in every client's PSK field.
                    { length: GENERATED_PSK_LENGTH, special: false },
                    {
                        parent: this,
                        // It was VpnGateway's own child before this part existed: the alias names that
                        // place, so an existing stack keeps its PSK rather than getting a new one.
                        aliases: opts?.parent ? [{ parent: opts.parent }] : [],
                    },
                ).result,
        );
        const { clientPool, ikev2, dnsServers, os } = args;
        this.part = pulumi.output(args.publicIp).apply((publicIp) => ipsec({ clientPool, ikev2, dnsServers, os, publicIp }));
        const parameter = pskParameter(args.parameterPath, "");
        this.parameters = [ssmParameter(`${name}-psk-parameter`, parameter.name, this.psk, args, this)];
        this.registerOutputs({ part: this.part, psk: this.psk });
    }
}

/** The L2TP part's setting, as validated: clientPool, documented where the renderer declares it (L2tpInput). */
export type L2tpArgs = L2tpInput;

/** L2TP: xl2tpd as the LNS, handing each client a pool address and pppd the CHAP exchange. */
export class L2tp extends BootPart {
    readonly part: pulumi.Output<BootComponent>;

    constructor(name: string, args: L2tpArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:L2tp", name, {}, opts);
        this.part = pulumi.output(l2tp(args));
        this.registerOutputs({ part: this.part });
    }
}

/** The PPP part's settings. */
export interface PppArgs extends ParameterArgs {
    /**
     * The users as validated, passwords in plain: the layout of their parameters (which user in
     * which, where a full one splits) is computed here, and every value handed to AWS is a secret.
     */
    users: VpnUser[];
    /** The DNS servers pppd pushes to clients (one or two). */
    dnsServers: string[];
}

/**
 * PPP: pppd's options for L2TP sessions and its session hooks. Owns the users: their parameters,
 * PATH/users/<bucket>, from which vpn-gateway-sync writes /etc/ppp/chap-secrets.
 */
export class Ppp extends BootPart {
    readonly part: pulumi.Output<BootComponent>;
    /** The users' names, for instructions and outputs (never their passwords). */
    readonly userNames: string[];
    /** PATH/users/<bucket>, one per bucket that holds a user (parameters.ts). */
    readonly parameters: aws.ssm.Parameter[];

    constructor(name: string, args: PppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:Ppp", name, {}, opts);
        const { users, dnsServers } = args;
        this.userNames = users.map((u) => u.name);
        this.part = pulumi.output(ppp({ dnsServers }));
        const prefix = `${args.parameterPath}/`;
        this.parameters = usersParameters(args.parameterPath, users).map((p) =>
            // users/3f -> <name>-users-3f: the resource follows its parameter, which follows the names in it.
            ssmParameter(`${name}-${p.name.slice(prefix.length).replace(/\//g, "-")}`, p.name, pulumi.secret(p.value), args, this),
        );
        this.registerOutputs({ part: this.part, userNames: this.userNames });
    }
}

/** The Sync part's settings: the region, the parameter path and the client pool (SyncInput), and the parameters' tags. */
export interface SyncArgs extends SyncInput, ParameterArgs {}

/**
 * Sync: vpn-gateway-sync keeps the gateway's users and PSK in step with the stack's parameters,
 * every 30 seconds, ending only the sessions of removed users or changed passwords. Owns the
 * program's parameters, PATH/program/N (it does not fit the user-data; nothing secret in them).
 */
export class Sync extends BootPart {
    readonly part: pulumi.Output<BootComponent>;
    /** PATH/program/1 to N. */
    readonly parameters: aws.ssm.Parameter[];

    constructor(name: string, args: SyncArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:Sync", name, {}, opts);
        const { region, parameterPath, clientPool } = args;
        this.part = pulumi.output(sync({ region, parameterPath, clientPool }));
        this.parameters = programParameters(parameterPath).map((p, i) => ssmParameter(`${name}-program-${i + 1}`, p.name, p.value, args, this));
        this.registerOutputs({ part: this.part });
    }
}

/** The updates part depends on no setting: the maintenance window is the project's. */
export type UpdatesArgs = Record<string, never>;

/** Unattended security upgrades in a fixed maintenance window, no automatic reboot. */
export class Updates extends BootPart {
    readonly part: pulumi.Output<BootComponent>;

    constructor(name: string, _args: UpdatesArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:Updates", name, {}, opts);
        this.part = pulumi.output(updates());
        this.registerOutputs({ part: this.part });
    }
}
