// Two teams, two gateways, one stack (as OpenStack's cloudpipe gave each project its own VPN):
// each gateway has its own users, address pools, CA, parameter path and instance role.
//
//   pulumi config set --secret engPsk ...; pulumi config set --secret --path 'engUsers[0].password' ...
//   pulumi config set --secret opsPsk ...; pulumi config set --secret --path 'opsUsers[0].password' ...
import * as pulumi from "@pulumi/pulumi";
import { VpnGateway, VpnGatewayUser } from "vpn-gateway";

const config = new pulumi.Config();

// Users are plain values (each one's parameter bucket shapes the stack); the PSKs are secrets.
const eng = new VpnGateway("eng", {
    users: config.requireObject<VpnGatewayUser[]>("engUsers"),
    psk: config.requireSecret("engPsk"),
    clientPool: "10.100.0.0/24",
    ikev2Pool: "10.100.1.0/24",
    tags: { team: "eng" },
});

const ops = new VpnGateway("ops", {
    users: config.requireObject<VpnGatewayUser[]>("opsUsers"),
    psk: config.requireSecret("opsPsk"),
    clientPool: "10.101.0.0/24",
    ikev2Pool: "10.101.1.0/24",
    allowClientToClient: true,
    tags: { team: "ops" },
});

export const engAddress = eng.publicIp;
export const engParameters = eng.parameterPath;
export const engInstructions = eng.connectionInstructions;
export const opsAddress = ops.publicIp;
export const opsParameters = ops.parameterPath;
export const opsInstructions = ops.connectionInstructions;
