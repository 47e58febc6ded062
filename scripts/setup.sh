#!/usr/bin/env bash
# Set-up for a fresh Debian/Ubuntu machine: system packages (installed when run as root, listed
# otherwise), then a virtualenv in .venv with vendorscan and its test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the scanner and its test servers need.
PACKAGES=(
  python3 python3-venv python3-dev gcc   # the virtualenv; pylibacl compiles against libacl
  libacl1-dev acl                         # POSIX ACLs (pylibacl, setfacl in tests)
  unixodbc unixodbc-dev libsqliteodbc     # ODBC and the embedded SQLite driver
  odbc-postgresql odbc-mariadb            # ODBC drivers for PostgreSQL and MariaDB targets
  postgresql mariadb-server               # throwaway test servers the ODBC tests start
  openssh-server samba smbclient          # SFTP and SMB servers the share tests start
  dovecot-imapd                           # the IMAP server the mailbox tests start
  samba-vfs-modules                       # acl_xattr: the SMB tests keep NT ACLs as Windows servers do
  ripgrep                                 # bench/ compares against it
  curl                                    # bench/webdav_speed.py compares the WebDAV connector against it
  chromium                                # the HTML report is tested in a real headless browser
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-dan tesseract-ocr-swe tesseract-ocr-nor tesseract-ocr-fin  # OCR of screenshots
  fonts-dejavu-core                       # the OCR tests draw their screenshots in DejaVu Sans
  catdoc postgresql-client               # legacy .doc/.ppt text (catdoc, catppt); pg_dump custom files (pg_restore)
  mdbtools pst-utils                      # Access .mdb/.accdb tables (mdb-tables, mdb-export); Outlook .pst/.ost (readpst)
  samba-ad-dc samba-ad-provision slapd    # directory tests: a throwaway Samba AD DC and OpenLDAP (rfc2307)
)
# Daemons these packages start on a systemd machine; the tests run their own on loopback, and the Samba AD DC
# needs ports 389, 636 and 445 free.
DISTRO_DAEMONS=(smbd nmbd samba-ad-dc winbind slapd)

# npm fetches axe-core for the report's accessibility test (a Node.js that brings its own npm counts too).
command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      for d in "${DISTRO_DAEMONS[@]}"; do systemctl disable --now "$d" >/dev/null 2>&1 || true; done
    fi
  else
    echo "setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "setup: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 2
  fi
fi

PY=""
for cand in python3.13 python3.12 python3.11 python3; do
  if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PY=$(command -v "$cand"); break
  fi
done
if [ -z "$PY" ]; then
  echo "setup: vendorscan needs Python 3.11 or newer (Debian 12 and Ubuntu 24.04 have it)" >&2
  exit 2
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.vendorscan-installed
# The compiled hot path (checks/*.c) is built by this install: a change to it installs again.
want=$(cat pyproject.toml checks/*.c checks/*.h | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing vendorscan into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  echo "$want" > "$stamp"
fi
# axe-core (MPL-2.0, test only): the HTML report's WCAG check runs it in the headless browser.
AXE_VERSION=4.14.1
if [ "$(cat .venv/npm/.axe-version 2>/dev/null)" != "$AXE_VERSION" ]; then
  npm install --silent --no-audit --no-fund --prefix .venv/npm "axe-core@$AXE_VERSION" >/dev/null
  echo "$AXE_VERSION" > .venv/npm/.axe-version
fi
# Azurite (MIT, test only): Microsoft's Azure Blob Storage emulator, the server tests/test_azure.py starts.
# 3.35 is the last release that runs on Node 18/20 (3.36 needs Node 21, 3.37 Node 22).
AZURITE_VERSION=3.35.0
if [ "$(cat .venv/npm/.azurite-version 2>/dev/null)" != "$AZURITE_VERSION" ]; then
  npm install --silent --no-audit --no-fund --save-exact --prefix .venv/npm "azurite@$AZURITE_VERSION" >/dev/null
  echo "$AZURITE_VERSION" > .venv/npm/.azurite-version
fi
