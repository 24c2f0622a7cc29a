#!/usr/bin/env python3
# Known answers for tests/unit/e2e_known_answer_test.cpp, computed from
# docs/e2e.md by a second implementation that shares no code with the C++ one:
# Python's hashlib/hmac and the `cryptography` package (X25519, Ed25519,
# ChaCha20-Poly1305), with HChaCha20 written out here for XChaCha20.
#
#   python3 tools/client/e2e/known_answers.py
#
# prints the values the test pins. Fixed private keys stand in for random ones.

import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

RAW = serialization.Encoding.Raw
RAW_PUB = serialization.PublicFormat.Raw

X3DH_INFO = b"parley-e2e-v1 X3DH"
ROOT_INFO = b"parley-e2e-v1 root chain"
MESSAGE_INFO = b"parley-e2e-v1 message key"
SPK_CONTEXT = b"parley-e2e-v1 signed prekey"


def hkdf(salt, ikm, info, length):
    if not salt:
        salt = bytes(32)
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def x25519(priv, pub):
    return X25519PrivateKey.from_private_bytes(priv).exchange(
        X25519PublicKey.from_public_bytes(pub))


def x25519_pub(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(RAW, RAW_PUB)


P = 2**255 - 19


def ed25519_pk_to_x25519(pk):
    # Montgomery u = (1 + y) / (1 - y) mod p; y is the key without its sign bit.
    y = int.from_bytes(pk, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, P - 2, P) % P
    return u.to_bytes(32, "little")


def ed25519_sk_to_x25519(seed):
    return hashlib.sha512(seed).digest()[:32]  # X25519 clamps it


def rotl(x, n):
    return ((x << n) & 0xFFFFFFFF) | (x >> (32 - n))


def hchacha20(key, nonce16):
    s = list(struct.unpack("<4I", b"expand 32-byte k")) + list(struct.unpack("<8I", key)) \
        + list(struct.unpack("<4I", nonce16))

    def qr(a, b, c, d):
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 16)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 12)
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 8)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 7)

    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xchacha20poly1305_encrypt(key, nonce24, plaintext, aad):
    subkey = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(subkey).encrypt(bytes(4) + nonce24[16:], plaintext, aad)


def encode_x25519(k):
    return b"\x05" + k


def encode_ed25519(k):
    return b"\xed" + k


def main():
    # HChaCha20 test vector of draft-irtf-cfrg-xchacha-03, section 2.2.1.
    assert hchacha20(bytes(range(32)), bytes.fromhex("000000090000004a0000000031415927")).hex() \
        == "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"

    # The KDFs on constant inputs.
    print("x3dh(0x55 * 96)  ", hkdf(bytes(32), b"\xff" * 32 + b"\x55" * 96, X3DH_INFO, 32).hex())
    okm = hkdf(b"\x22" * 32, b"\x33" * 32, ROOT_INFO, 64)
    print("root(0x22, 0x33) ", okm[:32].hex(), okm[32:].hex())
    print("chain(0x11) mk   ", hmac.new(b"\x11" * 32, b"\x01", hashlib.sha256).hexdigest())
    print("chain(0x11) ck   ", hmac.new(b"\x11" * 32, b"\x02", hashlib.sha256).hexdigest())
    okm = hkdf(bytes(32), b"\x44" * 32, MESSAGE_INFO, 56)
    print("message(0x44)    ", okm[:32].hex(), okm[32:].hex())

    # X3DH and Alice's first message, from fixed private keys.
    seed_a = bytes(range(1, 33))
    seed_b = bytes(range(33, 65))
    spk_priv = bytes(range(65, 97))
    otk_priv = bytes(range(97, 129))
    ek_priv = bytes(range(129, 161))
    ratchet_priv = bytes(range(161, 193))

    ik_a = Ed25519PrivateKey.from_private_bytes(seed_a).public_key().public_bytes(RAW, RAW_PUB)
    bob = Ed25519PrivateKey.from_private_bytes(seed_b)
    ik_b = bob.public_key().public_bytes(RAW, RAW_PUB)
    spk = x25519_pub(spk_priv)
    otk = x25519_pub(otk_priv)
    ek = x25519_pub(ek_priv)
    assert x25519_pub(ed25519_sk_to_x25519(seed_a)) == ed25519_pk_to_x25519(ik_a)

    spk_id, otk_id, signed_at = 7, 42, 1700000000000
    signed = SPK_CONTEXT + encode_x25519(spk) + struct.pack(">I", spk_id) + struct.pack(">q", signed_at)
    print("IK_B             ", ik_b.hex())
    print("SPK_B            ", spk.hex())
    print("signature        ", bob.sign(signed).hex())

    dh1 = x25519(ed25519_sk_to_x25519(seed_a), spk)
    dh2 = x25519(ek_priv, ed25519_pk_to_x25519(ik_b))
    dh3 = x25519(ek_priv, spk)
    dh4 = x25519(ek_priv, otk)
    # Both sides' view of each DH must agree (a check of this script).
    assert dh1 == x25519(spk_priv, ed25519_pk_to_x25519(ik_a))
    assert dh2 == x25519(ed25519_sk_to_x25519(seed_b), ek)
    sk = hkdf(bytes(32), b"\xff" * 32 + dh1 + dh2 + dh3 + dh4, X3DH_INFO, 32)
    sk3 = hkdf(bytes(32), b"\xff" * 32 + dh1 + dh2 + dh3, X3DH_INFO, 32)
    ad = encode_ed25519(ik_a) + encode_ed25519(ik_b)
    print("IK_A             ", ik_a.hex())
    print("EK_A             ", ek.hex())
    print("SK (with OPK)    ", sk.hex())
    print("SK (without OPK) ", sk3.hex())

    # RatchetInitAlice with a fixed DHs, then RatchetEncrypt of one message.
    okm = hkdf(sk, x25519(ratchet_priv, spk), ROOT_INFO, 64)
    cks = okm[32:]
    mk = hmac.new(cks, b"\x01", hashlib.sha256).digest()
    keys = hkdf(bytes(32), mk, MESSAGE_INFO, 56)
    dh = x25519_pub(ratchet_priv)
    header = b"\x01" + encode_x25519(dh) + struct.pack(">II", 0, 0)
    ct = xchacha20poly1305_encrypt(keys[:32], keys[32:], b"hello bob", ad + header)
    print("ratchet key      ", dh.hex())
    print("ciphertext       ", ct.hex())

    # Safety number half of IK_A for "alice", and the full number with IK_B "bob".
    def half(key, user):
        h = hashlib.sha512(b"\x00\x00" + encode_ed25519(key) + user).digest()
        for _ in range(5200):
            h = hashlib.sha512(h + encode_ed25519(key)).digest()
        return "".join("%05d" % (int.from_bytes(h[i:i + 5], "big") % 100000)
                       for i in range(0, 30, 5))
    a, b = half(ik_a, b"alice"), half(ik_b, b"bob")
    print("safety number    ", a + b if a < b else b + a)


if __name__ == "__main__":
    main()
