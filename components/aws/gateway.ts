// VpnGateway, the component: validated args -> look-ups (region, VPC, subnet, image) -> the
// first-boot parts -> security group, Elastic IP, the SSM parameters (created by the parts that
// own them), the instance's role that reads them, and the instance that configures itself on first
// boot. Nothing is created until the args and the look-ups have passed every check.
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { BOOT_ORDER, PartName, cloudConfig, composeCloudConfig, gatewayParameters, userDataBytes } from "../boot/cloudConfig";
import { PARAMETER_ROOT, gatewayNameProblems } from "../boot/parameters";
import { VpnGatewayArgs, WIDEST_PSK, argsHeading, argsPrefix, settingsFromArgs } from "../config/args";
import { ConfigError, Settings, checkPoolAgainstVpc, pskProblems } from "../config/settings";
import { BootPart, Firewall, Ipsec, Kernel, L2tp, Ppp, Sync, Sysctl, Updates } from "../boot/parts";
import { connectionInstructions } from "./instructions";
import { Ikev2 } from "./pki";
import { findPlacement } from "./network";
import { ProbeResult } from "../health/ikeProbe";

/**
 * How the deployer's machine runs the project's IKE probe: the compiled cli/probe.js beside this
 * module's own compiled file (an installed package, or `npm run build`), or cli/probe.ts through
 * ts-node when this module itself runs from source.
 */
