#!/bin/bash
# Runs inside the freshly debootstrapped node rootfs (chroot) to turn it into a kind node base:
# systemd as a container init, only the units a node needs, containerd and kubelet enabled.
set -o errexit -o nounset -o pipefail

# Boot to multi-user, and start nothing the package defaults would start in a container.
systemctl set-default multi-user.target
rm -f /etc/systemd/system/*.wants/* /lib/systemd/system/multi-user.target.wants/* \
  /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
  /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service
for unit in systemd-binfmt.service systemd-udevd.service systemd-modules-load.service getty.target \
  console-getty.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
  fstrim.timer dpkg-db-backup.timer systemd-timesyncd.service; do
  systemctl mask "${unit}" >/dev/null 2>&1 || true
done

# The kernel ring buffer belongs to the host; reading it inside nodes only adds noise to journals.
mkdir -p /etc/systemd/journald.conf.d
printf '[Journal]\nReadKMsg=no\n' >/etc/systemd/journald.conf.d/volcert.conf

systemctl enable containerd.service kubelet.service
mkdir -p /etc/kubernetes/manifests /kind /etc/cni/net.d
# Nothing in a node image should claim an identity; the entrypoint creates one per node.
: >/etc/machine-id
