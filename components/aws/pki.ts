// The stack's IKEv2 CA as a Pulumi dynamic resource: its one output, `state`, is the PkiState
// (components/pki/ledger.ts) as JSON, kept secret in the stack's state. reconcilePki is the one
// generator: `npm run render` calls it on a file, this provider on the stack's state. The CA is
// created once and never replaced; a change of the address or the users is an update in place.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ParameterArgs, ssmParameter } from "../boot/parts";
import { Ikev2User } from "../config/settings";
import { PkiState, caFingerprint, reconcilePki } from "../pki/ledger";
import { gatewayPki, ikev2PieceCount, ikev2Pieces } from "../pki/parameters";

/** The resource's inputs, as the provider receives them (plain: the engine resolves them first). */
export interface StackPkiInputs {
    /** `vpn-gateway <stack> CA`: names a new CA only; reconcilePki refuses a change. */
    caName: string;
    /** The Elastic IP: the server certificate's CN and SANs. */
    address: string;
    /** settings.ikev2.users: every IKEv2 user, revoked ones included. */
    users: Ikev2User[];
}

/** What the provider keeps: the inputs (which the next diff compares) and the state's JSON. */
export interface StackPkiOutputs extends StackPkiInputs {
    state: string;
}

/** What a diff compares: a new `now` alone must never re-run the generator. */
function wanted(props: StackPkiInputs): string {
    return JSON.stringify({ caName: props.caName, address: props.address, users: props.users });
}

/**
 * Serialized by Pulumi's closure serializer into the stack's state and run by the dynamic provider
 * host, which has no ts-node: everything it uses is captured as it is here (reconcilePki and what
 * it calls, down to the npm modules, which the host requires by name). test/aws/pki.test.ts loads
 * the serialized text in a plain node process.
 */
export const stackPkiProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: StackPkiInputs): Promise<pulumi.dynamic.CreateResult> {
        const state = await reconcilePki(undefined, { caName: inputs.caName, address: inputs.address, users: inputs.users, now: new Date() });
        // Named by its CA, which it keeps for the stack's life (the id never changes: no replacement).
        const id = `ca-${caFingerprint(state).toString("hex").slice(0, 16)}`;
        const outs: StackPkiOutputs = { caName: inputs.caName, address: inputs.address, users: inputs.users, state: JSON.stringify(state) };
        return { id, outs };
    },

    async diff(_id: string, olds: StackPkiOutputs, news: StackPkiInputs): Promise<pulumi.dynamic.DiffResult> {
        // Never a replacement: a new CA would orphan every client's profile.
        return { changes: wanted(olds) !== wanted(news), replaces: [], deleteBeforeReplace: false };
    },

    async update(_id: string, olds: StackPkiOutputs, news: StackPkiInputs): Promise<pulumi.dynamic.UpdateResult> {
        const previous = JSON.parse(olds.state) as PkiState;
        const state = await reconcilePki(previous, { caName: news.caName, address: news.address, users: news.users, now: new Date() });
        const outs: StackPkiOutputs = { caName: news.caName, address: news.address, users: news.users, state: JSON.stringify(state) };
        return { outs };
    },
};

export interface StackPkiArgs {
    caName: pulumi.Input<string>;
    address: pulumi.Input<string>;
    users: pulumi.Input<Ikev2User[]>;
}

/** The CA's name for a stack. */
export function stackCaName(stack: string): string {
    return `vpn-gateway ${stack} CA`;
}

export class StackPki extends pulumi.dynamic.Resource {
    /** The PkiState as JSON: the CA's and every user's key, always secret. */
    declare readonly state: pulumi.Output<string>;

    constructor(name: string, args: StackPkiArgs, opts?: pulumi.CustomResourceOptions) {
        super(stackPkiProvider, name, { ...args, state: undefined }, { ...opts, additionalSecretOutputs: ["state"] });
    }
}

/** The IKEv2 side's settings: the users, the CA's name and the address its server certificate names. */
export interface Ikev2Args extends ParameterArgs {
    /** stackCaName(stack). */
    caName: string;
    /** The Elastic IP clients dial. */
    address: pulumi.Input<string>;
    /** settings.ikev2.users. */
    users: Ikev2User[];
}

/**
 * IKEv2: owns the stack's CA (StackPki) and the gateway's share of it, the parameters
 * PATH/ikev2/1..N, from which vpn-gateway-sync writes the NSS database and the CRL. The users
 * live here alone, never in the user-data: adding one changes the CA's state and these parameters.
 * N follows from the users (ikev2PieceCount), so every parameter exists before the state is known:
 * `pulumi preview` lists them all, and their values fill in when the CA's state does.
 */
export class Ikev2 extends pulumi.ComponentResource {
    /** The PkiState as JSON (every key): what `npm run client` reads. Always secret. */
    readonly state: pulumi.Output<string>;
    /** PATH/ikev2/1..N. */
    readonly parameters: aws.ssm.Parameter[];

    constructor(name: string, args: Ikev2Args, opts?: pulumi.ComponentResourceOptions) {
        super("vpn-gateway:index:Ikev2", name, {}, opts);
        const pki = new StackPki(`${name}-pki`, { caName: args.caName, address: args.address, users: args.users }, { parent: this });
        this.state = pulumi.secret(pki.state);
        const count = ikev2PieceCount(args.users);
        const pieces = this.state.apply(async (json) => ikev2Pieces(await gatewayPki(JSON.parse(json) as PkiState), count));
        this.parameters = Array.from({ length: count }, (_, i) =>
            ssmParameter(`${name}-ikev2-${i + 1}`, `${args.parameterPath}/ikev2/${i + 1}`, pulumi.secret(pieces.apply((p) => p[i])), args, this),
        );
        this.registerOutputs({ state: this.state });
    }
}
