#!/usr/bin/env bash
# The real parts the tests use: util-linux's logger, rsyslog with its TLS (gnutls) driver, the
# openssl CLI that makes test certificates, Prometheus, Prometheus Alertmanager, redis-server, and
# Chromium for the status page (driven headless by playwright-core). Installs what is missing from
# Debian's packages when it can (root with apt-get, as in CI); otherwise says what is missing,
# and those tests are skipped outside CI (in CI they fail).
set -euo pipefail
missing=()
command -v logger >/dev/null 2>&1 || missing+=(bsdutils)
command -v rsyslogd >/dev/null 2>&1 || missing+=(rsyslog)
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || [ -n "$(find /usr/lib -name lmnsd_gtls.so 2>/dev/null | head -1)" ] || missing+=(rsyslog-gnutls)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test dependencies: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: missing test dependencies (${missing[*]}); install them (apt-get install ${missing[*]}) to run the tests that use them" >&2
fi
