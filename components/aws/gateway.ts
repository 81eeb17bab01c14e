// The AWS side: security group, Elastic IP, the stack's SSM parameters (created by the parts that
// own them), the instance's role that reads them, and the instance that configures itself on first
// boot.
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { BOOT_ORDER, PartName, composeCloudConfig, userDataBytes } from "../boot/cloudConfig";
import { BootPart, Firewall, Ipsec, Kernel, L2tp, Ppp, Sync, Sysctl, Updates } from "../boot/parts";
import { connectionInstructions } from "./instructions";
import { Ikev2 } from "./pki";
import { Placement } from "./network";
import { ProbeResult } from "../health/ikeProbe";
import { Settings } from "../config/settings";

/** How the deployer's machine runs the project's IKE probe (cli/probe.ts). */
export function probeCommand(publicIp: string, timeoutSeconds: number): string {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const register = require.resolve("ts-node/register/transpile-only");
    const script = path.join(__dirname, "..", "..", "cli", "probe.ts");
    return [process.execPath, "-r", register, script, "--host", publicIp, "--timeout", String(timeoutSeconds)].map(quote).join(" ");
}

/** The probe's one JSON line; a verdict even when the output is not what was expected. */
export function parseProbeOutput(stdout: string | undefined): ProbeResult {
    // Never throw here: an exception inside an apply stalls the whole deployment instead of failing it.
    if (typeof stdout !== "string") return { ready: false, seconds: -1, attempts: 0, detail: "the probe printed nothing" };
    try {
        const result = JSON.parse(stdout.trim().split("\n").pop() ?? "");
        if (typeof result.ready === "boolean" && typeof result.seconds === "number") return result;
    } catch {
        // fall through
    }
    return { ready: false, seconds: -1, attempts: 0, detail: `unreadable probe output: ${stdout.slice(0, 200)}` };
}

/**
 * The instance role's policy: read the stack's parameters and nothing else. GetParametersByPath is
 * authorized against the path asked for, not the parameters it returns: PATH (what the sync lists)
 * and PATH/* (any path below it). GetParameters (the values: the sync's changed parameters, the
 * installer's program) against each name, all under PATH. No kms:Decrypt: the parameters are
 * encrypted with the account's AWS-managed aws/ssm key, whose key policy lets every principal of
 * the account decrypt through SSM (a customer-managed key would need it, on the key's ARN).
 */
export function parameterReadPolicy(arnPrefix: string, parameterPath: string): object {
    const path = `${arnPrefix}:parameter${parameterPath}`;
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "ListTheStacksParameters", Effect: "Allow", Action: "ssm:GetParametersByPath", Resource: [path, `${path}/*`] },
            { Sid: "ReadTheStacksParameters", Effect: "Allow", Action: "ssm:GetParameters", Resource: `${path}/*` },
        ],
    };
}

export interface VpnGatewayArgs {
    settings: Settings;
    placement: Placement;
    /** The stack's parameter path, /vpn-gateway/<stack> (boot/parameters.ts parameterPath). */
    parameterPath: string;
    /** The IKEv2 CA's name, `vpn-gateway <stack> CA` (pki.ts stackCaName): fixed for the stack's life. */
    caName: string;
}

export class VpnGateway extends pulumi.ComponentResource {
    readonly publicIp: pulumi.Output<string>;
    readonly psk: pulumi.Output<string>;
    readonly userNames: string[];
    /** Where the stack's parameters are: /vpn-gateway/<stack>. */
    readonly parameterPath: string;
    readonly userData: pulumi.Output<string>;
    readonly instanceId: pulumi.Output<string>;
    readonly securityGroupId: pulumi.Output<string>;
    readonly connectionInstructions: pulumi.Output<string>;
    /** The IKEv2 CA's state (PkiState JSON, every key): secret, read by `npm run client`. */
    readonly pki: pulumi.Output<string>;
    /** The deploy-time health verdict, when the check is on. */
    readonly health?: pulumi.Output<ProbeResult>;

