// Pulumi's mock runtime, set once for every test file (the mocks are process-wide): records what
// the program creates and answers its lookups like a default-VPC account would.
import * as pulumi from "@pulumi/pulumi";

export interface Created {
    type: string;
    name: string;
    inputs: any;
}

export const created: Created[] = [];
export const calls: Array<{ token: string; inputs: any }> = [];

/** What the fake account answers; tests change these and restore them. */
export const knobs = {
    vpcCidr: "172.31.0.0/16",
    defaultVpcExists: true,
    /** The image getAmi finds; a test sets its own so that an instance on any other id shows. */
    amiId: "ami-0123456789abcdef0",
    probeStdout: '{"ready":true,"seconds":73.4,"attempts":15,"detail":"203.0.113.10:500 accepted the IKE proposal"}' as string | undefined,
};

pulumi.runtime.setMocks(
    {
        newResource(args: pulumi.runtime.MockResourceArgs) {
            created.push({ type: args.type, name: args.name, inputs: args.inputs });
            const state: any = { ...args.inputs };
            if (args.type === "aws:ec2/eip:Eip") Object.assign(state, { publicIp: "203.0.113.10", allocationId: "eipalloc-123" });
            if (args.type === "random:index/randomPassword:RandomPassword") state.result = "GeneratedPsk0123456789abcdefGHIJ";
            if (args.type === "aws:ec2/eipAssociation:EipAssociation") state.publicIp = "203.0.113.10";
            if (args.type === "command:local:Command") state.stdout = knobs.probeStdout;
            return { id: `${args.name}-id`, state };
        },
        call(args: pulumi.runtime.MockCallArgs) {
            calls.push({ token: args.token, inputs: args.inputs });
            switch (args.token) {
                case "aws:ec2/getVpc:getVpc":
                    if (args.inputs.default && !knobs.defaultVpcExists) throw new Error("no matching EC2 VPC found");
                    return { id: "vpc-0default", cidrBlock: knobs.vpcCidr, cidrBlockAssociations: [{ cidrBlock: knobs.vpcCidr }] };
                case "aws:ec2/getSubnets:getSubnets":
                    return { ids: ["subnet-0bbb", "subnet-0aaa"] };
                case "aws:ec2/getSubnet:getSubnet":
                    return { id: args.inputs.id, vpcId: "vpc-0other" };
                case "aws:ec2/getInstanceType:getInstanceType":
                    return { supportedArchitectures: args.inputs.instanceType.startsWith("t4g") ? ["arm64"] : ["i386", "x86_64"] };
                case "aws:ec2/getAmi:getAmi":
                    return { id: knobs.amiId };
                default:
                    return {};
            }
        },
    },
    "vpn-gateway",
    "test",
    false,
);
