// Firewall and NAT: default-deny, IKE/NAT-T in, L2TP only inside IPsec, both pools masqueraded on
// the public interface found at boot. Applied by its own unit at every boot, so the rules persist
// without iptables-persistent (absent from some images).
import { ClientPool, Ikev2Settings } from "../config/settings";
import { BootComponent, plainFile, templateFile } from "./bootFile";

export const FIREWALL_SCRIPT = "/usr/local/sbin/vpn-gateway-firewall";

/** The settings the firewall part renders from: the validated Settings fields of these names. */
export interface FirewallInput {
    /** The client pool: the only source forwarded, masqueraded on the public interface. */
    clientPool: ClientPool;
    /** IKEv2 clients' pool: forwarded only out of an IPsec SA, masqueraded like the L2TP pool. */
    ikev2: Pick<Ikev2Settings, "pool">;
    /** The one CIDR SSH is open from; absent, SSH stays closed. */
    adminCidr?: string;
    /** Whether clients may reach each other (an explicit pool-to-pool accept); otherwise dropped. */
    allowClientToClient: boolean;
}

export function firewall(input: FirewallInput): BootComponent {
    return {
        packages: ["iptables"],
        files: [
            templateFile(FIREWALL_SCRIPT, "0755", "firewall/vpn-gateway-firewall.mustache", {
                poolCidr: input.clientPool.cidr.text,
                ikev2PoolCidr: input.ikev2.pool.text,
                adminCidr: input.adminCidr,
                clientToClient: input.allowClientToClient,
            }),
            plainFile("/etc/systemd/system/vpn-gateway-firewall.service", "0644", "firewall/vpn-gateway-firewall.service"),
        ],
        commands: [],
        services: ["vpn-gateway-firewall.service"],
    };
}
