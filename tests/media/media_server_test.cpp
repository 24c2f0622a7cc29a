// parley-media as HTTP clients see it, with curl (a real HTTP client, not
// ours) and raw sockets where curl would be too polite: uploads and downloads
// with valid and invalid tokens, Range, resumed and cut-off uploads,
// concurrent uploads, retention.

#include "media/token.hpp"
#include "support/media_process.hpp"
#include "support/sockets.hpp"
#include "support/temp_dir.hpp"
#include "tests/media/helpers.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;
using media::action;

namespace {

struct http_result {
  int status = 0;
  uint64_t uploaded = 0;  // body bytes curl sent
  std::string headers;
  std::string body;       // when no output file was given

  /// A response header's value ("" if absent); `name` in lower case.
  std::string header(const std::string& name) const {
    std::istringstream in(headers);
    for (std::string line; std::getline(in, line);) {
      auto colon = line.find(':');
      if (colon == std::string::npos)
        continue;
      auto key = line.substr(0, colon);
      for (auto& c : key)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (key != name)
        continue;
      auto value = line.substr(colon + 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == ' '))
        value.pop_back();
      return value.substr(value.find_first_not_of(' '));
    }
    return {};
  }
};

/// Runs curl with `args`; its body goes to `out` (or into the result).
http_result curl(const temp_dir& dir, const std::string& args, const std::string& out = "") {
  auto headers = dir / "curl.headers";
  auto body = out.empty() ? dir / "curl.body" : out;
  ::unlink(body.c_str());
  auto r = run_command("curl -sS -D " + headers + " -o " + body
                       + " -w '%{http_code} %{size_upload}' " + args + " 2>&1");
  http_result res;
  std::istringstream in(r.out);
  in >> res.status >> res.uploaded;
  res.headers = read_bytes(headers);
  if (out.empty())
    res.body = read_bytes(body);
  return res;
}

std::string bearer(const std::string& token) {
  return "-H 'Authorization: Bearer " + token + "' ";
}

