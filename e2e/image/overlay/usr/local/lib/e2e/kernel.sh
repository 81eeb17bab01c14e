# shellcheck shell=bash  # sourced by harness.sh (bash), never run by itself
# Test harness (not product), sourced by harness.sh: what the gateway's first boot did about the
# image's kernel (the product's vpn-gateway-kernel), per image variant (/etc/e2e-image-variant,
# written by e2e/image/build.sh).
IMAGE_VARIANT=$(cat /etc/e2e-image-variant 2>/dev/null || echo unknown)
KLOG=/var/log/cloud-init-output.log

# what the product's kernel step said, on every boot so far (cloud-init-output.log is appended)
klog() { grep -a '^vpn-gateway-kernel: ' "$KLOG" 2>/dev/null; }
klog_count() { klog | grep -cE "$1"; }
# the same for a literal text: kernel releases and package names carry regex characters
# (Debian 13's 6.12.117+deb13-amd64)
klog_count_text() { klog | grep -cF -- "$1"; }
# what the kernel step changed: package installs/removals and its own reboot
KACTIONS='installing|rebooting into|removing the cloud kernel'
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q ' installed$'; }
module_refs() { awk -v m="$1" '$1 == m {print $3}' /proc/modules; }
apt_history_count() { grep -c '^Start-Date' /var/log/apt/history.log 2>/dev/null || echo 0; }

# image_kernel_checks first|reboot: the checks this file reports on this image variant, for the
# harness's PLAN line (check_image_kernel on the first boot, check_kernel_not_redone after the reboot)
image_kernel_checks() {
  case "$1:$IMAGE_VARIANT" in
    first:ubuntu) echo ubuntu_extra_modules ;;
    first:ubuntu-minimal) echo ubuntu_minimal_extra_modules ;;
    first:debian-cloud) echo debian_kernel_switched ;;
    first:*) echo kernel_nothing_installed ;;
    reboot:debian-cloud) echo reboot_kernel_not_redone ;;
  esac
}

