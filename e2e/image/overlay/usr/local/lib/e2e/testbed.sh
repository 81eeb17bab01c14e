#!/bin/bash
# Test bed (not product): builds, inside the VM, a network that looks like EC2 from the gateway's
# point of view. The gateway is the VM's root namespace (cloud-init runs there).
#
#   root ns (gateway)        ens5 172.31.16.10/20, default via 172.31.16.1 (the only NIC)
#   vpc   (VPC router)       gw0 172.31.16.1/20 + 169.254.169.254 (IMDSv2 server), sub2 172.31.32.1/20,
#                            up0 198.51.100.250/30; 1:1 NAT PUBLIC_IP <-> 172.31.16.10 (the EIP)
#   vpchost                  172.31.32.20/20 (another subnet of the VPC), whoami server :8080
#   inet  (the internet)     routes between vpc, home, c2 and far
#   home  (home NAT router)  wan0 198.51.100.2/30, lan0 192.168.1.1/24, masquerade
#   c1    (client behind NAT) 192.168.1.10/24
#   c3    (a second device behind the same home NAT) 192.168.1.11/24
#   c2    (client on the internet, no NAT of its own) 198.51.100.66/30
#   far   (a host on the internet) 192.0.2.100/24, whoami server :8080 (says who it sees)
#   aws   (AWS's public endpoints) 198.51.100.202/30: ssm.REGION.amazonaws.com on 443, the SSM
#         Parameter Store stand-in (e2e-aws-standin.service: moto; /etc/hosts names it; its
#         certificate's CA is in the image's trust store). IMDS serves the instance role's
#         credentials; the stand-in accepts requests signed with them and nothing else.
set -eu
LIB=/usr/local/lib/e2e
PUBLIC_IP=203.0.113.10
[ -r /srv/e2e/params.json ] && PUBLIC_IP=$(python3 -c 'import json;print(json.load(open("/srv/e2e/params.json")).get("public_ip","203.0.113.10"))')
# The region the gateway's configuration names (params.js: the stack's aws:region).
REGION=eu-west-1
[ -r /srv/e2e/params.json ] && REGION=$(python3 -c 'import json;print(json.load(open("/srv/e2e/params.json")).get("aws_region") or "eu-west-1")')
AWS_IP=198.51.100.202
GW_IP=172.31.16.10
nft() { LD_LIBRARY_PATH=/opt/testbed/usr/lib/x86_64-linux-gnu /opt/testbed/usr/sbin/nft "$@"; }
say() { echo "E2E-TESTBED: $*"; }
mkdir -p /run/e2e

modprobe -a veth bridge
for ns in vpc vpchost inet home c1 c2 c3 far aws; do ip netns add $ns; ip -n $ns link set lo up; done

# veth pair helper: link NS1 IF1 NS2 IF2 ("root" = the gateway's namespace)
link() {
  if [ "$1" = root ]; then ip link add "$2" type veth peer name "$4" netns "$3"
  else ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"; fi
  if [ "$1" = root ]; then ip link set "$2" up; else ip -n "$1" link set "$2" up; fi
  ip -n "$3" link set "$4" up
}
link root ens5 vpc gw0
link vpc sub2 vpchost eth0
link vpc up0 inet vpc0
link inet home0 home wan0
link home lan0 c1 eth0
link home lan1 c3 eth0
link inet c2-0 c2 eth0
link inet far0 far eth0
link inet aws0 aws eth0

# The gateway: one NIC with a private address, as on a Nitro instance. Forwarding, firewall and
# everything else is left to the product's cloud-config.
ip link set ens5 address 02:e2:e2:00:00:05
ip addr add $GW_IP/20 dev ens5
ip route add default via 172.31.16.1 dev ens5

ip -n vpc addr add 172.31.16.1/20 dev gw0
ip -n vpc addr add 169.254.169.254/32 dev gw0
ip -n vpc addr add 172.31.32.1/20 dev sub2
ip -n vpc addr add 198.51.100.250/30 dev up0
ip -n vpc route add default via 198.51.100.249
ip -n vpchost addr add 172.31.32.20/20 dev eth0
ip -n vpchost route add default via 172.31.32.1

