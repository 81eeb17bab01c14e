// The package's entry point: what a Pulumi program imports to create gateways of its own.
// `import { VpnGateway } from "vpn-gateway"`; index.ts at the repository's root is one such program.
export { VpnGateway, VPN_GATEWAY_TYPE, defaultCaName, defaultParameterPath } from "./aws/gateway";
export type { VpnGatewayArgs, VpnGatewayUser } from "./config/args";
export { ConfigError } from "./config/settings";
export type { Method, OsChoice } from "./config/settings";
export type { ProbeResult } from "./health/ikeProbe";
export type { PkiState } from "./pki/ledger";
