// deploy/local-cluster.sh --media: media servers behind HAProxy's URI hashing,
// next to the chat nodes, which name HAProxy's media frontend to clients.

#include "media/token.hpp"
#include "support/temp_dir.hpp"
#include "tests/media/helpers.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <ctime>
#include <netinet/in.h>
#include <regex>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace parley;
using namespace parley::test;

namespace {

/// A base port with everything local-cluster.sh takes for 1 node and 2 media
/// servers free.

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

/// The X-Media-Server header curl saved in `headers`.
std::string server_in(const std::string& headers) {
  std::smatch m;
  static const std::regex re("[Xx]-[Mm]edia-[Ss]erver: *(m[0-9]+)");
  return std::regex_search(headers, m, re) ? std::string(m[1]) : std::string();
}

} // namespace

TEST_CASE("local-cluster.sh --media: HAProxy sends a blob's upload and downloads to one server") {
  temp_dir dir;
  auto base = free_base({0, 1, 101, 201, 301, 400, 401, 402});
  std::string script = std::string(PARLEY_SOURCE_DIR) + "/deploy/local-cluster.sh";
  std::string env = std::string("PARLEY_NODE=") + PARLEY_NODE_BIN + " PARLEY_MEDIA="
                    + PARLEY_MEDIA_BIN + " ";
  auto where = " --base-port " + std::to_string(base) + " --dir " + dir / "c";
  auto started = run_command(env + script + " start 1 --media 2" + where + " 2>&1");
  INFO(started.out);
  REQUIRE(started.exit_code == 0);
  struct stopper {
    std::string cmd;
    ~stopper() {
      run_command(cmd);
    }
  } stop{env + script + " stop" + where + " > /dev/null 2>&1"};
  auto media_url = "http://127.0.0.1:" + std::to_string(base + 400);

  std::string error;
  auto key = media::token_key::load(dir / "c/media.key", error);
  REQUIRE(key);
  auto token = [&](media::action what, const std::string& sha, uint64_t size) {
    media::token_claims c;
    c.what = what;
    c.user = "alice";
    c.sha256 = sha;
    c.size = size;
    c.expires = static_cast<int64_t>(std::time(nullptr)) + 600;
    return key->sign(c);
  };
  std::map<std::string, int> per_server;
  for (int i = 0; i < 20; ++i) {
    auto path = dir / ("blob" + std::to_string(i));
    auto bytes = write_random_file(path, 10000 + i);
    auto sha = sha256_raw(bytes);
    auto url = media_url + "/media/" + to_hex(sha);
    auto put = run_command("curl -sS -o /dev/null -D - -H 'Authorization: Bearer "
                           + token(media::action::upload, sha, bytes.size()) + "' -T " + path
                           + " " + url);
    auto server = server_in(put.out);
    INFO(put.out);
    REQUIRE(put.out.find(" 201") != std::string::npos);
    REQUIRE(!server.empty());
    ++per_server[server];
    // The blob is on that server's disk, and only there.
    auto file = "/blobs/" + to_hex(sha).substr(0, 2) + "/" + to_hex(sha);
    CHECK(exists(dir / ("c/" + server) + file));
    CHECK(exists(dir / "c/m1" + file) != exists(dir / "c/m2" + file));
    // Downloads of it, resumed ones too, go there as well (the query is not hashed).
    auto down = token(media::action::download, sha, 0);
    auto get = run_command("curl -sS -o " + path + ".back -D - -H 'Authorization: Bearer "
                           + down + "' " + url);
    CHECK(server_in(get.out) == server);
    CHECK(read_bytes(path + ".back") == bytes);
    auto ranged = run_command("curl -sS -o /dev/null -D - -r 5-9 '" + url + "?token=" + down + "'");
    CHECK(server_in(ranged.out) == server);
    CHECK(ranged.out.find(" 206") != std::string::npos);
  }
  // Twenty random ids land on both servers (all on one: a chance of 1 in 500,000).
  CHECK(per_server.size() == 2);

  // And parley-chat, through HAProxy both ways, finds the media service the node names.
  auto chat = [&](const std::string& args) {
    return run_command(std::string(PARLEY_CHAT_BIN) + " --server 127.0.0.1:"
                       + std::to_string(base) + " --home " + dir / "home " + args + " 2>&1");
  };
  REQUIRE(chat("--user alice register").exit_code == 0);
  REQUIRE(chat("--user bob register").exit_code == 0);
  auto file = write_random_file(dir / "doc.pdf", 777777);
  auto sent = chat("--user alice send-file bob " + dir / "doc.pdf");
  INFO(sent.out);
  REQUIRE(sent.exit_code == 0);
  auto got = chat("--user bob --json listen --count 1 --timeout 20");
  std::smatch m;
  REQUIRE(std::regex_search(got.out, m, std::regex("\"media\":\\{\"id\":\"([0-9a-f]{64})\"")));
  std::string id = m[1];
  auto fetched = chat("--user bob fetch " + id + " " + dir / "doc-back.pdf");
  INFO(fetched.out);
  REQUIRE(fetched.exit_code == 0);
  CHECK(read_bytes(dir / "doc-back.pdf") == file);
}
