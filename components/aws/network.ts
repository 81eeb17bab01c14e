// Where the gateway goes: region and account, subnet, VPC and image, looked up before any resource is created.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, OsChoice, STACK_CONFIG_PREFIX, Settings } from "../config/settings";

export interface Placement {
    /** The provider's region, account and partition: the parameters' ARNs, and sync.json's region. */
    region: string;
    accountId: string;
    partition: string;
    vpcId: string;
    subnetId: string;
    /** Every IPv4 block of the VPC, for the pool overlap check. */
    vpcCidrs: string[];
    amiId: string;
}

/**
 * AMI name patterns and owners of the supported images, per CPU architecture (amd64 or arm64 in the
 * name). Only the publishers' own accounts: a name pattern alone would match anyone's copy. Keyed by
 * OsChoice, so a choice without its image does not compile.
 */
export const IMAGES: Record<OsChoice, { owner: string; name: (arch: "amd64" | "arm64") => string }> = {
    "ubuntu-24.04": {
        owner: "099720109477", // Canonical
        name: (arch) => `ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${arch}-server-*`,
    },
    "ubuntu-26.04": {
        owner: "099720109477", // Canonical; 26.04 LTS is "resolute"
        name: (arch) => `ubuntu/images/hvm-ssd-gp3/ubuntu-resolute-26.04-${arch}-server-*`,
    },
    "debian-12": {
        owner: "136693071363", // Debian
        name: (arch) => `debian-12-${arch}-*`,
    },
    "debian-13": {
        owner: "136693071363", // Debian
        name: (arch) => `debian-13-${arch}-*`,
    },
};

async function findSubnet(settings: Settings, opts: pulumi.InvokeOptions, p: string, heading?: string): Promise<{ vpcId: string; subnetId: string }> {
    if (settings.subnetId) {
        const subnet = await aws.ec2.getSubnet({ id: settings.subnetId }, opts);
        if (settings.vpcId && subnet.vpcId !== settings.vpcId) {
            throw new ConfigError([`${p}subnetId: ${settings.subnetId} is in ${subnet.vpcId}, not in ${p}vpcId ${settings.vpcId}`], heading);
        }
        return { vpcId: subnet.vpcId, subnetId: subnet.id };
    }
    let vpcId: string;
    try {
        vpcId = (await aws.ec2.getVpc({ default: true }, opts)).id;
    } catch {
        throw new ConfigError([`${p}vpcId: this region has no default VPC; set ${p}vpcId and ${p}subnetId (a public subnet)`], heading);
    }
    const subnets = await aws.ec2.getSubnets(
        {
            filters: [
                { name: "vpc-id", values: [vpcId] },
                { name: "default-for-az", values: ["true"] },
            ],
        },
        opts,
    );
    // Sorted, so the same subnet is chosen on every run.
    const subnetId = [...subnets.ids].sort()[0];
    if (!subnetId) throw new ConfigError([`${p}subnetId: the default VPC ${vpcId} has no default subnet; set one`], heading);
    return { vpcId, subnetId };
}

async function findAmi(settings: Settings, opts: pulumi.InvokeOptions): Promise<string> {
    if (settings.amiId) return settings.amiId;
    const type = await aws.ec2.getInstanceType({ instanceType: settings.instanceType }, opts);
    const arch = type.supportedArchitectures.includes("x86_64") ? "x86_64" : "arm64";
    const image = IMAGES[settings.os];
    const ami = await aws.ec2.getAmi(
        {
            mostRecent: true,
            owners: [image.owner],
            filters: [
                { name: "name", values: [image.name(arch === "x86_64" ? "amd64" : "arm64")] },
                { name: "architecture", values: [arch] },
                { name: "virtualization-type", values: ["hvm"] },
            ],
        },
        opts,
    );
    return ami.id;
}

/**
 * The look-ups, with the provider the gateway's resources use (opts.provider / opts.parent's).
 * prefix and heading: how a failure names the setting to fix (see settings.ts withKeyPrefix).
 */
export async function findPlacement(settings: Settings, opts: pulumi.InvokeOptions = {}, prefix = STACK_CONFIG_PREFIX, heading?: string): Promise<Placement> {
    const [region, identity, partition] = await Promise.all([aws.getRegion({}, opts), aws.getCallerIdentity({}, opts), aws.getPartition({}, opts)]);
    const { vpcId, subnetId } = await findSubnet(settings, opts, prefix, heading);
    const vpc = await aws.ec2.getVpc({ id: vpcId }, opts);
    const vpcCidrs = [...new Set([vpc.cidrBlock, ...vpc.cidrBlockAssociations.map((a) => a.cidrBlock)])];
    const amiId = await findAmi(settings, opts);
    return { region: region.region, accountId: identity.accountId, partition: partition.partition, vpcId, subnetId, vpcCidrs, amiId };
}