    constructor(name: string, args: VpnGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:index:VpnGateway", name, {}, opts);
        const { settings, placement, parameterPath } = args;
        const tags = { Name: name, ...settings.tags };
        this.parameterPath = parameterPath;

        const vpnPorts = [
            { port: 500, description: "IKE" },
            { port: 4500, description: "IKE and ESP over UDP (NAT-T)" },
            { port: 1701, description: "L2TP (the instance accepts it only inside IPsec)" },
        ];
        const securityGroup = new aws.ec2.SecurityGroup(
            name,
            {
                vpcId: placement.vpcId,
                description: "L2TP/IPsec VPN gateway",
                ingress: [
                    ...vpnPorts.map(({ port, description }) => ({
                        protocol: "udp",
                        fromPort: port,
                        toPort: port,
                        cidrBlocks: settings.allowedCidrs,
                        description,
                    })),
                    ...(settings.adminCidr
                        ? [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: [settings.adminCidr], description: "SSH from the admin CIDR" }]
                        : []),
                ],
                egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "updates, DNS and clients' traffic" }],
                tags,
            },
            { parent: this },
        );

        // Allocated before the instance so the user-data can carry the address clients dial.
        const eip = new aws.ec2.Eip(name, { domain: "vpc", tags }, { parent: this });

        // The first boot, part by part, each a child in the resource tree with the settings it
        // renders from. Named like the gateway, as its AWS resources are (the type tells them
        // apart): the IPsec part's generated PSK keeps its name. The IPsec part owns the PSK and
        // its parameter, the PPP part the users' parameters, the Sync part the program's.
        const child = { parent: this };
        const { clientPool } = settings;
        const parameters = { parameterPath, tags };
        const ipsec = new Ipsec(name, { clientPool, ikev2: settings.ikev2, dnsServers: settings.dnsServers, os: settings.os, psk: settings.psk, publicIp: eip.publicIp, ...parameters }, child);
        const ppp = new Ppp(name, { users: settings.users, dnsServers: settings.dnsServers, ...parameters }, child);
        const sync = new Sync(name, { region: placement.region, clientPool, ...parameters }, child);
        // Not a boot part: the IKEv2 users and their CA reach the gateway through parameters only.
        const ikev2 = new Ikev2(name, { caName: args.caName, address: eip.publicIp, users: settings.ikev2.users, ...parameters }, child);
        this.pki = ikev2.state;
        const parts: Record<PartName, BootPart> = {
            kernel: new Kernel(name, {}, child),
            sysctl: new Sysctl(name, {}, child),
            firewall: new Firewall(name, { clientPool, ikev2: settings.ikev2, adminCidr: settings.adminCidr, allowClientToClient: settings.allowClientToClient }, child),
            ipsec,
            l2tp: new L2tp(name, { clientPool }, child),
            ppp,
            sync,
            updates: new Updates(name, {}, child),
        };
        this.psk = ipsec.psk;
        this.userNames = ppp.userNames;
        // Composed in the order and by the composer that npm run render uses: the same bytes. No
        // secret in it (the PSK and the passwords are in the parameters), so not marked secret:
        // a preview shows what changes on the instance.
        this.userData = pulumi
            .all(BOOT_ORDER.map((part) => parts[part].part))
            .apply((components) => userDataBytes(composeCloudConfig(components)).toString("base64"));

        // The instance's identity: it may read the stack's parameters, nothing else.
        const role = new aws.iam.Role(
            name,
            {
                description: `VPN gateway ${name}: reads its users and PSK from SSM Parameter Store (${parameterPath})`,
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
                }),
                tags,
            },
            { parent: this },
        );
        const policy = new aws.iam.RolePolicy(
            name,
            { role: role.id, policy: JSON.stringify(parameterReadPolicy(`arn:${placement.partition}:ssm:${placement.region}:${placement.accountId}`, parameterPath)) },
            { parent: this },
        );
        const profile = new aws.iam.InstanceProfile(name, { role: role.name, tags }, { parent: this });

        const instance = new aws.ec2.Instance(
            name,
            {
                ami: placement.amiId,
                instanceType: settings.instanceType,
                subnetId: placement.subnetId,
                vpcSecurityGroupIds: [securityGroup.id],
                keyName: settings.sshKeyName,
                iamInstanceProfile: profile.name,
                // Reach the package mirrors on first boot even before the Elastic IP is associated.
                associatePublicIpAddress: true,
                userDataBase64: this.userData,
                // First-boot configuration runs once: a changed user-data (a new release of this
                // program) needs a new instance to apply. Users and the PSK never change it.
                userDataReplaceOnChange: true,
                metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
                rootBlockDevice: { encrypted: true, volumeType: "gp3", deleteOnTermination: true },
                volumeTags: tags,
                tags,
            },
            // The first boot reads the parameters with the role's policy: both exist before it.
            {
                parent: this,
                // ikev2.parameters is an Output (made once the CA's state is known): dependsOn takes one.
                dependsOn: pulumi.output(ikev2.parameters).apply((ikev2Parameters) => [policy, ...ipsec.parameters, ...ppp.parameters, ...sync.parameters, ...ikev2Parameters]),
            },
        );

        const association = new aws.ec2.EipAssociation(name, { allocationId: eip.allocationId, instanceId: instance.id }, { parent: this });

        // The address is only the gateway's once the association exists.
        this.publicIp = pulumi.all([eip.publicIp, association.id]).apply(([ip]) => ip);
        this.instanceId = instance.id;
        this.securityGroupId = securityGroup.id;
        const ikev2Names = settings.ikev2.users.filter((u) => !u.revoked).map((u) => u.name);
        this.connectionInstructions = this.publicIp.apply((ip) => connectionInstructions(ip, this.userNames, ikev2Names));

        if (settings.healthCheckTimeout > 0) {
            // Proof from the deployer's side that the gateway is up: its IKE port answers through the
            // Elastic IP and the security group. A timeout fails the update with what the probe saw.
            const check = new command.local.Command(
                `${name}-health`,
                {
                    create: this.publicIp.apply((ip) => probeCommand(ip, settings.healthCheckTimeout)),
                    // Probe again whenever the instance or its address changes.
                    triggers: [instance.id, association.id],
                },
                { parent: this, dependsOn: [association] },
            );
            this.health = check.stdout.apply(parseProbeOutput);
        }

        this.registerOutputs({
            publicIp: this.publicIp,
            psk: this.psk,
            userNames: this.userNames,
            parameterPath: this.parameterPath,
            instanceId: this.instanceId,
            connectionInstructions: this.connectionInstructions,
            pki: this.pki,
            health: this.health,
        });
    }
}
