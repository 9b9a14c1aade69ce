#!/usr/bin/env bash
# Build a systemd test-host image with debootstrap and `docker import` it (Docker Hub is unreachable).
#   tests/hosts/build-image.sh bookworm|trixie
# The image is tagged containerless-zipapp-host:<suite>; an image built from the same recipe is reused.
set -euo pipefail

suite=${1:?usage: $0 bookworm|trixie}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)
# postgresql (15 on Debian 12, 17 on 13) for the database scenario and the demo, which start it; python3-psycopg2
# for community.postgresql's modules; libpq5 (pulled by both) is what the example's psycopg 3 loads
# libnss-systemd (in nsswitch.conf, as on a standard Debian install): the dynamic users resolve, so PostgreSQL
# can tell who is on the other end of its socket (peer authentication)
packages=systemd,systemd-sysv,dbus,libnss-systemd,python3,procps,ca-certificates,sudo,iproute2,curl,postgresql,python3-psycopg2
# The recipe's hash is a label of the image: change the recipe and the image is rebuilt.
recipe=$(cat "$0" "$here/rshared.service" | sha256sum | cut -c1-12)
tag=containerless-zipapp-host:$suite

if [ "$(docker image inspect -f '{{ index .Config.Labels "recipe" }}' "$tag" 2>/dev/null)" = "$recipe" ]; then
  echo "$tag is up to date (recipe $recipe)"
  exit 0
fi

work=$(mktemp -d /var/tmp/zipapp-host-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "debootstrap $suite into $work/root ..."
start=$(date +%s)
debootstrap --variant=minbase --include="$packages" "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
root=$work/root
# Shared mounts inside the container: systemd credentials (LoadCredential=) need them.
install -m 0644 "$here/rshared.service" "$root/etc/systemd/system/zipapp-rshared.service"
ln -sf /etc/systemd/system/zipapp-rshared.service "$root/etc/systemd/system/sysinit.target.wants/zipapp-rshared.service"
# A container has no console to log in on, no hardware clock and no kernel modules to load.
for unit in getty@tty1.service console-getty.service systemd-modules-load.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
echo "test-host" >"$root/etc/hostname"
# PostgreSQL stays off unless a test starts it (every other scenario boots faster without it). It listens on its
# unix socket only: the test hosts share the machine's network, so two servers on 127.0.0.1:5432 would collide
# (and pg_createcluster picks the next free port when 5432 is taken while the image is built).
rm -f "$root/etc/systemd/system/multi-user.target.wants/postgresql.service"
sed -i -e 's/^port = [0-9]*/port = 5432/' -e "s/^#\?listen_addresses = .*/listen_addresses = ''/" \
  "$root"/etc/postgresql/*/main/postgresql.conf
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
tar -C "$root" -c . | docker import \
  -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' \
  -c "LABEL recipe=$recipe" -m "containerless.zipapp test host ($suite)" - "$tag" >/dev/null
echo "built $tag (recipe $recipe) in $(( $(date +%s) - start )) s"
