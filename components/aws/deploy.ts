// The program: stack config -> settings -> placement -> the gateway. Nothing is created until every
// check has passed.
import * as pulumi from "@pulumi/pulumi";
import { cloudConfig, gatewayParameters, userDataBytes } from "../boot/cloudConfig";
import { parameterPath } from "../boot/parameters";
import { VpnGateway } from "./gateway";
import { findPlacement } from "./network";
import { stackCaName } from "./pki";
import { ConfigError, GENERATED_PSK_LENGTH, PROJECT, RawConfig, Settings, checkPoolAgainstVpc, parseSettings } from "../config/settings";

/** A region name longer than any AWS has: the size check's stand-in for the one looked up later. */
const WIDEST_REGION = "xx-xxxxxxxxxxxxxxxxxxxxxxx-99";

/**
 * With the widest values known only later, so that an overrun is caught before anything exists:
 * the user-data within EC2's limit, and the parameters' layout within SSM's (a ConfigError).
 */
function checkSizes(settings: Settings, path: string): void {
    userDataBytes(cloudConfig({ settings, region: WIDEST_REGION, parameterPath: path, publicIp: "255.255.255.255" }));
    gatewayParameters({ parameterPath: path, psk: settings.psk ?? "x".repeat(GENERATED_PSK_LENGTH), users: settings.users });
}

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
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (key: string) => boolean };
    const isSecret = runtimeConfig.isConfigSecret;
    if (typeof isSecret !== "function") return [];
    return SECRET_KEYS.filter((k) => raw[k] !== undefined && raw[k] !== "" && !isSecret(`${PROJECT}:${k}`));
}

export async function deploy(raw: RawConfig, stack: string, plainSecrets: string[] = []) {
    let settings: Settings;
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
        settings = parseSettings(raw);
        const path = parameterPath(stack);
        checkSizes(settings, path);
        const placement = await findPlacement(settings);
        checkPoolAgainstVpc(settings.clientPool, placement.vpcCidrs, settings.ikev2.pool);
        const gateway = new VpnGateway(`vpn-gateway-${stack}`, { settings, placement, parameterPath: path, caName: stackCaName(stack) });
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
