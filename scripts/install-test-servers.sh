#!/usr/bin/env bash
# Installs the real directory servers the LDAP tests and benchmarks start on loopback:
# OpenLDAP (slapd, ldap-utils) and a Samba AD domain controller (samba, samba-ad-dc,
# samba-ad-provision for the schema files provision needs, ldb-tools), and Debian's Chromium,
# which the HTML plan and report tests drive headless through playwright-core (never a browser
# that a test tool downloads).
#
# Idempotent: does nothing when every package is already installed. Runs `apt-get update` once,
# only when something is missing. Package postinst scripts start system daemons (slapd on :389,
# samba-ad-dc, smbd, nmbd, winbind); the tests never use them, so they are stopped and disabled
# again and nothing stays listening. The tests start their own servers, in temp dirs, on
# 127.0.0.1 only (test/servers/).
#
# Serialised with flock, so test files that call it at the same time do not fight over dpkg.
set -euo pipefail

PACKAGES=(slapd ldap-utils samba samba-ad-dc samba-ad-provision samba-dsdb-modules ldb-tools winbind openssl chromium)
# Services the packages above may start on install.
SERVICES=(slapd samba-ad-dc smbd nmbd winbind samba)

missing() {
  local p
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$p"
    fi
  done
}

stop_services() {
  local s pid
  for s in "${SERVICES[@]}"; do
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      systemctl stop "$s" >/dev/null 2>&1 || true
      systemctl disable "$s" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$s" ]; then
      "/etc/init.d/$s" stop >/dev/null 2>&1 || true
    fi
    if command -v update-rc.d >/dev/null 2>&1; then update-rc.d -f "$s" remove >/dev/null 2>&1 || true; fi
  done
  # Without systemd the init scripts may not know the daemon (no pid file): stop the system
  # instances by the pid files the Debian packages use, never by name, so a test server is not hit.
  for pidfile in /run/slapd/slapd.pid /run/samba/samba.pid /run/samba/smbd.pid /run/samba/nmbd.pid /run/samba/winbindd.pid; do
    if [ -f "$pidfile" ]; then
      pid="$(cat "$pidfile" 2>/dev/null || true)"
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
    fi
  done
}

main() {
  if [ -z "$(missing)" ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-servers: missing packages: $(missing | tr '\n' ' ')" >&2
    echo "install-test-servers: run as root (or with sudo) to install them" >&2
    return 1
  fi
  # policy-rc.d exit 101 tells invoke-rc.d not to start any service during the install.
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY"
    chmod +x "$POLICY"
    CREATED_POLICY=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # slapd asks for a domain and admin password; the tests use their own config, so no questions.
  echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
  apt-get update -qq
  # shellcheck disable=SC2046
  apt-get install -y -qq --no-install-recommends $(missing) >/dev/null
  stop_services
  echo "install-test-servers: installed ${PACKAGES[*]}"
}

POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
cleanup() { if [ "$CREATED_POLICY" = 1 ]; then rm -f "$POLICY"; fi; }
trap cleanup EXIT

exec 9>/tmp/entrasync-install-test-servers.lock
flock 9
main
