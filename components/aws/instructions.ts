// Connection instructions a person can follow, per client platform. Never carries a secret.

/** userNames: the L2TP users; ikev2Names: the IKEv2 users that hold a certificate (not revoked). */
export function connectionInstructions(publicIp: string, userNames: string[], ikev2Names: string[] = []): string {
    const users = userNames.join(", ");
    return `L2TP/IPsec and IKEv2 VPN gateway at ${publicIp}
L2TP/IPsec users: ${users || "(none)"}
You need: the server address ${publicIp}, your user name and password, and the pre-shared key
(IPsec PSK), shown with: pulumi stack output psk --show-secrets

Which clients connect (README "Clients and platforms" has the checks that prove each line):
macOS 10.12+ / iOS 10+: System Settings > VPN > Add VPN Configuration > L2TP over IPSec. Server
  address ${publicIp}, account name = your user name; Authentication Settings: password, and
  "Shared Secret" = the PSK. (iOS / iPadOS: Settings > General > VPN & Device Management > VPN >
  Add VPN Configuration > Type L2TP; Send All Traffic on.)
Windows 10/11: Settings > Network & internet > VPN > Add VPN. Provider Windows (built-in), server
  ${publicIp}, type "L2TP/IPsec with pre-shared key", the PSK, sign-in with user name and password.
  The gateway sits behind NAT (EC2's Elastic IP), so Windows needs this once, then a reboot
  (otherwise error 809): in an administrator prompt run
    REG ADD HKLM\\SYSTEM\\CurrentControlSet\\Services\\PolicyAgent /v AssumeUDPEncapsulationContextOnSendRule /t REG_DWORD /d 0x2 /f
Linux (NetworkManager): install network-manager-l2tp (and its GNOME/KDE plugin), add an L2TP VPN:
  gateway ${publicIp}, user name and password; IPsec Settings: enable IPsec, pre-shared key = the PSK.
Android: L2TP/IPsec is not supported. Android 11 and older offer only the weak MODP1024 key
  exchange in L2TP/IPsec, which Ubuntu's and Debian's Libreswan does not implement; Android 12 and
  later create only IKEv2 profiles: use IKEv2 (below).
One device per public address at a time: a second L2TP/IPsec device behind the same NAT as a
  connected one is refused (the first keeps its session); a device that reconnects through a new
  NAT port may wait up to 2 minutes.

IKEv2 (a certificate per user, or per device, from the stack's own CA; no password, no PSK)
IKEv2 certificates (a user's name, or NAME.DEVICE for users[N].devices): ${ikev2Names.join(", ") || "(none)"}
Each user's files and steps come from the stack's CA state (the secret output pki), on the
deploying machine: npm run client -- --user NAME [--device DEVICE] --format FORMAT [--out FILE]
  macOS / iOS: --format mobileconfig (a configuration profile: certificate, CA and VPN in one)
  Windows 10/11: --format windows (PowerShell steps), with --format p12 --out NAME.p12
  Android 12+: --format android (the built-in IKEv2/IPSec RSA client, or the strongSwan app with
    --format sswan)
  Linux (NetworkManager-strongswan): --format networkmanager
  Also: --format p12 (binary: with --out), --format p12-password, --format ca.
A local render (npm run render -- --out-dir DIR) writes the same profiles to DIR/clients/NAME/.
`;
}
