#!/bin/sh
# Builds the QEMU guest of the gateway test: a gzipped cpio initramfs holding Debian's busybox (with the
# C library it links), the virtio-net modules of the given Debian kernel tree, and an /init that takes
# an address by DHCP, resolves a name through the gateway's DNS, downloads a file from the host through
# the gateway, prints its SHA-256, and powers off.
#   build-initramfs.sh KERNEL_TREE OUT.cpio.gz HTTP_PORT [BUSYBOX [MODULES]]
# BUSYBOX defaults to the host's /usr/bin/busybox; MODULES (space-separated, in load order) to the
# virtio-net driver. The v86 guest passes Debian's i386 busybox-static and the NE2000 driver instead.
set -eu
tree=$1
out=$2
port=$3
busybox=${4:-/usr/bin/busybox}
modules=${5:-virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/proc" "$work/sys" "$work/dev" "$work/modules" "$work/etc" "$work/tmp"
cp "$busybox" "$work/bin/busybox"
# The C library busybox links against, at the paths the dynamic loader expects (none when static).
for lib in $(ldd "$busybox" 2>/dev/null | awk '/=>/ { print $3 } /ld-linux/ { print $1 }'); do
  mkdir -p "$work$(dirname "$lib")"
  cp -L "$lib" "$work$lib"
done
version=$(ls "$tree/lib/modules")
for module in $modules; do
  cp "$(find "$tree/lib/modules/$version" -name "$module.ko" | head -n 1)" "$work/modules/"
done
cat > "$work/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
case "$1" in
  bound|renew)
    ip addr add "$ip/$mask" dev "$interface"
    ip route add default via "$router" dev "$interface"
    echo "nameserver $dns" > /etc/resolv.conf
    echo "LEASE ip=$ip router=$router dns=$dns"
    ;;
esac
exit 0
SCRIPT
cat > "$work/init" <<SCRIPT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $modules; do
  insmod /modules/\$m.ko
done
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -s /udhcpc.sh -n -q -t 10 -T 2
echo "RESOLVED \$(nslookup files.test 10.0.2.3 | awk '/^Address/ { a = \$NF } END { print a }')"
echo "DOWNLOAD \$(wget -q -O - http://files.test:$port/payload | sha256sum)"
echo GUEST-DONE
poweroff -f
SCRIPT
chmod +x "$work/init" "$work/udhcpc.sh"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
