// Firewall and NAT: default-deny, IKE/NAT-T in, L2TP only inside IPsec, the pool masqueraded on
// the public interface found at boot. Applied by its own unit at every boot, so the rules persist
// without iptables-persistent (absent from some images).
import { BootComponent, BootInput, bootFile, renderTemplate } from "./bootFile";

export const FIREWALL_SCRIPT = "/usr/local/sbin/vpn-gateway-firewall";

export function firewall(input: BootInput): BootComponent {
    const { settings } = input;
    return {
        packages: ["iptables"],
        files: [
            bootFile(
                FIREWALL_SCRIPT,
                "0755",
                renderTemplate("vpn-gateway-firewall", {
                    poolCidr: settings.clientPool.cidr.text,
                    adminCidr: settings.adminCidr,
                    clientToClient: settings.allowClientToClient,
                }),
            ),
            bootFile("/etc/systemd/system/vpn-gateway-firewall.service", "0644", renderTemplate("vpn-gateway-firewall.service", {})),
        ],
        commands: [],
        services: ["vpn-gateway-firewall.service"],
    };
}
