#!/usr/bin/env bash
# Writes one valid client frame of each kind into DIR, encoded by capnp's own
# tool from the schema: seeds for the fuzzer, and proof that the framing is
# Cap'n Proto's standard one.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:?usage: make-seeds.sh DIR}"
mkdir -p "$dir"
id='0x"00112233445566778899aabbccddeeff"'
key='0x"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"'
sig="0x\"$(printf '%0128d' 0)\""
i=0
while IFS= read -r frame; do
  printf '\x07' > "$dir/seed-$i"   # the fuzzer's first byte: the read size
  echo "$frame" | capnp encode "$root/schema/protocol.capnp" ClientFrame >> "$dir/seed-$i"
  i=$((i + 1))
done <<FRAMES
(register = (user = "alice", identityKey = $key))
(login = (user = "alice"))
(prove = (signature = $sig))
(send = (id = $id, to = "bob", payload = "hello"))
(ack = (peer = "alice", ids = [$id, $id], state = read))
(ackReceipts = (seqs = [1, 2, 3]))
(heartbeat = void)
(lastSeen = (user = "bob"))
(watch = (users = ["bob", "carol"]))
(logout = void)
(mediaToken = (action = upload, sha256 = $key, size = 1000, recipients = ["bob"]))
FRAMES
echo "$i seeds in $dir"
