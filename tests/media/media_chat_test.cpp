// Media between users: tokens from a real node over the chat connection,
// files through parley-chat send-file and fetch against a real node and a real
// parley-media, resumed downloads and uploads.

#include "media/token.hpp"
#include "support/media_process.hpp"
#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"
#include "tests/media/helpers.hpp"
#include "chaos/tcp_proxy.hpp"
#include "tools/client/media.hpp"
#include "tools/client/media_crypto.hpp"

#include <catch2/catch.hpp>

#include <ctime>
#include <regex>
#include <thread>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> media_args(const media_process& media) {
  return {"--parley.media-key-file=" + media.key_file(), "--parley.media-url=" + media.url()};
}

/// parley-chat against `node`, with its home in `dir`; output and errors joined.
command_result chat(const node_process& node, const temp_dir& dir, const std::string& args) {
  return run_command(std::string(PARLEY_CHAT_BIN) + " --server 127.0.0.1:"
                     + std::to_string(node.port()) + " --home " + dir / "home" + " " + args
                     + " < /dev/null 2>&1");
}

/// The media id in a JSON line of parley-chat's.
std::string media_id_in(const std::string& out) {
  std::smatch m;
  static const std::regex re("\"media\":\\{\"id\":\"([0-9a-f]{64})\"");
  REQUIRE(std::regex_search(out, m, re));
  return m[1];
}

bool same_files(const std::string& a, const std::string& b) {
  return run_command("cmp -s " + a + " " + b).exit_code == 0;
}

size_t count_files(const std::string& dir) {
  return static_cast<size_t>(std::stoul(run_command("find " + dir + " -type f | wc -l").out));
}

} // namespace

TEST_CASE("a logged-in user gets media tokens from its node over the chat connection") {
  temp_dir dir;
  media_process media{dir.path()};
  media.start();
  node_process node{dir.path(), media_args(media)};
  node.start();
  auto alice = register_user(node, "alice");
  auto sha = sha256_raw("some blob");

  client::connection anonymous(node.client_options());
  REQUIRE(anonymous.connect());
  auto early = anonymous.media_token(wire::MediaAction::UPLOAD, sha, 10, {"bob"});
  REQUIRE_FALSE(early);
  CHECK(early.error().code == wire::ErrorCode::NOT_LOGGED_IN);

  auto conn = login(node, alice);
  auto before = std::time(nullptr);
  auto up = conn->media_token(wire::MediaAction::UPLOAD, sha, 1234, {"bob", "carol"});
  REQUIRE(up);
  CHECK(up->url == media.url());
  CHECK(up->sha256 == sha);
  CHECK(up->expires / 1000 >= before + 15 * 60 - 1);
  CHECK(up->expires / 1000 <= std::time(nullptr) + 15 * 60);
  // The media server's key accepts it, with the node's word on who asked.
  std::string error;
  auto key = media::token_key::load(media.key_file(), error);
  REQUIRE(key);
  auto checked = key->verify(up->token, std::time(nullptr));
  REQUIRE(std::holds_alternative<media::token_claims>(checked));
  auto& claims = std::get<media::token_claims>(checked);
  CHECK(claims.what == media::action::upload);
  CHECK(claims.user == "alice");
  CHECK(claims.sha256 == sha);
  CHECK(claims.size == 1234);
  CHECK(claims.recipients == std::vector<std::string>{"bob", "carol"});

  auto down = conn->media_token(wire::MediaAction::DOWNLOAD, sha, 999, {"ignored"});
  REQUIRE(down);
  auto d = key->verify(down->token, std::time(nullptr));
  REQUIRE(std::holds_alternative<media::token_claims>(d));
  CHECK(std::get<media::token_claims>(d).what == media::action::download);
  CHECK(std::get<media::token_claims>(d).size == 0);
  CHECK(std::get<media::token_claims>(d).recipients.empty());

  // Bad requests are answered, and the connection goes on.
  auto short_id = conn->media_token(wire::MediaAction::DOWNLOAD, sha.substr(1));
  REQUIRE_FALSE(short_id);
  CHECK(short_id.error().code == wire::ErrorCode::INVALID_ID);
  std::vector<std::string> crowd;
  for (int i = 0; i < 65; ++i)
    crowd.push_back("u" + std::to_string(i));
  auto too_many = conn->media_token(wire::MediaAction::UPLOAD, sha, 10, crowd);
  REQUIRE_FALSE(too_many);
  CHECK(too_many.error().code == wire::ErrorCode::LIMIT_EXCEEDED);
  auto bad_name = conn->media_token(wire::MediaAction::UPLOAD, sha, 10, {"Not A Name"});
  REQUIRE_FALSE(bad_name);
  CHECK(bad_name.error().code == wire::ErrorCode::INVALID_NAME);
  CHECK(conn->last_seen("alice"));
}

