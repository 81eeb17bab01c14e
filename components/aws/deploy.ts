// The stack program (index.ts): the stack's config -> VpnGateway's args -> one gateway, named and
// placed as every release of this program has named it (an existing stack keeps its resources).
import * as pulumi from "@pulumi/pulumi";
import { parameterPath } from "../boot/parameters";
import { VpnGateway, VpnGatewayArgs } from "./gateway";
import { stackCaName } from "./pki";
import { CONFIG_KEYS, ConfigError, PROJECT, RawConfig } from "../config/settings";
import { SCHEMA } from "../config/schema";

/** Raw config as the Pulumi runtime holds it, keyed by the short name. */
export function rawConfigFromPulumi(): RawConfig {
    const raw: RawConfig = {};
    for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (fullKey.startsWith(`${PROJECT}:`)) raw[fullKey.slice(PROJECT.length + 1)] = value;
    }
    return raw;
}

/** Keys that hold secrets and must be stored encrypted in the stack's config. */
export const SECRET_KEYS = ["psk", "users"] as const;

/**
 * The secret-holding keys this stack stores in plain text (set without --secret). The CLI tells the
 * program which keys are encrypted; that list is internal to the SDK, so when it is not there the
 * check is skipped rather than guessed.
 */
export function secretsStoredInPlain(raw: RawConfig): string[] {
    // pulumi.runtime re-exports everything of runtime/config, isConfigSecret included, which its
    // declarations leave out
    const isSecret = (pulumi.runtime as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
    if (typeof isSecret !== "function") return [];
    return SECRET_KEYS.filter((k) => raw[k] !== undefined && raw[k] !== "" && !isSecret(`${PROJECT}:${k}`));
}

/** Config keys whose values are lists or maps (JSON in the raw config), as the schema types them. */
const STRUCTURED_KEYS: readonly string[] = CONFIG_KEYS.filter((k) => SCHEMA[k].type === "array" || SCHEMA[k].type === "object");

/**
 * The stack's config as VpnGateway's args, values as the config holds them: structured ones
 * parsed, the rest as strings. The component validates them all (a wrong type included), naming
 * each as the config key it came from.
 */
export function argsFromStackConfig(raw: RawConfig, stack: string): VpnGatewayArgs {
    const args: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) {
        if (v === undefined) continue;
        let value: unknown = v;
        if (STRUCTURED_KEYS.includes(k)) {
            try {
                value = JSON.parse(v);
            } catch {
                // A plain string where a list or map was expected: the component says so.
            }
        }
        args[k] = value;
    }
    // Where every release of the program has put them: the stack's parameters and CA keep their names.
    return { ...(args as unknown as VpnGatewayArgs), parameterPath: parameterPath(stack), caName: stackCaName(stack), configNamespace: PROJECT };
}

/** The stack's outputs: the gateway's, health as a verdict and the seconds it took. */
export async function deploy(raw: RawConfig, stack: string, plainSecrets: string[] = []) {
    try {
        if (plainSecrets.length > 0) {
            throw new ConfigError(
                plainSecrets.map(
                    (k) =>
                        `${PROJECT}:${k}: is stored in plain text in the stack's config; set it again with --secret ` +
                        (k === "psk" ? `(pulumi config set --secret psk ...)` : `(pulumi config set --secret --path 'users[N].password' ...)`),
                ),
            );
        }
        const gateway = new VpnGateway(`vpn-gateway-${stack}`, argsFromStackConfig(raw, stack));
        await gateway.whenCreated();
        return {
            publicIp: gateway.publicIp,
            psk: gateway.psk,
            userNames: gateway.userNames,
            parameterPath: gateway.parameterPath,
            instanceId: gateway.instanceId,
            connectionInstructions: gateway.connectionInstructions,
            /** The IKEv2 CA's state, secret: `npm run client` reads it (pulumi stack output pki --show-secrets). */
            pki: gateway.pki,
            ...(gateway.health
                ? { health: gateway.health.apply((h) => (h.ready ? "ready" : `not ready: ${h.detail}`)), timeToReady: gateway.health.apply((h) => h.seconds) }
                : {}),
        };
    } catch (error) {
        // A RunError prints as its message alone: the user sees what to fix, not a stack trace.
        if (error instanceof ConfigError || (error as Error).name === "UserDataTooLarge") {
            throw new pulumi.RunError((error as Error).message);
        }
        throw error;
    }
}
