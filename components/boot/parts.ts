// The first-boot parts as Pulumi component resources: one per part, each a child of VpnGateway in
// the resource tree, owning what its daemon needs (the IPsec part the PSK, the PPP part the users)
// and exposing the part (packages, files, commands, services) that the composer turns into the
// user-data. Each wraps its pure renderer, which stays testable without Pulumi; the renderers and
// the composer do not import this file, so `npm run render` never loads Pulumi.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ClientPool, GENERATED_PSK_LENGTH, OsChoice } from "../config/settings";
import { BootComponent } from "./bootFile";
import { FirewallInput, firewall } from "./firewall";
import { ipsec } from "./ipsec";
import { kernel } from "./kernel";
import { L2tpInput, l2tp } from "./l2tp";
import { ppp } from "./ppp";
import { sysctl } from "./sysctl";
import { updates } from "./updates";

/** What every part exposes to the composer. */
export abstract class BootPart extends pulumi.ComponentResource {
    /**
     * The part as composeCloudConfig takes it. Secret when its files carry a secret (the IPsec
     * part's PSK, the PPP part's passwords), so state and previews keep them encrypted.
     */
    abstract readonly part: pulumi.Output<BootComponent>;
}

/** The kernel part depends on no setting: it adapts to the image it boots, at boot. */
export interface KernelArgs {}

/** The kernel modules L2TP/IPsec needs: loaded at every boot, checked first on the first boot. */
export class Kernel extends BootPart {
    readonly part: pulumi.Output<BootComponent>;

    constructor(name: string, args: KernelArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:Kernel", name, {}, opts);
        this.part = pulumi.output(kernel());
        this.registerOutputs({ part: this.part });
    }
}

/** The sysctl part depends on no setting: forwarding on, redirects and reverse-path filtering off. */
export interface SysctlArgs {}

/** Kernel parameters for a router of decapsulated traffic. */
export class Sysctl extends BootPart {
    readonly part: pulumi.Output<BootComponent>;

    constructor(name: string, args: SysctlArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:Sysctl", name, {}, opts);
        this.part = pulumi.output(sysctl());
        this.registerOutputs({ part: this.part });
    }
}

/**
 * The firewall part's settings, as validated: clientPool, adminCidr, allowClientToClient, each
 * documented where the renderer declares it (FirewallInput).
 */
export interface FirewallArgs extends FirewallInput {}

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
export interface IpsecArgs {
    /** The client pool, left out of virtual-private so that no client's NAT address can clash with it. */
    clientPool: ClientPool;
    /** The os the gateway boots: it picks the IKEv1-only line its Libreswan takes. */
    os: OsChoice;
    /**
     * The PSK from the stack config. Absent, the part generates one (a RandomPassword, its child)
     * that lives in the stack's state and so stays the same across updates.
     */
    psk?: pulumi.Input<string>;
    /** The Elastic IP clients dial. Absent, the gateway asks the metadata service at boot. */
    publicIp?: pulumi.Input<string>;
}

/** IPsec: Libreswan answering IKEv1 PSK in transport mode for L2TP, with NAT-T. Owns the PSK. */
export class Ipsec extends BootPart {
    readonly part: pulumi.Output<BootComponent>;
    /** The PSK clients type, always secret. */
    readonly psk: pulumi.Output<string>;

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
        const { clientPool, os } = args;
        this.part = pulumi.secret(
            pulumi.all([this.psk, args.publicIp]).apply(([psk, publicIp]) => ipsec({ clientPool, os, psk, publicIp })),
        );
        this.registerOutputs({ part: this.part, psk: this.psk });
    }
}

/** The L2TP part's setting, as validated: clientPool, documented where the renderer declares it (L2tpInput). */
export interface L2tpArgs extends L2tpInput {}

/** L2TP: xl2tpd as the LNS, handing each client a pool address and pppd the CHAP exchange. */
export class L2tp extends BootPart {
    readonly part: pulumi.Output<BootComponent>;

    constructor(name: string, args: L2tpArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:L2tp", name, {}, opts);
        this.part = pulumi.output(l2tp(args));
        this.registerOutputs({ part: this.part });
    }
}

/** A VPN user as the PPP part takes it: the password an Input, so a secret one stays secret. */
export interface PppUser {
    /** The CHAP name, validated for chap-secrets. */
    name: string;
    /** The CHAP password, validated for chap-secrets. */
    password: pulumi.Input<string>;
    /** A static address in the client pool; absent, one from the dynamic ranges. */
    ip?: string;
}

/** The PPP part's settings. */
export interface PppArgs {
    /** The users, one chap-secrets line each. */
    users: PppUser[];
    /** The DNS servers pppd pushes to clients (one or two). */
    dnsServers: string[];
}

/** PPP: pppd's options for L2TP sessions and the users' CHAP secrets. Owns the users. */
export class Ppp extends BootPart {
    readonly part: pulumi.Output<BootComponent>;
    /** The users' names, for instructions and outputs (never their passwords). */
    readonly userNames: string[];

    constructor(name: string, args: PppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:Ppp", name, {}, opts);
        const { users, dnsServers } = args;
        this.userNames = users.map((u) => u.name);
        // chap-secrets carries the passwords: the part is secret even when they came in plain.
        this.part = pulumi.secret(
            pulumi
                .all(users.map((u) => u.password))
                .apply((passwords) => ppp({ users: users.map((u, i) => ({ ...u, password: passwords[i] })), dnsServers })),
        );
        this.registerOutputs({ part: this.part, userNames: this.userNames });
    }
}

/** The updates part depends on no setting: the maintenance window is the project's. */
export interface UpdatesArgs {}

/** Unattended security upgrades in a fixed maintenance window, no automatic reboot. */
export class Updates extends BootPart {
    readonly part: pulumi.Output<BootComponent>;

    constructor(name: string, args: UpdatesArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:boot:Updates", name, {}, opts);
        this.part = pulumi.output(updates());
        this.registerOutputs({ part: this.part });
    }
}
