// The program: stack config -> settings -> placement -> the gateway. Nothing is created until every
// check has passed.
import * as pulumi from "@pulumi/pulumi";
import { cloudConfig, userDataBytes } from "./cloudConfig";
import { VpnGateway } from "./gateway";
import { findPlacement } from "./network";
import { ConfigError, GENERATED_PSK_LENGTH, PROJECT, RawConfig, Settings, checkPoolAgainstVpc, parseSettings } from "./settings";

/** The widest values known only later, so a size overrun is caught before anything exists. */
function checkUserDataSize(settings: Settings): void {
    userDataBytes(cloudConfig({ settings, psk: settings.psk ?? "x".repeat(GENERATED_PSK_LENGTH), publicIp: "255.255.255.255" }));
}

/** Raw config as the Pulumi runtime holds it, keyed by the short name. */
export function rawConfigFromPulumi(): RawConfig {
    const raw: RawConfig = {};
    for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (fullKey.startsWith(`${PROJECT}:`)) raw[fullKey.slice(PROJECT.length + 1)] = value;
    }
    return raw;
}

export async function deploy(raw: RawConfig, stack: string) {
    let settings: Settings;
    try {
        settings = parseSettings(raw);
        checkUserDataSize(settings);
        const placement = await findPlacement(settings);
        checkPoolAgainstVpc(settings.clientPool, placement.vpcCidrs);
        const gateway = new VpnGateway(`vpn-gateway-${stack}`, { settings, placement });
        return {
            publicIp: gateway.publicIp,
            psk: gateway.psk,
            userNames: gateway.userNames,
            instanceId: gateway.instanceId,
            connectionInstructions: gateway.connectionInstructions,
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