export function probeCommand(publicIp: string, timeoutSeconds: number): string {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const fromSource = path.extname(__filename) === ".ts";
    const script = path.join(__dirname, "..", "..", "cli", fromSource ? "probe.ts" : "probe.js");
    const runner = fromSource ? [process.execPath, "-r", require.resolve("ts-node/register/transpile-only")] : [process.execPath];
    return [...runner, script, "--host", publicIp, "--timeout", String(timeoutSeconds)].map(quote).join(" ");
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

export type { VpnGatewayArgs, VpnGatewayUser } from "../config/args";

/** The component's type token: the package's name, its index module, the class. */
export const VPN_GATEWAY_TYPE = "vpn-gateway:index:VpnGateway";

/** A region name longer than any AWS has: the size check's stand-in for the one looked up later. */
const WIDEST_REGION = "xx-xxxxxxxxxxxxxxxxxxxxxxx-99";

/** The default parameter path of a gateway: one per stack and component name. */
export function defaultParameterPath(stack: string, name: string): string {
    return `${PARAMETER_ROOT}/${stack}/${name}`;
}

/** The default CA name of a gateway. */
export function defaultCaName(stack: string, name: string): string {
    return `vpn-gateway ${stack} ${name} CA`;
}

/** What initialize receives: the checked settings and where the gateway's parameters go. */
interface GatewayPlan {
    settings: Settings;
    args: VpnGatewayArgs;
    parameterPath: string;
    caName: string;
    prefix: string;
    heading?: string;
}

/** The plan of the VpnGateway whose constructor is running (see its constructor). */
let planBeingConstructed: GatewayPlan | undefined;

/** What initialize makes, which the constructor's outputs read. */
interface GatewayData {
    publicIp: pulumi.Output<string>;
    psk: pulumi.Output<string>;
    userData: pulumi.Output<string>;
    instanceId: pulumi.Output<string>;
    securityGroupId: pulumi.Output<string>;
    connectionInstructions: pulumi.Output<string>;
    pki: pulumi.Output<string>;
    health?: pulumi.Output<ProbeResult>;
}

/**
 * Checks the args as a whole before anything exists: the settings (every problem at once, each
 * naming its field), the name and parameter path, and the sizes with the widest values known only
 * later (the user-data within EC2's limit, the parameters within SSM's).
 */
function plan(name: string, args: VpnGatewayArgs): GatewayPlan {
    const prefix = argsPrefix(args ?? {});
    const heading = argsHeading(name, args ?? {});
    const settings = settingsFromArgs(name, args);
    const stack = pulumi.getStack();
    const parameterPath = args.parameterPath ?? defaultParameterPath(stack, name);
    const problems = gatewayNameProblems(name, parameterPath, `${prefix}parameterPath`);
    if (problems.length > 0) throw new ConfigError(problems, heading);
    userDataBytes(cloudConfig({ settings, region: WIDEST_REGION, parameterPath, publicIp: "255.255.255.255" }));
    gatewayParameters({ parameterPath, psk: settings.psk ?? WIDEST_PSK, users: settings.users });
    return { settings, args, parameterPath, caName: args.caName ?? defaultCaName(stack, name), prefix, ...(heading ? { heading } : {}) };
}

/**
 * An L2TP/IPsec and IKEv2 VPN gateway on one EC2 instance: a security group (UDP 500, 4500,
 * 1701), an Elastic IP, the users, PSK and IKEv2 material in SSM Parameter Store under
 * `parameterPath`, a role that reads only those, and an instance that configures itself on first
 * boot and follows the parameters from then on. Several may live in one program: each has its
 * own parameter path, CA and role.
 *
 * The args are validated when the gateway is constructed (a ConfigError listing every problem,
 * each naming its field); the region, VPC, subnet and image are looked up before any child
 * resource is created, and a problem found there fails the deployment before anything exists.
 */
export class VpnGateway extends pulumi.ComponentResource<GatewayData> {
    /** The Elastic IP clients dial, once associated with the instance. */
    readonly publicIp: pulumi.Output<string>;
    /** The PSK L2TP clients type (given or generated): secret. */
    readonly psk: pulumi.Output<string>;
    /** The L2TP users' names. */
    readonly userNames: string[];
    /** Where the gateway's parameters are (its role reads nothing else). */
    readonly parameterPath: string;
    /** The user-data (base64), the same bytes `npm run render` writes; no secret in it. */
    readonly userData: pulumi.Output<string>;
    readonly instanceId: pulumi.Output<string>;
    readonly securityGroupId: pulumi.Output<string>;
    /** Step-by-step client set-up for the gateway's address and users. */
    readonly connectionInstructions: pulumi.Output<string>;
    /** The IKEv2 CA's state (PkiState JSON, every key): secret, read by `npm run client`. */
    readonly pki: pulumi.Output<string>;
    /** The deploy-time health verdict, when `healthCheckTimeout` is not 0. */
    readonly health?: pulumi.Output<ProbeResult>;

    constructor(name: string, args: VpnGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validated before the component registers: bad args create nothing at all.
        const checked = plan(name, args);
        // Handed to initialize, which the base constructor calls synchronously, outside the
        // component's registered inputs: those are kept in the state, and the plan holds secrets.
        planBeingConstructed = checked;
        super(VPN_GATEWAY_TYPE, name, {}, opts);
        this.parameterPath = checked.parameterPath;
        this.userNames = checked.settings.users.map((u) => u.name);
        const data = pulumi.output(this.getData());
        this.publicIp = data.apply((d) => d.publicIp);
        this.psk = pulumi.secret(data.apply((d) => d.psk));
        this.userData = data.apply((d) => d.userData);
        this.instanceId = data.apply((d) => d.instanceId);
        this.securityGroupId = data.apply((d) => d.securityGroupId);
        this.connectionInstructions = data.apply((d) => d.connectionInstructions);
        this.pki = pulumi.secret(data.apply((d) => d.pki));
        if (checked.settings.healthCheckTimeout > 0) this.health = data.apply((d) => d.health!);
    }

    /**
     * Resolves once every child resource exists in the program (registered with the engine);
     * rejects with the problem when a look-up or a check against it fails (a RunError naming the
     * setting). A program that wants that failure as an exception awaits it.
     */
    whenCreated(): Promise<void> {
        return this.getData().then(() => undefined);
    }

    protected async initialize(_input: pulumi.Inputs, _opts?: pulumi.ComponentResourceOptions, name?: string): Promise<GatewayData> {
        // Read before the first await: still inside this gateway's constructor.
        const checked = planBeingConstructed!;
        planBeingConstructed = undefined;
        try {
            return await this.create(name!, checked);
        } catch (error) {
            // A RunError prints as its message alone: the user sees what to fix, not a stack trace.
            if (error instanceof ConfigError) throw new pulumi.RunError(error.message);
            throw error;
        }
    }

    private async create(name: string, { settings, args, parameterPath, caName, prefix, heading }: GatewayPlan): Promise<GatewayData> {
        const placement = await findPlacement(settings, { parent: this }, prefix, heading);
        checkPoolAgainstVpc(settings.clientPool, placement.vpcCidrs, settings.ikev2.pool, prefix, heading);
        const tags = { Name: name, ...settings.tags };
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
        const ipsec = new Ipsec(
            name,
            {
                clientPool,
                ikev2: settings.ikev2,
                dnsServers: settings.dnsServers,
                os: settings.os,
                psk: checkedPsk(args, settings, prefix, heading),
                publicIp: eip.publicIp,
                ...parameters,
            },
            child,
        );
        const ppp = new Ppp(name, { users: settings.users, dnsServers: settings.dnsServers, ...parameters }, child);
        const sync = new Sync(name, { region: placement.region, clientPool, ...parameters }, child);
        // Not a boot part: the IKEv2 users and their CA reach the gateway through parameters only.
        const ikev2 = new Ikev2(name, { caName, address: eip.publicIp, users: settings.ikev2.users, ...parameters }, child);
        const parts: Record<PartName, BootPart> = {
            kernel: new Kernel(name, {}, child),
            sysctl: new Sysctl(name, {}, child),
            firewall: new Firewall(
                name,
                { clientPool, ikev2: settings.ikev2, adminCidr: settings.adminCidr, allowClientToClient: settings.allowClientToClient },
                child,
            ),
            ipsec,
            l2tp: new L2tp(name, { clientPool }, child),
            ppp,
            sync,
            updates: new Updates(name, {}, child),
        };
        // Composed in the order and by the composer that npm run render uses: the same bytes. No
        // secret in it (the PSK and the passwords are in the parameters), so not marked secret:
        // a preview shows what changes on the instance.
        const userData = pulumi
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
            {
                role: role.id,
                policy: JSON.stringify(parameterReadPolicy(`arn:${placement.partition}:ssm:${placement.region}:${placement.accountId}`, parameterPath)),
            },
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
                keyName: args.sshKeyName === undefined || args.sshKeyName === "" ? undefined : args.sshKeyName,
                iamInstanceProfile: profile.name,
                // Reach the package mirrors on first boot even before the Elastic IP is associated.
                associatePublicIpAddress: true,
                userDataBase64: userData,
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
                dependsOn: [policy, ...ipsec.parameters, ...ppp.parameters, ...sync.parameters, ...ikev2.parameters],
            },
        );

        const association = new aws.ec2.EipAssociation(name, { allocationId: eip.allocationId, instanceId: instance.id }, { parent: this });

        // The address is only the gateway's once the association exists.
        const publicIp = pulumi.all([eip.publicIp, association.id]).apply(([ip]) => ip);
        const ikev2Names = settings.ikev2.users.filter((u) => !u.revoked).map((u) => u.name);
        const userNames = settings.users.map((u) => u.name);
        const instructions = publicIp.apply((ip) => connectionInstructions(ip, userNames, ikev2Names));

        let health: pulumi.Output<ProbeResult> | undefined;
        if (settings.healthCheckTimeout > 0) {
            // Proof from the deployer's side that the gateway is up: its IKE port answers through the
            // Elastic IP and the security group. A timeout fails the update with what the probe saw.
            const check = new command.local.Command(
                `${name}-health`,
                {
                    create: publicIp.apply((ip) => probeCommand(ip, settings.healthCheckTimeout)),
                    // Probe again whenever the instance or its address changes.
                    triggers: [instance.id, association.id],
                },
                { parent: this, dependsOn: [association] },
            );
            health = check.stdout.apply(parseProbeOutput);
        }

        const result: GatewayData = {
            publicIp,
            psk: ipsec.psk,
            userData,
            instanceId: instance.id,
            securityGroupId: securityGroup.id,
            connectionInstructions: instructions,
            pki: ikev2.state,
            ...(health ? { health } : {}),
        };
        this.registerOutputs({
            publicIp,
            psk: ipsec.psk,
            userNames,
            parameterPath,
            instanceId: instance.id,
            connectionInstructions: instructions,
            pki: ikev2.state,
            health,
        });
        return result;
    }
}

/**
 * The PSK as the IPsec part takes it: the settings' (checked with the rest), or an Input known only
 * at deploy time, checked then by the same rule (a RunError naming the setting).
 */
function checkedPsk(args: VpnGatewayArgs, settings: Settings, prefix: string, heading?: string): pulumi.Input<string> | undefined {
    if (settings.psk !== undefined || args.psk === undefined || typeof args.psk === "string") return settings.psk;
    return pulumi.output(args.psk).apply((psk) => {
        const problems = pskProblems(psk, prefix);
        if (problems.length > 0) throw new pulumi.RunError(new ConfigError(problems, heading).message);
        return psk;
    });
}