ip -n inet addr add 198.51.100.249/30 dev vpc0
ip -n inet addr add 198.51.100.1/30 dev home0
ip -n inet addr add 198.51.100.65/30 dev c2-0
ip -n inet addr add 192.0.2.1/24 dev far0
ip -n inet addr add 198.51.100.201/30 dev aws0
ip -n inet route add 203.0.113.0/24 via 198.51.100.250

ip -n home addr add 198.51.100.2/30 dev wan0
ip -n home route add default via 198.51.100.1
# the home LAN is a bridge: every device on it shares the router's one public address
ip -n home link add br0 type bridge
ip -n home link set lan0 master br0; ip -n home link set lan1 master br0; ip -n home link set br0 up
ip -n home addr add 192.168.1.1/24 dev br0
ip -n c1 addr add 192.168.1.10/24 dev eth0
ip -n c1 route add default via 192.168.1.1
ip -n c3 addr add 192.168.1.11/24 dev eth0
ip -n c3 route add default via 192.168.1.1
ip -n c2 addr add 198.51.100.66/30 dev eth0
ip -n c2 route add default via 198.51.100.65
ip -n far addr add 192.0.2.100/24 dev eth0
ip -n far route add default via 192.0.2.1
ip -n aws addr add $AWS_IP/30 dev eth0
ip -n aws route add default via 198.51.100.201

# The SSM endpoint's name, as the gateway resolves it (it has no DNS server in the test bed). A
# second boot of the same disk finds the line of the first: replaced, not repeated.
sed -i '/# e2e-testbed$/d' /etc/hosts
echo "$AWS_IP ssm.$REGION.amazonaws.com # e2e-testbed" >> /etc/hosts

for ns in vpc inet home; do
  ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done

# The Elastic IP: a 1:1 NAT outside the instance (the instance never sees its public address).
ip netns exec vpc bash -c "$(declare -f nft); nft -f -" <<NFT
table ip eip {
  chain pre  { type nat hook prerouting priority dstnat; iifname "up0" ip daddr $PUBLIC_IP dnat to $GW_IP; }
  chain post { type nat hook postrouting priority srcnat; oifname "up0" ip saddr $GW_IP snat to $PUBLIC_IP; }
}
NFT
# A home router: many-to-one NAT of the LAN (so the client side does NAT-T too).
ip netns exec home bash -c "$(declare -f nft); nft -f -" <<'NFT'
table ip home {
  chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade; }
}
NFT

# Background services of the test bed (they outlive this oneshot unit: RemainAfterExit).
start_bg() { local name=$1; shift; setsid "$@" >"/run/e2e/$name.log" 2>&1 < /dev/null & echo $! > "/run/e2e/$name.pid"; }
start_bg imds    ip netns exec vpc python3 $LIB/imds.py --public-ip "$PUBLIC_IP" --local-ip $GW_IP --mac 02:e2:e2:00:00:05 \
  --region "$REGION" --credentials-file /run/e2e/imds-credentials.json
start_bg whoami-far ip netns exec far python3 $LIB/whoami.py 8080
start_bg whoami-vpchost ip netns exec vpchost python3 $LIB/whoami.py 8080
# The SSM stand-in starts after this unit (it needs the namespaces and IMDS's credentials file)
# and takes a while under TCG (moto's imports); cloud-init does not wait for it, as an instance
# does not wait for AWS: the gateway's sync retries until the endpoint answers.
systemctl start --no-block e2e-aws-standin.service
say "network built: gateway ens5 $GW_IP/20 via 172.31.16.1, public $PUBLIC_IP (1:1 NAT), IMDSv2 at 169.254.169.254, SSM stand-in ssm.$REGION.amazonaws.com -> $AWS_IP (starting)"
