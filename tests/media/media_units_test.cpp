// The media pieces on their own: tokens, ranges, flag units, the media
// reference, the file encryption and the blob store.

#include "media/blob_store.hpp"
#include "media/ranges.hpp"
#include "media/sha256.hpp"
#include "media/token.hpp"
#include "media/units.hpp"
#include "support/temp_dir.hpp"
#include "tools/client/media_crypto.hpp"
#include "tools/client/media_http.hpp"
#include "tools/client/media_ref.hpp"

#include <catch2/catch.hpp>
#include <sodium.h>

#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace parley;
using namespace parley::media;
using namespace parley::test;

namespace {

std::string random_bytes(size_t n) {
  std::string s(n, '\0');
  randombytes_buf(s.data(), s.size());
  return s;
}

std::string digest_of(const std::string& bytes) {
  sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.finish();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

token_claims upload_claims(const std::string& sha) {
  token_claims c;
  c.what = action::upload;
  c.user = "alice";
  c.sha256 = sha;
  c.size = 12345;
  c.recipients = {"bob", "carol.x"};
  c.expires = 2000000000;
  return c;
}

} // namespace

// -- tokens ------------------------------------------------------------------------

TEST_CASE("media tokens: what is signed verifies, with every claim intact") {
  token_key key{"a-shared-key-of-some-length"};
  auto sha = digest_of("blob");
  auto text = key.sign(upload_claims(sha));
  CHECK(text.rfind("v1:up:alice:" + to_hex(sha) + ":12345:bob,carol.x:2000000000:", 0) == 0);
  auto checked = key.verify(text, 1999999999);
  REQUIRE(std::holds_alternative<token_claims>(checked));
  auto& c = std::get<token_claims>(checked);
  CHECK(c.what == action::upload);
  CHECK(c.user == "alice");
  CHECK(c.sha256 == sha);
  CHECK(c.size == 12345);
  CHECK(c.recipients == std::vector<std::string>{"bob", "carol.x"});

  token_claims down;
  down.user = "bob";
  down.sha256 = sha;
  down.expires = 2000000000;
  auto d = key.verify(key.sign(down), 0);
  REQUIRE(std::holds_alternative<token_claims>(d));
  CHECK(std::get<token_claims>(d).what == action::download);
  CHECK(std::get<token_claims>(d).recipients.empty());
}

TEST_CASE("media tokens: forged, altered, expired and malformed ones are refused") {
  token_key key{"a-shared-key-of-some-length"};
  token_key other{"another-key-entirely-000"};
  auto sha = digest_of("blob");
  auto text = key.sign(upload_claims(sha));
  auto error_of = [&](const std::string& t, int64_t now = 0) {
    auto r = key.verify(t, now);
    REQUIRE(std::holds_alternative<token_error>(r));
    return std::get<token_error>(r);
  };
  CHECK(error_of(other.sign(upload_claims(sha))) == token_error::forged);
  // Any changed claim breaks the MAC: the size, the user, the recipients.
  auto bigger = text;
  bigger.replace(bigger.find(":12345:"), 7, ":99999:");
  CHECK(error_of(bigger) == token_error::forged);
  auto mallory = text;
  mallory.replace(mallory.find(":alice:"), 7, ":malry:");
  CHECK(error_of(mallory) == token_error::forged);
  auto fewer = text;
  fewer.replace(fewer.find("bob,carol.x"), 11, "bob");
  CHECK(error_of(fewer) == token_error::forged);
  CHECK(error_of(text, 2000000000) == token_error::expired);
  CHECK(error_of("") == token_error::malformed);
  CHECK(error_of("v1:up:alice") == token_error::malformed);
  CHECK(error_of(text.substr(0, text.size() - 1)) == token_error::malformed);
  CHECK(error_of("v2" + text.substr(2)) == token_error::malformed);
}

TEST_CASE("media tokens: the key file is read like the cluster cookie") {
  temp_dir dir;
  std::string error;
  write_file(dir / "short", "too short\n");
  CHECK_FALSE(token_key::load(dir / "short", error));
  CHECK(error.find("16 or more") != std::string::npos);
  CHECK_FALSE(token_key::load(dir / "missing", error));
  write_file(dir / "good", "0123456789abcdefXYZ\n\n");
  auto key = token_key::load(dir / "good", error);
  REQUIRE(key);
  // Trailing white space is not part of the key.
  token_key same{"0123456789abcdefXYZ"};
  auto c = upload_claims(digest_of("x"));
  CHECK(key->sign(c) == same.sign(c));
}

// -- ranges and units ------------------------------------------------------------------

TEST_CASE("Range headers: single ranges, suffixes, clipping, unsatisfiable, ignored") {
  using kind = range_request::kind;
  auto r = parse_range("bytes=100-199", 1000);
  CHECK(r.what == kind::partial);
  CHECK(r.range.first == 100);
  CHECK(r.range.last == 199);
  r = parse_range("bytes=900-", 1000);
  CHECK((r.what == kind::partial && r.range.first == 900 && r.range.last == 999));
  r = parse_range("bytes=-100", 1000);
  CHECK((r.what == kind::partial && r.range.first == 900 && r.range.last == 999));
  r = parse_range("bytes=-5000", 1000);
  CHECK((r.what == kind::partial && r.range.first == 0 && r.range.last == 999));
  r = parse_range("bytes=990-5000", 1000);
  CHECK((r.what == kind::partial && r.range.last == 999));
  CHECK(parse_range("bytes=1000-", 1000).what == kind::unsatisfiable);
  CHECK(parse_range("bytes=-0", 1000).what == kind::unsatisfiable);
  CHECK(parse_range("bytes=0-", 0).what == kind::unsatisfiable);
  CHECK(parse_range("bytes=0-1,5-6", 1000).what == kind::whole);
  CHECK(parse_range("bytes=5-1", 1000).what == kind::whole);
  CHECK(parse_range("items=0-1", 1000).what == kind::whole);
  CHECK(parse_range("bytes=x-1", 1000).what == kind::whole);
}

TEST_CASE("Content-Range of uploads") {
  auto cr = parse_content_range("bytes 100-199/1000");
  REQUIRE(cr);
  CHECK(cr->range.first == 100);
  CHECK(cr->range.length() == 100);
  CHECK(cr->total == 1000);
  CHECK_FALSE(parse_content_range("bytes 100-1000/1000"));
  CHECK_FALSE(parse_content_range("bytes 200-100/1000"));
  CHECK_FALSE(parse_content_range("bytes */1000"));
  CHECK_FALSE(parse_content_range("bytes 1-2"));
}

TEST_CASE("parley-media's sizes and durations") {
  CHECK(parse_size("2GiB") == uint64_t{2} << 30);
  CHECK(parse_size("100MiB") == uint64_t{100} << 20);
  CHECK(parse_size("512k") == 512 * 1024);
  CHECK(parse_size("12345") == 12345);
  CHECK_FALSE(parse_size("2 GB x"));
  CHECK_FALSE(parse_size("GiB"));
  CHECK(parse_duration("30d") == std::chrono::seconds(30 * 86400));
  CHECK(parse_duration("12h") == std::chrono::seconds(12 * 3600));
  CHECK(parse_duration("90") == std::chrono::seconds(90));
  CHECK_FALSE(parse_duration("0s"));
  CHECK_FALSE(parse_duration("5w"));
}

TEST_CASE("media URLs") {
  auto ep = client::parse_http_url("http://media.example:8080/base/");
  REQUIRE(ep);
  CHECK(ep->host == "media.example");
  CHECK(ep->port == 8080);
  CHECK(ep->prefix == "/base");
  ep = client::parse_http_url("http://[::1]:9000");
  REQUIRE(ep);
  CHECK(ep->host == "::1");
  CHECK(ep->port == 9000);
  CHECK(client::parse_http_url("http://h")->port == 80);
  CHECK_FALSE(client::parse_http_url("https://h:1"));
  CHECK_FALSE(client::parse_http_url("http://:80"));
  CHECK_FALSE(client::parse_http_url("http://h:99999"));
}

// -- the media reference ---------------------------------------------------------------

TEST_CASE("media payloads: encoded and decoded, and text is never taken for media") {
  client::media_ref ref;
  ref.id = digest_of("blob");
  ref.mime_type = "image/jpeg";
  ref.size = 123456;
  ref.encrypted_size = 123456 + 24 + 17 * 2;
  ref.key = random_bytes(32);
  ref.digest = digest_of("file");
  ref.chunk_size = 65536;
  ref.file_name = "photo.jpg";
  ref.thumbnail = random_bytes(1000);
  auto payload = client::encode_media_payload(ref);
  CHECK(client::is_media_payload(payload));
  auto back = client::decode_media_payload(payload);
  REQUIRE(back);
  CHECK(back->id == ref.id);
  CHECK(back->mime_type == ref.mime_type);
  CHECK(back->size == ref.size);
  CHECK(back->encrypted_size == ref.encrypted_size);
  CHECK(back->key == ref.key);
  CHECK(back->digest == ref.digest);
  CHECK(back->chunk_size == ref.chunk_size);
  CHECK(back->file_name == ref.file_name);
  CHECK(back->thumbnail == ref.thumbnail);

  CHECK_FALSE(client::is_media_payload("hello"));
  CHECK_FALSE(client::is_media_payload(""));
  CHECK_FALSE(client::decode_media_payload("\xc3\xbf PM text"));
  CHECK_FALSE(client::decode_media_payload(payload.substr(0, payload.size() - 8)));
  auto bad_key = ref;
  bad_key.key = "short";
  CHECK_FALSE(client::decode_media_payload(client::encode_media_payload(bad_key)));
  auto sneaky = ref;
  sneaky.file_name = "../../etc/passwd";
  CHECK_FALSE(client::decode_media_payload(client::encode_media_payload(sneaky)));
}

// -- the file encryption ---------------------------------------------------------------

TEST_CASE("file encryption round-trips files of every awkward size") {
  temp_dir dir;
  auto chunk = client::media_chunk_size;
  for (size_t size : {size_t{0}, size_t{1}, size_t{chunk - 1}, size_t{chunk},
                      size_t{chunk + 1}, size_t{3 * chunk}, size_t{3 * chunk + 77}}) {
    INFO("size " << size);
    auto plain = random_bytes(size);
    write_file(dir / "in", plain);
    auto sealed = client::seal_file(dir / "in");
    REQUIRE(sealed);
    CHECK(sealed->ref.size == size);
    CHECK(sealed->ref.digest == digest_of(plain));
    // The blob, produced again, is what was hashed: byte for byte.
    auto reader = client::blob_reader::open(sealed->seal);
    REQUIRE(reader);
    std::string blob;
    char buf[10000];
    for (;;) {
      auto n = (*reader)->read(buf, sizeof(buf));
      REQUIRE(n);
      if (*n == 0)
        break;
      blob.append(buf, *n);
    }
    CHECK(blob.size() == sealed->ref.encrypted_size);
    CHECK(blob.size() == client::encrypted_size(size));
    CHECK(digest_of(blob) == sealed->ref.id);
    if (size >= 64)  // encrypted: the file's bytes do not show
      CHECK(blob.find(plain.substr(0, 64)) == std::string::npos);
    write_file(dir / "blob", blob);
    REQUIRE(client::decrypt_file(dir / "blob", sealed->ref, dir / "out"));
    CHECK(read_file(dir / "out") == plain);
    ::unlink((dir / "out").c_str());
  }
}

TEST_CASE("file encryption: resuming at an offset gives the same bytes, and damage is caught") {
  temp_dir dir;
  auto plain = random_bytes(200000);
  write_file(dir / "in", plain);
  auto sealed = client::seal_file(dir / "in");
  REQUIRE(sealed);
  auto reader = client::blob_reader::open(sealed->seal);
  REQUIRE(reader);
  std::string blob(sealed->ref.encrypted_size, '\0');
  REQUIRE(*(*reader)->read(blob.data(), blob.size()) == blob.size());
  for (uint64_t offset : {uint64_t{0}, uint64_t{10}, uint64_t{24}, uint64_t{65560},
                          uint64_t{150001}, uint64_t{blob.size()}}) {
    INFO("offset " << offset);
    REQUIRE((*reader)->seek(offset));
    std::string rest(blob.size() - offset, '\0');
    REQUIRE(*(*reader)->read(rest.data(), rest.size()) == rest.size());
    CHECK(rest == blob.substr(offset));
  }
  // A fresh key each time: the same file makes another blob.
  auto again = client::seal_file(dir / "in");
  REQUIRE(again);
  CHECK(again->ref.id != sealed->ref.id);
  CHECK(again->ref.key != sealed->ref.key);

  auto flipped = blob;
  flipped[70000] ^= 1;
  write_file(dir / "blob", flipped);
  CHECK_FALSE(client::decrypt_file(dir / "blob", sealed->ref, dir / "out"));
  CHECK_FALSE(exists(dir / "out"));
  write_file(dir / "blob", blob.substr(0, 24 + 65536 + 17));  // whole chunks, no final
  CHECK_FALSE(client::decrypt_file(dir / "blob", sealed->ref, dir / "out"));
  write_file(dir / "blob", blob + "x");
  CHECK_FALSE(client::decrypt_file(dir / "blob", sealed->ref, dir / "out"));
  auto wrong_key = sealed->ref;
  wrong_key.key = random_bytes(32);
  write_file(dir / "blob", blob);
  CHECK_FALSE(client::decrypt_file(dir / "blob", wrong_key, dir / "out"));
  auto wrong_digest = sealed->ref;
  wrong_digest.digest = digest_of("something else");
  CHECK_FALSE(client::decrypt_file(dir / "blob", wrong_digest, dir / "out"));
  CHECK_FALSE(exists(dir / "out"));
  REQUIRE(client::decrypt_file(dir / "blob", sealed->ref, dir / "out"));
  CHECK(read_file(dir / "out") == plain);

  // A file that changes after it was sealed is not sent under the old seal.
  write_file(dir / "in", plain + "more");
  CHECK_FALSE(client::blob_reader::open(sealed->seal));
}

// -- the blob store ----------------------------------------------------------------------

TEST_CASE("blob store: a blob is visible only once complete and checked") {
  temp_dir dir;
  std::string error;
  auto store = blob_store::open(dir / "store", error);
  REQUIRE(store);
  auto bytes = random_bytes(100000);
  auto sha = digest_of(bytes);
  {
    auto begun = store->begin_upload(sha, 0, bytes.size());
    REQUIRE(std::holds_alternative<std::unique_ptr<blob_upload>>(begun));
    auto& up = std::get<std::unique_ptr<blob_upload>>(begun);
    CHECK_FALSE(up->append(bytes.data(), 40000));
    // A second upload of the same blob waits for the first.
    auto second = store->begin_upload(sha, 0, bytes.size());
    REQUIRE(std::holds_alternative<store_failure>(second));
    CHECK(std::get<store_failure>(second).what == store_error::busy);
    CHECK_FALSE(store->size_of(sha));
    CHECK_FALSE(store->open_blob(sha));
    CHECK(store->stored_offset(sha) == 40000);
    CHECK(up->finish({})->what == store_error::incomplete);
  }  // cut off here
  CHECK_FALSE(store->size_of(sha));
  // Resuming elsewhere than where the part ends is refused, saying where.
  auto wrong = store->begin_upload(sha, 30000, bytes.size());
  REQUIRE(std::holds_alternative<store_failure>(wrong));
  CHECK(std::get<store_failure>(wrong).what == store_error::wrong_offset);
  CHECK(std::get<store_failure>(wrong).stored == 40000);
  auto begun = store->begin_upload(sha, 40000, bytes.size());
  REQUIRE(std::holds_alternative<std::unique_ptr<blob_upload>>(begun));
  auto& up = std::get<std::unique_ptr<blob_upload>>(begun);
  CHECK_FALSE(up->prepare());
  CHECK_FALSE(up->append(bytes.data() + 40000, bytes.size() - 40000));
  blob_meta meta;
  meta.created = 1000;
  meta.uploader = "alice";
  meta.recipients = {"bob", "carol"};
  CHECK_FALSE(up->finish(meta));
  up.reset();
  CHECK(store->size_of(sha) == bytes.size());
  auto reader = store->open_blob(sha);
  REQUIRE(reader);
  std::string back(bytes.size(), '\0');
  CHECK(::pread(reader->fd(), back.data(), back.size(), 0) == static_cast<ssize_t>(back.size()));
  CHECK(back == bytes);
  auto m = store->meta(sha);
  REQUIRE(m);
  CHECK(m->size == bytes.size());
  CHECK(m->uploader == "alice");
}

TEST_CASE("blob store: a hash mismatch keeps nothing") {
  temp_dir dir;
  std::string error;
  auto store = blob_store::open(dir / "store", error);
  REQUIRE(store);
  auto bytes = random_bytes(5000);
  auto claimed = digest_of("not these bytes");
  auto begun = store->begin_upload(claimed, 0, bytes.size());
  REQUIRE(std::holds_alternative<std::unique_ptr<blob_upload>>(begun));
  auto& up = std::get<std::unique_ptr<blob_upload>>(begun);
  CHECK_FALSE(up->append(bytes.data(), bytes.size()));
  auto f = up->finish({});
  REQUIRE(f);
  CHECK(f->what == store_error::hash_mismatch);
  up.reset();
  CHECK_FALSE(store->size_of(claimed));
  CHECK(store->stored_offset(claimed) == 0);
}

TEST_CASE("blob store: retention by downloads and by age") {
  temp_dir dir;
  std::string error;
  auto store = blob_store::open(dir / "store", error);
  REQUIRE(store);
  auto put = [&](const std::string& bytes, int64_t created, std::vector<std::string> to) {
    auto sha = digest_of(bytes);
    auto begun = store->begin_upload(sha, 0, bytes.size());
    REQUIRE(std::holds_alternative<std::unique_ptr<blob_upload>>(begun));
    auto& up = std::get<std::unique_ptr<blob_upload>>(begun);
    REQUIRE_FALSE(up->append(bytes.data(), bytes.size()));
    blob_meta meta;
    meta.created = created;
    meta.recipients = std::move(to);
    REQUIRE_FALSE(up->finish(meta));
    return sha;
  };
  auto a = put("for bob and carol", 1000, {"bob", "carol"});
  CHECK_FALSE(store->record_download(a, "mallory"));  // not a recipient: no count
  CHECK_FALSE(store->record_download(a, "bob"));
  CHECK_FALSE(store->record_download(a, "bob"));  // twice is once
  CHECK(store->size_of(a));
  CHECK(store->meta(a)->downloaded == std::vector<std::string>{"bob"});
  CHECK(store->record_download(a, "carol"));
  CHECK_FALSE(store->size_of(a));
  CHECK_FALSE(store->meta(a));

  auto old = put("old, nobody named", 1000, {});
  auto young = put("young", 5000, {"bob"});
  CHECK_FALSE(store->record_download(old, "bob"));
  // An unfinished upload, untouched since it began.
  auto partial = digest_of("partial");
  {
    auto begun = store->begin_upload(partial, 0, 100);
    REQUIRE(std::holds_alternative<std::unique_ptr<blob_upload>>(begun));
    REQUIRE_FALSE(std::get<std::unique_ptr<blob_upload>>(begun)->append("abc", 3));
  }
  auto now = static_cast<int64_t>(std::time(nullptr));
  auto r = store->sweep(6000, 3000, 1000000);
  CHECK(r.blobs == 1);
  CHECK(r.parts == 0);
  CHECK_FALSE(store->size_of(old));
  CHECK(store->size_of(young));
  r = store->sweep(now + 10, 1000000000000, 5);
  CHECK(r.parts == 1);
  CHECK(store->stored_offset(partial) == 0);
}