# check_image_kernel: phase 1, with user 1's session up
check_image_kernel() {
  local kver pkg meta owner refs why="" name
  kver=$(uname -r)
  info "kernel step log: $(klog | tr '\n' ';' | cut -c1-600)"
  info "xl2tpd: $(journalctl -b -u xl2tpd -o cat --no-pager 2>/dev/null | grep -iE 'kernel support|not detected' | tail -n 1)"
  case "$IMAGE_VARIANT" in
    ubuntu|ubuntu-minimal)
      name=$(image_kernel_checks first)
      pkg="linux-modules-extra-$kver"; meta="linux-modules-extra-${kver#*-*-}"
      pkg_installed "$pkg" || why="$why $pkg not installed;"
      pkg_installed "$meta" || why="$why $meta (keeps later kernels' extras) not installed;"
      owner=$(dpkg -S "/lib/modules/$kver/kernel/net/l2tp/l2tp_ppp.ko" 2>/dev/null | cut -d: -f1)
      [ "$owner" = "$pkg" ] || why="$why l2tp_ppp.ko owned by '${owner}';"
      if [ "$IMAGE_VARIANT" = ubuntu-minimal ]; then
        owner=$(dpkg -S "/lib/modules/$kver/kernel/drivers/net/ppp/ppp_generic.ko" 2>/dev/null | cut -d: -f1)
        [ "$owner" = "$pkg" ] || why="$why ppp_generic.ko owned by '${owner}';"
      fi
      # the session runs on the kernel's L2TP data path: its PPPoL2TP socket holds l2tp_ppp
      refs=$(module_refs l2tp_ppp)
      [ "${refs:-0}" -gt 0 ] || why="$why l2tp_ppp not in use by the session (refs '${refs}');"
      [ "$(klog_count_text "installing $pkg")" = 1 ] || why="$why the kernel step did not log one install of $pkg;"
      if [ -z "$why" ]; then check "$name" PASS "first boot installed $pkg and $meta; l2tp_ppp$( [ "$IMAGE_VARIANT" = ubuntu-minimal ] && echo ' and ppp_generic') from $pkg; the session uses kernel L2TP (l2tp_ppp refs $refs)"
      else check "$name" FAIL "$why"; fi
      ;;
    debian-cloud)
      local cloud
      cloud=$(dpkg-query -W -f='${Package} ${Status}\n' 'linux-image-*-cloud-*' 2>/dev/null | awk '$NF == "installed" {print $1}' | tr '\n' ' ')
      case "$kver" in *-cloud-*) why="$why still running the cloud kernel $kver;" ;; esac
      [ -z "$cloud" ] || why="$why cloud kernel still installed: $cloud;"
      [ "$(klog_count 'cloud-amd64 is built without PPP; installing linux-image-amd64')" = 1 ] || why="$why no single 'installing linux-image-amd64' from the kernel step;"
      [ "$(klog_count_text "rebooting into $kver")" = 1 ] || why="$why no single 'rebooting into $kver';"
      [ "$(klog_count 'removing the cloud kernel')" = 1 ] || why="$why the cloud kernel was not removed once;"
      grep -m1 -E '^\s*linux\s' /boot/grub/grub.cfg | grep -q "vmlinuz-$kver " || why="$why GRUB's first entry does not boot $kver: $(grep -m1 -E '^\s*linux\s' /boot/grub/grub.cfg);"
      [ "$(module_refs ppp_generic)" -gt 0 ] 2>/dev/null || why="$why ppp_generic not in use;"
      if [ -z "$why" ]; then check debian_kernel_switched PASS "booted $(klog | grep -o 'kernel [^ ]*-cloud-amd64' | head -n 1 | cut -d' ' -f2) (no PPP), installed the generic kernel, rebooted once into $kver, removed the cloud kernel; GRUB's default boots $kver; the session uses ppp_generic"
      else check debian_kernel_switched FAIL "$why"; fi
      ;;
    *)
      [ "$(klog_count "$KACTIONS")" = 0 ] || why="$why the kernel step changed something: $(klog | grep -E "$KACTIONS" | tr '\n' ';');"
      klog | grep -q "kernel $kver can carry L2TP/IPsec (kernel L2TP)" || why="$why no 'can carry L2TP/IPsec (kernel L2TP)' line;"
      if [ -z "$why" ]; then check kernel_nothing_installed PASS "kernel $kver has every module: nothing installed, no reboot"
      else check kernel_nothing_installed FAIL "$why"; fi
      ;;
  esac
}

# what phase 2 compares against (written into phase1.env)
kernel_phase1_env() {
  echo "P1_KVER='$(uname -r)'"
  echo "P1_KACTIONS='$(klog_count "$KACTIONS")'"
  echo "P1_KCARRY='$(klog_count 'can carry L2TP/IPsec')'"
  echo "P1_APT_RUNS='$(apt_history_count)'"
}

# check_kernel_not_redone: phase 2 (after a reboot): the kernel step ran on this boot, found
# nothing to do, and nothing was installed or removed since phase 1
check_kernel_not_redone() {
  local why=""
  [ "$(uname -r)" = "$P1_KVER" ] || why="$why kernel $(uname -r), was $P1_KVER;"
  [ "$(klog_count "$KACTIONS")" = "$P1_KACTIONS" ] || why="$why the kernel step acted again: $(klog | grep -E "$KACTIONS" | tail -n 2 | tr '\n' ';');"
  [ "$(klog_count 'can carry L2TP/IPsec')" -gt "$P1_KCARRY" ] || why="$why the kernel step did not run on this boot;"
  [ "$(apt_history_count)" = "$P1_APT_RUNS" ] || why="$why apt ran $(( $(apt_history_count) - P1_APT_RUNS )) time(s) since phase 1;"
  if [ -z "$why" ]; then check reboot_kernel_not_redone PASS "still $P1_KVER; the kernel step ran on this boot and changed nothing; no apt run since phase 1"
  else check reboot_kernel_not_redone FAIL "$why"; fi
}
