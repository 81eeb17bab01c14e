// Pulumi's mock runtime, set once for every test file (the mocks are process-wide): records what
// the program creates and answers its lookups like a default-VPC account would.
import * as pulumi from "@pulumi/pulumi";
import { PkiState, reconcilePki } from "../components/pki/ledger";

export interface Created {
    type: string;
    name: string;
    inputs: any;
    /** The parent's URN as the engine would receive it ("" for none). */
    parent: string;
    /** The aliases as the engine would receive them (alias specs: name, type, parentUrn, ...). */
    aliases: Array<{ urn: string; spec?: { name: string; type: string; parenturn: string; noparent?: boolean } }>;
    /** The URN the mock monitor gives the resource. */
    urn: string;
    /** The URNs of its explicit dependencies (dependsOn), as the engine would receive them. */
    dependencies: string[];
    /** Outputs the engine is told to keep secret (additionalSecretOutputs). */
    additionalSecretOutputs: string[];
    /** What a component registered as its outputs (the state keeps them), secrets as marked values. */
    outputs?: any;
}

export const created: Created[] = [];
export const calls: Array<{ token: string; inputs: any }> = [];

/**
 * The CA states the dynamic resource (aws/pki.ts StackPki) holds, by resource name: a later run
 * of the same stack updates the state, as the engine's update would, so its CA stays the same
 * (and its 3072-bit key is made once per stack name, not once per test).
 */
export const pkiStates = new Map<string, PkiState>();

/** What the fake account answers; tests change these and restore them. */
export const knobs = {
    vpcCidr: "172.31.0.0/16",
    defaultVpcExists: true,
    /** The image getAmi finds; a test sets its own so that an instance on any other id shows. */
    amiId: "ami-0123456789abcdef0",
    region: "eu-west-1",
    accountId: "123456789012",
    partition: "aws",
    /**
     * While set, no custom resource's registration completes (so none of their Outputs resolves)
     * until the test calls what is pushed here: what the program constructs before any Output is
     * known is what `pulumi preview` shows on a first run.
     */
    hold: undefined as Array<() => void> | undefined,
    probeStdout: '{"ready":true,"seconds":73.4,"attempts":15,"detail":"203.0.113.10:500 accepted the IKE proposal"}' as string | undefined,
};

pulumi.runtime.setMocks(
    {
        async newResource(args: pulumi.runtime.MockResourceArgs) {
            const hold = knobs.hold;
            if (hold && args.custom) await new Promise<void>((release) => hold.push(release));
            const request = registering.get(`${args.type}::${args.name}`);
            created.push({
                type: args.type,
                name: args.name,
                inputs: args.inputs,
                parent: request?.parent ?? "",
                aliases: request?.aliases ?? [],
                urn: "",
                dependencies: request?.dependencies ?? [],
                additionalSecretOutputs: request?.additionalSecretOutputs ?? [],
            });
            const state: any = { ...args.inputs };
            if (args.type === "aws:ec2/eip:Eip") Object.assign(state, { publicIp: "203.0.113.10", allocationId: "eipalloc-123" });
            if (args.type === "random:index/randomPassword:RandomPassword") state.result = "GeneratedPsk0123456789abcdefGHIJ";
            if (args.type === "aws:ec2/eipAssociation:EipAssociation") state.publicIp = "203.0.113.10";
            if (args.type === "command:local:Command") state.stdout = knobs.probeStdout;
            if (args.type === "pulumi-nodejs:dynamic:Resource" && "caName" in args.inputs) {
                // The real generator on the real inputs: what the provider's create or update does.
                const { caName, address, users } = args.inputs;
                const previous = pkiStates.get(args.name);
                const pki = await reconcilePki(previous, { caName, address, users, now: new Date() });
                pkiStates.set(args.name, pki);
                state.state = JSON.stringify(pki);
                delete state.__provider;
            }
            // Auto-naming, as the provider does it: the resource's name and a random suffix.
            if ((args.type === "aws:iam/role:Role" || args.type === "aws:iam/instanceProfile:InstanceProfile") && !state.name)
                state.name = `${args.name}-1a2b3c4`;
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
                case "aws:index/getRegion:getRegion":
                    return { id: knobs.region, name: knobs.region, region: knobs.region, endpoint: `ec2.${knobs.region}.amazonaws.com`, description: "" };
                case "aws:index/getCallerIdentity:getCallerIdentity":
                    return {
                        id: knobs.accountId,
                        accountId: knobs.accountId,
                        arn: `arn:${knobs.partition}:iam::${knobs.accountId}:user/deployer`,
                        userId: "AIDEXAMPLE",
                    };
                case "aws:index/getPartition:getPartition":
                    return { id: knobs.partition, partition: knobs.partition, dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
                default:
                    return {};
            }
        },
    },
    "vpn-gateway",
    "test",
    false,
);

// newResource is not told a resource's parent or aliases; the monitor's request carries both, so
// they are taken from there, and the URN from its response (the tree a test can assert on).
const registering = new Map<string, { parent: string; aliases: Created["aliases"]; dependencies: string[]; additionalSecretOutputs: string[] }>();
const monitor = pulumi.runtime.getMonitor() as any;
const registerResource = monitor.registerResource.bind(monitor);
monitor.registerResource = (request: any, callback: (error: any, response: any) => void) => {
    const key = `${request.getType()}::${request.getName()}`;
    registering.set(key, {
        parent: request.getParent(),
        aliases: request.getAliasesList().map((a: any) => a.toObject()),
        dependencies: request.getDependenciesList(),
        additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
    });
    registerResource(request, (error: any, response: any) => {
        const entry = [...created].reverse().find((c) => `${c.type}::${c.name}` === key);
        if (entry && response) entry.urn = response.getUrn();
        callback(error, response);
    });
};
const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
monitor.registerResourceOutputs = (request: any, callback: (error: any, response: any) => void) => {
    const entry = created.find((c) => c.urn === request.getUrn());
    if (entry) entry.outputs = request.getOutputs()?.toJavaScript();
    registerResourceOutputs(request, callback);
};