/// Writes `request` to the server on a fresh connection and returns what it
/// answers until it closes the connection or 5 s pass; `close_after` shuts the
/// connection right after writing, without reading.
std::string raw_exchange(uint16_t port, const std::string& request, bool close_after = false) {
  int fd = connect_loopback(port);
  size_t off = 0;
  while (off < request.size()) {
    auto n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    REQUIRE(n > 0);
    off += static_cast<size_t>(n);
  }
  std::string answer;
  if (!close_after) {
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    for (;;) {
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      answer.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

std::string media_url(const media_process& m, const std::string& sha) {
  return m.url() + "/media/" + to_hex(sha);
}

/// Files in a folder (recursively), for "nothing was kept".
size_t count_files(const std::string& dir) {
  auto r = run_command("find " + dir + " -type f | wc -l");
  return static_cast<size_t>(std::stoul(r.out));
}

} // namespace

TEST_CASE("curl uploads and downloads with valid tokens, with Range and resumed downloads") {
  temp_dir dir;
  media_process media{dir.path()};
  media.start();
  auto bytes = write_random_file(dir / "blob", 3 * 1024 * 1024 + 5);
  auto sha = sha256_raw(bytes);
  auto url = media_url(media, sha);
  auto up = media.token(action::upload, "alice", sha, bytes.size(), {"bob"});
  auto down = media.token(action::download, "alice", sha);

  CHECK(curl(dir, "-f " + std::string("http://127.0.0.1:") + std::to_string(media.port())
                    + "/health").status
        == 200);
  // Not there before the upload.
  CHECK(curl(dir, bearer(down) + url).status == 404);
  auto put = curl(dir, bearer(up) + "-T " + dir / "blob" + " " + url);
  CHECK(put.status == 201);
  CHECK(put.uploaded == bytes.size());
  CHECK(put.header("upload-offset") == std::to_string(bytes.size()));
  // The same bytes again: there already.
  CHECK(curl(dir, bearer(up) + "-T " + dir / "blob" + " " + url).status == 200);

  // The whole blob, with the token in the header or in the query.
  auto got = curl(dir, bearer(down) + url, dir / "whole");
  CHECK(got.status == 200);
  CHECK(got.header("accept-ranges") == "bytes");
  CHECK(read_bytes(dir / "whole") == bytes);
  CHECK(curl(dir, "'" + url + "?token=" + down + "'", dir / "whole2").status == 200);
  CHECK(read_bytes(dir / "whole2") == bytes);

  // Ranges: a slice, an open end, a suffix; one past the end is 416.
  auto slice = curl(dir, bearer(down) + "-r 100-199 " + url);
  CHECK(slice.status == 206);
  CHECK(slice.body == bytes.substr(100, 100));
  CHECK(slice.header("content-range")
        == "bytes 100-199/" + std::to_string(bytes.size()));
  auto tail = curl(dir, bearer(down) + "-r 3000000- " + url);
  CHECK(tail.status == 206);
  CHECK(tail.body == bytes.substr(3000000));
  auto suffix = curl(dir, bearer(down) + "-H 'Range: bytes=-1000' " + url);
  CHECK(suffix.status == 206);
  CHECK(suffix.body == bytes.substr(bytes.size() - 1000));
  auto beyond = curl(dir, bearer(down) + "-r " + std::to_string(bytes.size()) + "- " + url);
  CHECK(beyond.status == 416);
  CHECK(beyond.header("content-range") == "bytes */" + std::to_string(bytes.size()));

  // An interrupted download: the first megabyte is here; curl -C - asks for the rest.
  write_bytes(dir / "resumed", bytes.substr(0, 1024 * 1024));
  auto rest = run_command("curl -sS -C - -o " + dir / "resumed" + " -w '%{http_code}' "
                          + bearer(down) + url);
  CHECK(rest.out == "206");
  CHECK(read_bytes(dir / "resumed") == bytes);

  // HEAD: the size for downloaders, where to resume for uploaders.
  auto head = curl(dir, "-I " + bearer(down) + url);
  CHECK(head.status == 200);
  CHECK(head.header("content-length") == std::to_string(bytes.size()));
  auto offset = curl(dir, "-I " + bearer(up) + url);
  CHECK(offset.header("upload-offset") == std::to_string(bytes.size()));
  CHECK(eventually([&] { return media.log().find(" 206 ") != std::string::npos; }));
}

TEST_CASE("curl with missing, forged, expired or mismatched tokens gets 401 or 403") {
  temp_dir dir;
  media_process media{dir.path()};
  media.start();
  auto bytes = write_random_file(dir / "blob", 100000);
  auto sha = sha256_raw(bytes);
  auto url = media_url(media, sha);
  auto put = [&](const std::string& auth) {
    return curl(dir, auth + "-T " + dir / "blob" + " " + url);
  };
  auto missing = put("");
  CHECK(missing.status == 401);
  CHECK(missing.header("www-authenticate").find("Bearer") == 0);

  // Signed with another key.
  temp_dir elsewhere;
  media_process other{elsewhere.path()};
  CHECK(put(bearer(other.token(action::upload, "alice", sha, bytes.size()))).status == 403);
  // Altered after signing: the size, or the user.
  auto good = media.token(action::upload, "alice", sha, bytes.size());
  auto altered = good;
  altered.replace(altered.find(":100000:"), 8, ":100001:");
  CHECK(put(bearer(altered)).status == 403);
  auto impostor = good;
  impostor.replace(impostor.find(":alice:"), 7, ":mally:");
  CHECK(put(bearer(impostor)).status == 403);
  CHECK(put(bearer("v1:garbage")).status == 401);
  // Expired.
  auto expired = put(bearer(media.token(action::upload, "alice", sha, bytes.size(), {}, -1)));
  CHECK(expired.status == 401);
  CHECK(expired.body.find("expired") != std::string::npos);
  // For another blob, another size, the other action.
  auto other_sha = sha256_raw("other");
  CHECK(put(bearer(media.token(action::upload, "alice", other_sha, bytes.size()))).status
        == 403);
  CHECK(put(bearer(media.token(action::upload, "alice", sha, bytes.size() + 1))).status
        == 403);
  CHECK(put(bearer(media.token(action::download, "alice", sha))).status == 403);
  // None of that stored a byte.
  CHECK(count_files(media.blob_dir()) == 0);

  REQUIRE(put(bearer(good)).status == 201);
  CHECK(curl(dir, bearer(media.token(action::upload, "bob", sha, bytes.size())) + url).status
        == 403);  // an upload token does not download
  CHECK(curl(dir, bearer(media.token(action::download, "bob", sha, 0, {}, -1)) + url).status
        == 401);
  CHECK(curl(dir, bearer(media.token(action::download, "bob", other_sha)) + url).status
        == 403);
  CHECK(curl(dir, url).status == 401);
  // Unknown blobs are 404 with a valid token; a malformed id is 400.
  CHECK(curl(dir, bearer(media.token(action::download, "bob", other_sha))
                    + media_url(media, other_sha))
          .status
        == 404);
  CHECK(curl(dir, bearer(good) + media.url() + "/media/xyz").status == 400);
  CHECK(curl(dir, media.url() + "/elsewhere").status == 404);
}

TEST_CASE("an upload over the size limit gets 413 before its body is read") {
  temp_dir dir;
  media_process media{dir.path(), {"--max-size", "1MiB"}};
  media.start();
  // A sparse 3 MiB file: curl asks first (Expect: 100-continue) and sends nothing.
  REQUIRE(run_command("truncate -s 3M " + dir / "big").exit_code == 0);
  auto sha = sha256_raw(read_bytes(dir / "big"));
  auto url = media_url(media, sha);
  auto big = curl(dir, bearer(media.token(action::upload, "alice", sha, 3 << 20)) + "-T "
                         + dir / "big" + " " + url);
  CHECK(big.status == 413);
  CHECK(big.uploaded == 0);

  // Without asking first: only the header is sent, and the answer comes anyway.
  auto answer = raw_exchange(
    media.port(), "PUT /media/" + to_hex(sha) + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + media.token(action::upload, "alice", sha, 5ull << 30)
                    + "\r\nContent-Length: " + std::to_string(5ull << 30) + "\r\n\r\n");
  CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
  // A token for a blob over the limit, uploaded in pieces: 413 too.
  auto piece = raw_exchange(
    media.port(), "PUT /media/" + to_hex(sha) + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + media.token(action::upload, "alice", sha, 3 << 20)
                    + "\r\nContent-Range: bytes 0-9/" + std::to_string(3 << 20)
                    + "\r\nContent-Length: 10\r\n\r\n");
  CHECK(piece.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(count_files(media.blob_dir()) == 0);
}

TEST_CASE("a hash mismatch keeps nothing, and a cut-off upload shows nothing and resumes") {
  temp_dir dir;
  media_process media{dir.path()};
  media.start();
  auto bytes = write_random_file(dir / "blob", 2 * 1024 * 1024);
  auto sha = sha256_raw(bytes);
  auto url = media_url(media, sha);
  auto up = media.token(action::upload, "alice", sha, bytes.size());
  auto down = media.token(action::download, "bob", sha);

  // The URL names other bytes than the body's.
  auto wrong = write_random_file(dir / "wrong", bytes.size());
  auto mismatch = curl(dir, bearer(up) + "-T " + dir / "wrong" + " " + url);
  CHECK(mismatch.status == 400);
  CHECK(mismatch.body.find("SHA-256") != std::string::npos);
  CHECK(count_files(media.blob_dir()) == 0);
  CHECK(curl(dir, bearer(down) + url).status == 404);

  // Half the body, then the connection ends.
  size_t half = bytes.size() / 2;
  raw_exchange(media.port(),
               "PUT /media/" + to_hex(sha) + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + up
                 + "\r\nContent-Length: " + std::to_string(bytes.size()) + "\r\n\r\n"
                 + bytes.substr(0, half),
               true);
  // The server keeps what arrived, unseen; HEAD says where it ends.
  std::string offset;
  for (int i = 0; i < 100; ++i) {
    offset = curl(dir, "-I " + bearer(up) + url).header("upload-offset");
    if (offset == std::to_string(half))
      break;
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(offset == std::to_string(half));
  CHECK(curl(dir, bearer(down) + url).status == 404);

  // Resuming anywhere but there is refused, saying where.
  write_bytes(dir / "rest", bytes.substr(half));
  write_bytes(dir / "ten", bytes.substr(half - 10, 10));
  auto early = curl(dir, bearer(up) + "-H 'Content-Range: bytes " + std::to_string(half - 10)
                           + "-" + std::to_string(half - 1) + "/"
                           + std::to_string(bytes.size()) + "' -T " + dir / "ten" + " " + url);
  CHECK(early.status == 409);
  CHECK(early.header("upload-offset") == std::to_string(half));
  // The rest, from where it ended: complete, checked, visible.
  auto resumed = curl(dir, bearer(up) + "-H 'Content-Range: bytes " + std::to_string(half) + "-"
                             + std::to_string(bytes.size() - 1) + "/"
                             + std::to_string(bytes.size()) + "' -T " + dir / "rest" + " " + url);
  CHECK(resumed.status == 201);
  CHECK(resumed.uploaded == bytes.size() - half);
  CHECK(curl(dir, bearer(down) + url, dir / "back").status == 200);
  CHECK(read_bytes(dir / "back") == bytes);
}

TEST_CASE("concurrent uploads are stored side by side, one upload per blob at a time") {
  temp_dir dir;
  media_process media{dir.path()};
  media.start();
  constexpr int n = 8;
  std::vector<std::string> blobs, shas;
  std::string script;
  for (int i = 0; i < n; ++i) {
    auto path = dir / ("blob" + std::to_string(i));
    blobs.push_back(write_random_file(path, 4 * 1024 * 1024 + i));
    shas.push_back(sha256_raw(blobs.back()));
    script += "curl -sS -o /dev/null -w '%{http_code}\\n' " + bearer(media.token(
                action::upload, "alice", shas.back(), blobs.back().size()))
              + "-T " + path + " " + media_url(media, shas.back()) + " > " + path
              + ".status & ";
  }
  // And the first blob a second time, at the same time.
  script += "curl -sS -o /dev/null -w '%{http_code}\\n' "
            + bearer(media.token(action::upload, "bob", shas[0], blobs[0].size())) + "-T "
            + dir / "blob0" + " " + media_url(media, shas[0]) + " > " + dir / "again.status & wait";
  REQUIRE(run_command(script).exit_code == 0);
  int created = 0;
  for (int i = 0; i < n; ++i) {
    auto status = read_bytes(dir / ("blob" + std::to_string(i)) + ".status");
    INFO("blob " << i << ": " << status);
    CHECK((status == "201\n" || (i == 0 && (status == "200\n" || status == "409\n"))));
    created += status == "201\n";
  }
  // The duplicate found the blob stored, or busy, or was the one that stored it.
  auto again = read_bytes(dir / "again.status");
  CHECK((again == "201\n" || again == "200\n" || again == "409\n"));
  CHECK(created + (again == "201\n") >= n);
  for (int i = 0; i < n; ++i) {
    auto got = curl(dir, bearer(media.token(action::download, "carol", shas[i]))
                           + media_url(media, shas[i]),
                    dir / "got");
    CHECK(got.status == 200);
    CHECK(read_bytes(dir / "got") == blobs[i]);
  }
}

TEST_CASE("retention: deleted once every recipient downloaded it, or when its time is up") {
  temp_dir dir;
  media_process media{dir.path(), {"--retention", "4s", "--sweep-interval", "1s"}};
  media.start();
  auto bytes = write_random_file(dir / "blob", 300000);
  auto sha = sha256_raw(bytes);
  auto url = media_url(media, sha);
  REQUIRE(curl(dir, bearer(media.token(action::upload, "alice", sha, bytes.size(),
                                       {"bob", "carol"}))
                      + "-T " + dir / "blob" + " " + url)
            .status
          == 201);
  auto bob = bearer(media.token(action::download, "bob", sha));
  auto carol = bearer(media.token(action::download, "carol", sha));
  auto mallory = bearer(media.token(action::download, "mallory", sha));
  // A part of it does not count; someone not named does not count.
  CHECK(curl(dir, bob + "-r 0-99 " + url).status == 206);
  CHECK(curl(dir, mallory + url).status == 200);
  CHECK(curl(dir, bob + url).status == 200);
  CHECK(curl(dir, bob + url).status == 200);  // bob again: still carol to wait for
  CHECK(curl(dir, carol + url).status == 200);
  // Deleted once its last byte went out to carol.
  CHECK(eventually([&] { return curl(dir, bob + url).status == 404; }));
  CHECK(media.log().find("every recipient downloaded it") != std::string::npos);

  // Nobody named: it stays until the retention time (4 s here) is up.
  auto other = write_random_file(dir / "other", 1000);
  auto other_sha = sha256_raw(other);
  REQUIRE(curl(dir, bearer(media.token(action::upload, "alice", other_sha, other.size()))
                      + "-T " + dir / "other" + " " + media_url(media, other_sha))
            .status
          == 201);
  auto other_get = bearer(media.token(action::download, "bob", other_sha))
                   + media_url(media, other_sha);
  CHECK(curl(dir, other_get).status == 200);
  int status = 200;
  for (int i = 0; i < 100 && status == 200; ++i) {
    std::this_thread::sleep_for(200ms);
    status = curl(dir, other_get).status;
  }
  CHECK(status == 404);
  // SIGTERM stops it cleanly; its log is complete then.
  auto wait_status = media.kill_and_wait(SIGTERM);
  CHECK(WIFEXITED(wait_status));
  CHECK(WEXITSTATUS(wait_status) == 0);
  CHECK(media.log().find("retention deleted 1 blob(s)") != std::string::npos);
}
