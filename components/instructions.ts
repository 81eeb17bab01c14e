// Connection instructions a person can follow, per client platform. Never carries a secret.

export function connectionInstructions(publicIp: string, userNames: string[]): string {
    const users = userNames.join(", ");
    return `L2TP/IPsec VPN gateway at ${publicIp}
Users: ${users}
You need: the server address ${publicIp}, your user name and password, and the pre-shared key
(IPsec PSK), shown with: pulumi stack output psk --show-secrets

macOS: System Settings > VPN > Add VPN Configuration > L2TP over IPSec. Server address ${publicIp},
  account name = your user name; Authentication Settings: password, and "Shared Secret" = the PSK.
iOS / iPadOS: Settings > General > VPN & Device Management > VPN > Add VPN Configuration > Type L2TP.
  Server ${publicIp}, Account = your user name, Password, Secret = the PSK. Send All Traffic on.
Windows 10/11: Settings > Network & internet > VPN > Add VPN. Provider Windows (built-in), server
  ${publicIp}, type "L2TP/IPsec with pre-shared key", the PSK, sign-in with user name and password.
  The gateway sits behind NAT (EC2's Elastic IP), so Windows needs this once, then a reboot
  (otherwise error 809): in an administrator prompt run
    REG ADD HKLM\\SYSTEM\\CurrentControlSet\\Services\\PolicyAgent /v AssumeUDPEncapsulationContextOnSendRule /t REG_DWORD /d 0x2 /f
Linux (NetworkManager): install network-manager-l2tp (and its GNOME/KDE plugin), add an L2TP VPN:
  gateway ${publicIp}, user name and password; IPsec Settings: enable IPsec, pre-shared key = the PSK.
Android: Android 12 and later only create IKEv2 profiles; older Android: Settings > Network > VPN >
  add, type "L2TP/IPSec PSK", server ${publicIp}, IPsec pre-shared key = the PSK, then your user name
  and password when connecting. On Android 12+ use a third-party L2TP client (strongSwan's app
  speaks IKEv2 only, which this gateway does not offer).
`;
}
