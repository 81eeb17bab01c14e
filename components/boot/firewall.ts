// Firewall and NAT: default-deny, IKE/NAT-T in, L2TP only inside IPsec, the pool masqueraded on
// the public interface found at boot. Applied by its own unit at every boot, so the rules persist
// without iptables-persistent (absent from some images).
import { BootComponent, BootInput, templateFile } from "./bootFile";

export const FIREWALL_SCRIPT = "/usr/local/sbin/vpn-gateway-firewall";

export function firewall(input: BootInput): BootComponent {
    const { settings } = input;
    return {
        packages: ["iptables"],
        files: [
            templateFile(FIREWALL_SCRIPT, "0755", "firewall/vpn-gateway-firewall.mustache", {
                poolCidr: settings.clientPool.cidr.text,
                adminCidr: settings.adminCidr,
                clientToClient: settings.allowClientToClient,
            }),
            templateFile("/etc/systemd/system/vpn-gateway-firewall.service", "0644", "firewall/vpn-gateway-firewall.service.mustache"),
        ],
        commands: [],
        services: ["vpn-gateway-firewall.service"],
    };
}
