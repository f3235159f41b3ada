#!/bin/sh
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring Secret Service,
# in a throw-away HOME, so the keychain tests use a real Secret Service and touch nothing else.
set -eu
KH=$(mktemp -d)
trap 'rm -rf "$KH"' EXIT
export DATUMCTL_KEYCHAIN_HOME="$KH"
exec dbus-run-session -- sh -c '
  export XDG_RUNTIME_DIR="$DATUMCTL_KEYCHAIN_HOME/run"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  eval "$(printf test-password | HOME=$DATUMCTL_KEYCHAIN_HOME gnome-keyring-daemon --unlock --components=secrets --daemonize)"
  export GNOME_KEYRING_CONTROL
  exec "$@"
' sh "$@"
