# What a media message carries: everything its recipient needs to fetch the
# encrypted blob from the media service, check it and decrypt it (docs/media.md).
#
# It is the body of a message, after a 4-byte marker that no UTF-8 text can
# begin with (tools/client/media_ref.hpp), and travels like any body: sealed in
# the end-to-end envelope (docs/e2e.md). The key never travels any other way.
#
# One encode and one decode, in tools/client/media_ref.cpp. Evolve it the Cap'n
# Proto way: add fields, never renumber; a decoder refuses a version it does not
# speak.

@0xd3a8f1c2b4e59a07;

$import "/capnp/c++.capnp".namespace("parley::media::schema");

struct MediaReference {
  version @0 :UInt8;          # 1
  id @1 :Data;                # SHA-256 of the encrypted blob, 32 bytes: its
                              # name on the media service (/media/<hex>)
  mimeType @2 :Text;          # e.g. "image/jpeg"
  size @3 :UInt64;            # bytes of the file (the plaintext)
  encryptedSize @4 :UInt64;   # bytes of the blob
  key @5 :Data;               # 32 bytes: the file's own random key
                              # (XChaCha20-Poly1305 secretstream)
  digest @6 :Data;            # SHA-256 of the plaintext, 32 bytes, checked
                              # after decryption
  chunkSize @7 :UInt32;       # plaintext bytes per secretstream message
  fileName @8 :Text;          # the sender's file name, no folders; may be empty
  thumbnail @9 :Data;         # a small preview (e.g. JPEG); empty if none
}
