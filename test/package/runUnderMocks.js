// Runs a compiled Pulumi program under Pulumi's mock runtime, from the directory it is installed
// in (its own node_modules: the packed vpn-gateway and its dependencies, as a user gets them), and
// prints one JSON document: every resource registered (type, name, parent, inputs) and the
// program's outputs. Usage: node runUnderMocks.js PROGRAM.js CONFIG.json
"use strict";
const path = require("path");
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");
const { reconcilePki } = require("vpn-gateway/dist/components/pki/ledger");

const [program, configFile] = process.argv.slice(2);
const project = "vpn-gateway-two-teams";
// The stack's config as the CLI hands it to a program: project:key -> string (JSON for objects).
const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
process.env.PULUMI_CONFIG = JSON.stringify(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`${project}:${k}`, typeof v === "string" ? v : JSON.stringify(v)])),
);

const resources = [];
const parents = new Map();
pulumi.runtime.setMocks(
    {
        async newResource(args) {
            const state = { ...args.inputs };
            if (args.type === "aws:ec2/eip:Eip")
                Object.assign(state, { publicIp: `198.51.100.${resources.length + 1}`, allocationId: `eipalloc-${args.name}` });
            if (args.type === "aws:ec2/eipAssociation:EipAssociation") state.publicIp = "198.51.100.1";
            if (args.type === "command:local:Command") state.stdout = '{"ready":true,"seconds":1,"attempts":1,"detail":"mock"}';
            if (args.type === "pulumi-nodejs:dynamic:Resource" && "caName" in args.inputs) {
                const { caName, address, users } = args.inputs;
                state.state = JSON.stringify(await reconcilePki(undefined, { caName, address, users, now: new Date() }));
                delete state.__provider;
            }
            if ((args.type === "aws:iam/role:Role" || args.type === "aws:iam/instanceProfile:InstanceProfile") && !state.name)
                state.name = `${args.name}-1a2b3c4`;
            resources.push({ type: args.type, name: args.name, inputs: args.inputs, parent: parents.get(`${args.type}::${args.name}`) ?? "" });
            return { id: `${args.name}-id`, state };
        },
        call(args) {
            switch (args.token) {
                case "aws:ec2/getVpc:getVpc":
                    return { id: "vpc-0default", cidrBlock: "172.31.0.0/16", cidrBlockAssociations: [{ cidrBlock: "172.31.0.0/16" }] };
                case "aws:ec2/getSubnets:getSubnets":
                    return { ids: ["subnet-0aaa"] };
                case "aws:ec2/getInstanceType:getInstanceType":
                    return { supportedArchitectures: ["x86_64"] };
                case "aws:ec2/getAmi:getAmi":
                    return { id: "ami-0123456789abcdef0" };
                case "aws:index/getRegion:getRegion":
                    return { id: "eu-west-1", name: "eu-west-1", region: "eu-west-1" };
                case "aws:index/getCallerIdentity:getCallerIdentity":
                    return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/deployer", userId: "AIDEXAMPLE" };
                case "aws:index/getPartition:getPartition":
                    return { partition: "aws", dnsSuffix: "amazonaws.com" };
                default:
                    return {};
            }
        },
    },
    project,
    "dev",
    false,
);
// The parent of each registration, from the monitor's request (newResource is not told it).
const monitor = pulumi.runtime.getMonitor();
const registerResource = monitor.registerResource.bind(monitor);
monitor.registerResource = (request, callback) => {
    parents.set(`${request.getType()}::${request.getName()}`, request.getParent());
    registerResource(request, callback);
};

const exported = require(path.resolve(program));
const names = Object.keys(exported);
let outputs;
pulumi.all(names.map((n) => exported[n])).apply((values) => {
    outputs = Object.fromEntries(names.map((n, i) => [n, values[i]]));
});
// Once nothing is left to do, every registration has reached the monitor and every output is known.
let printed = false;
process.on("beforeExit", () => {
    if (printed) return;
    printed = true;
    if (outputs === undefined) {
        process.stderr.write("the program's outputs never resolved\n");
        process.exitCode = 1;
        return;
    }
    process.stdout.write(JSON.stringify({ resources, outputs }) + "\n");
});
