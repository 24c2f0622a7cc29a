#!/usr/bin/env bash
# Makes a self-signed certificate for TLS at HAProxy in tests and local
# clusters: key and certificate in one PEM file (HAProxy's format), valid for
# localhost and 127.0.0.1. Clients trust it with --ca-file FILE.
#   deploy/make-test-cert.sh FILE
set -euo pipefail
out="${1:?usage: make-test-cert.sh FILE}"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$out" -out "$out" 2> /dev/null
chmod 600 "$out"