TEST_CASE("a node without a media key issues no media tokens") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice = register_user(node, "alice");
  auto conn = login(node, alice);
  auto grant = conn->media_token(wire::MediaAction::UPLOAD, sha256_raw("x"), 1, {});
  REQUIRE_FALSE(grant);
  CHECK(grant.error().code == wire::ErrorCode::UNSUPPORTED);
}

TEST_CASE("parley-chat send-file and fetch: 100 MiB byte for byte through a node and parley-media") {
  temp_dir dir;
  media_process media{dir.path()};
  media.start();
  node_process node{dir.path(), media_args(media)};
  node.start();
  REQUIRE(chat(node, dir, "--user alice register").exit_code == 0);
  REQUIRE(chat(node, dir, "--user bob register").exit_code == 0);
  write_random_file(dir / "big.bin", 100 * 1024 * 1024);

  auto sent = chat(node, dir, "--user alice --json send-file bob " + dir / "big.bin");
  INFO(sent.out);
  REQUIRE(sent.exit_code == 0);
  CHECK(sent.out.find("\"type\":\"uploaded\"") != std::string::npos);
  CHECK(sent.out.find("\"state\":\"sent\"") != std::string::npos);

  auto got = chat(node, dir, "--user bob --json listen --count 1 --timeout 20");
  INFO(got.out);
  REQUIRE(got.exit_code == 0);
  auto id = media_id_in(got.out);
  CHECK(got.out.find("\"from\":\"alice\"") != std::string::npos);
  CHECK(got.out.find("\"name\":\"big.bin\"") != std::string::npos);
  CHECK(got.out.find("\"size\":104857600") != std::string::npos);
  CHECK(got.out.find("\"mime\":\"application/octet-stream\"") != std::string::npos);
  // People see it as media too, with the id fetch takes.
  auto history = chat(node, dir, "--user bob history alice");
  CHECK(history.out.find("alice: [media " + id.substr(0, 16) + " big.bin") != std::string::npos);

  auto fetched = chat(node, dir, "--user bob --json fetch " + id.substr(0, 16) + " " + dir / "out.bin");
  INFO(fetched.out);
  REQUIRE(fetched.exit_code == 0);
  CHECK(fetched.out.find("\"type\":\"fetched\"") != std::string::npos);
  CHECK(same_files(dir / "big.bin", dir / "out.bin"));
  // Its one recipient has it: the media service deleted it, and says so.
  CHECK(eventually([&] { return count_files(media.blob_dir()) == 0; }));
  auto again = chat(node, dir, "--user bob fetch " + id.substr(0, 16) + " " + dir / "again.bin");
  CHECK(again.exit_code == 1);
  CHECK(again.out.find("no longer has this file") != std::string::npos);
  // Unknown and ambiguous ids are usage problems of their own.
  CHECK(chat(node, dir, "--user bob fetch 00000000").exit_code == 1);
  CHECK(chat(node, dir, "--user bob fetch 0").exit_code == 2);
}

TEST_CASE("fetch resumes an interrupted download with Range") {
  temp_dir dir;
  media_process media{dir.path()};
  media.start();
  node_process node{dir.path(), media_args(media)};
  node.start();
  REQUIRE(chat(node, dir, "--user alice register").exit_code == 0);
  REQUIRE(chat(node, dir, "--user bob register").exit_code == 0);
  write_random_file(dir / "photo.jpg", 3 * 1024 * 1024 + 333);
  REQUIRE(chat(node, dir, "--user alice send-file bob " + dir / "photo.jpg").exit_code == 0);
  auto got = chat(node, dir, "--user bob --json listen --count 1 --timeout 20");
  REQUIRE(got.exit_code == 0);
  CHECK(got.out.find("\"mime\":\"image/jpeg\"") != std::string::npos);
  auto id = media_id_in(got.out);
  auto sha = *from_hex(id);

  // An earlier fetch got the first half of the blob before its link broke.
  auto size = client::encrypted_size(3 * 1024 * 1024 + 333);
  auto half = size / 2;
  auto part = dir / "out.jpg" + "." + id.substr(0, 16) + ".part";
  auto token = media.token(media::action::download, "bob", sha);
  REQUIRE(run_command("curl -sS -f -r 0-" + std::to_string(half - 1) + " -H 'Authorization: Bearer "
                      + token + "' -o " + part + " " + media.url() + "/media/" + id)
            .exit_code
          == 0);
  auto fetched = chat(node, dir, "--user bob --json fetch " + id + " " + dir / "out.jpg");
  INFO(fetched.out);
  REQUIRE(fetched.exit_code == 0);
  CHECK(fetched.out.find("\"resumedAt\":" + std::to_string(half)) != std::string::npos);
  CHECK(same_files(dir / "photo.jpg", dir / "out.jpg"));
  CHECK(eventually(
    [&] { return media.log().find("GET " + id.substr(0, 16) + " bob 206") != std::string::npos; }));
  CHECK(run_command("ls " + part + " 2>/dev/null").out.empty());
}

