// HKDF pinned to RFC 5869's test vectors, and the protocol's KDFs pinned to values
// computed independently by tools/client/e2e/known_answers.py.
#include "tools/client/e2e/kdf.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace parley;
using namespace parley::e2e;

namespace {

std::string range_bytes(int first, int last) {
  std::string out;
  for (int i = first; i <= last; ++i)
    out += static_cast<char>(i);
  return out;
}

std::string hex_of(const key32& k) {
  return to_hex(k.view());
}

key32 filled(char c) {
  return *key32::from(std::string(32, c));
}

} // namespace

TEST_CASE("e2e hkdf - RFC 5869 test case 1") {
  auto ikm = std::string(22, '\x0b');
  auto salt = range_bytes(0x00, 0x0c);
  auto info = range_bytes(0xf0, 0xf9);
  auto prk = kdf::hkdf_extract(salt, ikm);
  CHECK(hex_of(prk) == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  std::string okm(42, '\0');
  REQUIRE(kdf::hkdf_expand(prk, info, reinterpret_cast<unsigned char*>(okm.data()),
                           okm.size()));
  CHECK(to_hex(okm)
        == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  std::string again(42, '\0');
  REQUIRE(kdf::hkdf(salt, ikm, info, reinterpret_cast<unsigned char*>(again.data()),
                    again.size()));
  CHECK(again == okm);
}

TEST_CASE("e2e hkdf - RFC 5869 test case 3 (empty salt and info), and its length limit") {
  auto ikm = std::string(22, '\x0b');
  auto prk = kdf::hkdf_extract("", ikm);
  CHECK(hex_of(prk) == "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
  std::string okm(42, '\0');
  REQUIRE(kdf::hkdf("", ikm, "", reinterpret_cast<unsigned char*>(okm.data()), okm.size()));
  CHECK(to_hex(okm)
        == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");

  std::string big(255 * 32 + 1, '\x5a');
  auto out = reinterpret_cast<unsigned char*>(big.data());
  CHECK_FALSE(kdf::hkdf_expand(prk, "", out, big.size()));
  CHECK(big == std::string(big.size(), '\x5a'));  // nothing written
  CHECK(kdf::hkdf_expand(prk, "", out, 255 * 32));
}

TEST_CASE("e2e kdfs - X3DH, KDF_RK, KDF_CK and message keys give the documented values") {
  CHECK(hex_of(kdf::x3dh(std::string(96, '\x55')))
        == "27e9c912a74657bd885fb0f6d8736215e48dac7ffff5c864a7b7944a3a6bdf43");

  auto root = kdf::root(filled('\x22'), filled('\x33'));
  CHECK(hex_of(root.root) == "27307a76cac70b9a3c0f561d6be83652b4fabcd1db79890534bce0f58fbba483");
  CHECK(hex_of(root.chain) == "bfddb39a24a41ef9118866c6f5e07dafb236d2039b11df077fc17d8c7d8d8ef5");

  auto chain = kdf::chain(filled('\x11'));
  CHECK(hex_of(chain.message) == "c4ede064b5f2a51225b2175e5b84fb73f9cec689ac3d912ac4878f7ebeab0149");
  CHECK(hex_of(chain.chain) == "ed50b271f4852277c8218e209858d8bd32a3228a9e4fb6b5a16fb9b4755c53bc");

  auto msg = kdf::message(filled('\x44'));
  CHECK(hex_of(msg.key) == "9dfad38de78932799e88a4709113ae200af9b01cbad971283a381f44a03eae74");
  CHECK(to_hex(msg.nonce.view()) == "7bebd8fd80bb39eb5892f97448b916bfa0cb510ea77bd345");
}