TEST_CASE("an upload cut off in the middle resumes from the stored offset") {
  temp_dir dir;
  media_process media{dir.path()};
  media.start();
  chaos::tcp_proxy proxy({{"127.0.0.1", media.port()}}, 1);
  std::string error;
  REQUIRE(proxy.start(error));
  auto tokens = [&](const std::string& user) {
    return [&media, &proxy, user](wire::MediaAction action, const std::string& sha,
                                  uint64_t size, const std::vector<std::string>& recipients)
             -> client::outcome<client::media_grant> {
      client::media_grant g;
      g.action = action;
      g.sha256 = sha;
      g.token = media.token(action == wire::MediaAction::UPLOAD ? media::action::upload
                                                                : media::action::download,
                            user, sha, size, recipients);
      g.url = "http://127.0.0.1:" + std::to_string(proxy.port());
      return g;
    };
  };
  write_random_file(dir / "video.mp4", 24 * 1024 * 1024);
  client::media_options opts;
  bool cut = false;
  opts.progress = [&](uint64_t done, uint64_t) {
    if (!cut && done >= 4 * 1024 * 1024) {
      cut = true;
      proxy.cut_one();  // the only link: this upload's
      std::this_thread::sleep_for(300ms);  // let the proxy act before more is sent
    }
  };
  auto sent = client::send_media(dir / "video.mp4", "", {"bob"}, tokens("alice"), opts);
  INFO((sent ? std::string() : sent.error().describe()) << "\n" << media.log());
  REQUIRE(sent);
  CHECK(cut);
  CHECK(sent->attempts >= 2);
  CHECK(sent->resumed_at > 0);
  CHECK(sent->resumed_at < sent->ref.encrypted_size);
  CHECK(sent->ref.mime_type == "video/mp4");
  CHECK(media.log().find("cut off at byte") != std::string::npos);

  client::media_options plain;
  auto fetched = client::fetch_media(sent->ref, dir / "back.mp4", tokens("bob"), plain);
  INFO((fetched ? std::string() : fetched.error().describe()));
  REQUIRE(fetched);
  CHECK(same_files(dir / "video.mp4", dir / "back.mp4"));
}

TEST_CASE("the node and the chat wire see the media reference only sealed, parley-media only the ciphertext") {
  temp_dir dir;
  media_process media{dir.path()};
  media.start();
  node_process node{dir.path(), media_args(media)};
  node.start();
  chaos::tcp_proxy proxy{{{"127.0.0.1", node.port()}}, 1};
  proxy.record();
  std::string error;
  REQUIRE(proxy.start(error));
  auto via_proxy = [&](const std::string& args) {
    return run_command(std::string(PARLEY_CHAT_BIN) + " --server 127.0.0.1:"
                       + std::to_string(proxy.port()) + " --home " + dir / "home" + " " + args
                       + " < /dev/null 2>&1");
  };
  REQUIRE(via_proxy("--user alice register").exit_code == 0);
  REQUIRE(via_proxy("--user bob register").exit_code == 0);
  const std::string name = "name-marker-KESTREL-23.txt";
  const std::string line = "content-marker-PLOVER-58\n";
  std::string text;
  for (int i = 0; i < 5000; ++i)
    text += line;
  write_bytes(dir / name, text);
  auto sent = via_proxy("--user alice send-file bob " + dir / name);
  INFO(sent.out);
  REQUIRE(sent.exit_code == 0);
  // Stored, and unreadable there.
  CHECK(count_files(media.blob_dir()) == 2);  // the blob and its metadata
  CHECK(run_command("grep -rl PLOVER " + media.blob_dir()).out.empty());
  auto got = via_proxy("--user bob --json listen --count 1 --timeout 20");
  INFO(got.out);
  REQUIRE(got.exit_code == 0);
  CHECK(got.out.find("\"name\":\"" + name + "\"") != std::string::npos);
  auto id = media_id_in(got.out);
  REQUIRE(via_proxy("--user bob fetch " + id + " " + dir / "back.txt").exit_code == 0);
  CHECK(read_bytes(dir / "back.txt") == text);

  auto wire = proxy.recorded();
  CHECK(wire.size() > 1000);
  REQUIRE(node.stop() == 0);
  CHECK(wire.find("KESTREL") == std::string::npos);
  CHECK(run_command("grep -rl KESTREL " + node.data_dir()).out.empty());
}
