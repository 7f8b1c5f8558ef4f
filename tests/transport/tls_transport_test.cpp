// The tls transport over real sockets on 127.0.0.1: Samizdat clients get a Noise stream
// inside TLS 1.3; everyone else (browsers, curl, probers with stale, replayed or missing
// tokens, non-TLS junk) gets what an nginx static site gives.
#include "transport/tls/tls_transport.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "crypto/secret.hpp"
#include "echo_server.hpp"
#include "probe_suite.hpp"
#include "transport/https/tls_stream.hpp"
#include "transport/tls/tls_token.hpp"
#include "transport/wss/websocket_handshake.hpp"
#include "util/clock.hpp"
#include "util/coro.hpp"
#include "util/encoding.hpp"

namespace samizdat::transport {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
namespace fs = std::filesystem;

// A tls listener with a self-signed certificate and the shipped cover site.
EchoServerOptions tls_server() {
  EchoServerOptions options;
  options.scheme = "tls";
  options.handshake_timeout = 5s;
  options.certificate_name = "localhost";
  options.cover_site = fs::path(SAMIZDAT_SOURCE_DIR) / "share" / "cover-site";
  return options;
}

// The device key the last authenticated stream proved (nullopt: anonymous, or none yet).
std::optional<crypto::X25519Public> last_peer(EchoServer& server) {
  auto peers = server.peers();
  return peers.empty() ? std::nullopt : peers.back();
}

// A plain TLS client session (what a browser or prober opens).
asio::awaitable<std::unique_ptr<https::TlsByteStream>> open_tls(asio::any_io_executor ex,
                                                                const Endpoint& endpoint) {
  tcp::socket socket(ex);
  co_await socket.async_connect({asio::ip::make_address(endpoint.host), endpoint.port}, asio::use_awaitable);
  auto context = https::make_client_context();
  auto tls = std::make_unique<https::TlsByteStream>(std::move(socket), *context);
  auto handshake = co_await tls->client_handshake("localhost");
  if (!handshake.ok()) throw std::runtime_error(handshake.error().describe());
  co_return tls;
}

struct HttpAnswer {
  int status = 0;
  std::string head;
  std::string body;
};

// Sends one request and reads one answer (Content-Length framed).
asio::awaitable<HttpAnswer> http_exchange(ByteStream& stream, std::string request) {
  ByteView bytes = as_bytes(request);
  auto sent = co_await stream.write(bytes);
  if (!sent.ok()) co_return HttpAnswer{};
  Bytes buffer;
  std::size_t head_length = 0;
  for (;;) {
    auto end = ws::find_head_end(buffer);
    if (end.ok() && end->has_value()) {
      head_length = **end;
      break;
    }
    std::array<std::uint8_t, 4096> chunk{};
    std::span<std::uint8_t> target(chunk);
    auto n = co_await stream.read_some(target);
    if (!n.ok()) co_return HttpAnswer{};
    buffer.insert(buffer.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(*n));
  }
  auto parsed = ws::parse_response_head(ByteView(buffer.data(), head_length));
  HttpAnswer answer;
  answer.status = parsed.ok() ? parsed->status : -1;
  answer.head.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(head_length));
  std::size_t length = 0;
  if (parsed.ok()) {
    if (auto cl = parsed->header("Content-Length")) length = std::stoul(std::string(*cl));
  }
  answer.body.assign(buffer.begin() + static_cast<std::ptrdiff_t>(head_length), buffer.end());
  while (answer.body.size() < length) {
    std::array<std::uint8_t, 4096> chunk{};
    std::span<std::uint8_t> target(chunk);
    auto n = co_await stream.read_some(target);
    if (!n.ok()) break;
    answer.body.append(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(*n));
  }
  co_return answer;
}

std::string without_date(const std::string& head) {
  auto start = head.find("Date: ");
  if (start == std::string::npos) return head;
  return head.substr(0, start) + head.substr(head.find("\r\n", start) + 2);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The client's upgrade request with a chosen cookie (as a Samizdat client sends it).
std::string upgrade_request(const std::string& cookie) {
  ws::UpgradeRequest upgrade;
  upgrade.path = "/";
  upgrade.host_header = "localhost";
  upgrade.origin = "https://localhost";
  upgrade.key = ws::make_client_key();
  auto request = ws::format_upgrade_request(upgrade);
  if (!cookie.empty()) request.insert(request.find("Sec-WebSocket-Key:"), "Cookie: " + cookie + "\r\n");
  return request;
}

TEST(TlsTransport, DeviceKeyDialGetsAnAuthenticatedStreamInsideTls) {
  EchoServer server(tls_server());
  auto device = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
  auto endpoint = server.endpoint();
  auto ok = run<bool>([&](asio::any_io_executor ex) -> asio::awaitable<bool> {
    DialOptions options;
    options.client_static = device;
    auto stream = co_await make_tls_transport()->dial(ex, endpoint, options);
    EXPECT_TRUE(stream.ok()) << stream.error().describe();
    if (!stream.ok()) co_return false;
    EXPECT_EQ((*stream)->peer_static(), endpoint.server_static);
    for (std::size_t size : {1u, 100u, 5000u, 16u * 1024u}) {
      Bytes payload = crypto::random_bytes(size);
      auto written = co_await (*stream)->write_frame(payload);
      if (!written.ok()) co_return false;
      auto echoed = co_await (*stream)->read_frame();
      if (!echoed.ok() || *echoed != payload) co_return false;
    }
    co_return true;
  });
  EXPECT_TRUE(ok);
  ASSERT_TRUE(last_peer(server).has_value());
  EXPECT_EQ(*last_peer(server), device->public_key);
  EXPECT_EQ(server.stats().accepted.load(), 1u);
}

TEST(TlsTransport, AnonymousDialThroughTheRegistryWorks) {
  EchoServer server(tls_server());
  auto endpoint = server.endpoint();
  auto uri = endpoint.to_uri_with_keys();
  ASSERT_EQ(uri.rfind("tls://127.0.0.1:", 0), 0u) << uri;
  auto parsed = parse_endpoint_uri(uri);
  ASSERT_TRUE(parsed.ok());
  auto ok = run<bool>([&](asio::any_io_executor ex) -> asio::awaitable<bool> {
    DialOptions options;
    auto stream = co_await dial(ex, *parsed, options);
    EXPECT_TRUE(stream.ok()) << stream.error().describe();
    if (!stream.ok()) co_return false;
    Bytes payload{1, 2, 3};
    auto written = co_await (*stream)->write_frame(payload);
    auto echoed = co_await (*stream)->read_frame();
    co_return written.ok() && echoed.ok() && *echoed == payload;
  });
  EXPECT_TRUE(ok);
  EXPECT_FALSE(last_peer(server).has_value());
}

TEST(TlsTransport, WrongPskFailsTheDialAndTheServerOnlyShowsItsWebsite) {
  EchoServer server(tls_server());
  auto endpoint = server.endpoint();
  endpoint.psk[0] ^= 1;
  auto code = run<Errc>([&](asio::any_io_executor ex) -> asio::awaitable<Errc> {
    DialOptions options;
    options.timeout = 5s;
    auto stream = co_await make_tls_transport()->dial(ex, endpoint, options);
    co_return stream.ok() ? Errc::internal : stream.error().code;
  });
  EXPECT_EQ(code, Errc::network);
  EXPECT_EQ(server.stats().accepted.load(), 0u);
}

TEST(TlsTransport, VisitorsGetTheCoverSiteWithNginxHeadersAnd404OnOneKeptAliveConnection) {
  EchoServer server(tls_server());
  auto endpoint = server.endpoint();
  auto answers =
      run<std::vector<HttpAnswer>>([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<HttpAnswer>> {
        auto tls = co_await open_tls(ex, endpoint);
        EXPECT_EQ(tls->protocol_version(), "TLSv1.3");
        EXPECT_EQ(tls->alpn(), "http/1.1");
        std::vector<HttpAnswer> out;
        out.push_back(
            co_await http_exchange(*tls, "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n"));
        out.push_back(co_await http_exchange(*tls, "GET /no/such/page HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        out.push_back(co_await http_exchange(*tls, "GET /css/style.css HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        out.push_back(co_await http_exchange(*tls, "GET /notes HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        out.push_back(
            co_await http_exchange(*tls, "GET /../../etc/passwd HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        co_return out;
      });
  ASSERT_EQ(answers.size(), 5u);
  auto site = fs::path(SAMIZDAT_SOURCE_DIR) / "share" / "cover-site";
  EXPECT_EQ(answers[0].status, 200);
  EXPECT_EQ(answers[0].body, read_file(site / "index.html"));
  for (auto header : {"Server: nginx\r\n", "Content-Type: text/html\r\n", "Connection: keep-alive\r\n",
                      "Last-Modified: ", "ETag: \"", "Date: "}) {
    EXPECT_NE(answers[0].head.find(header), std::string::npos) << header << " missing in\n"
                                                               << answers[0].head;
  }
  EXPECT_EQ(answers[1].status, 404);
  EXPECT_NE(answers[1].body.find("<center><h1>404 Not Found</h1></center>"), std::string::npos);
  EXPECT_EQ(answers[2].status, 200);
  EXPECT_NE(answers[2].head.find("Content-Type: text/css\r\n"), std::string::npos);
  EXPECT_EQ(answers[3].status, 301);
  EXPECT_NE(answers[3].head.find("Location: /notes/\r\n"), std::string::npos);
  EXPECT_EQ(answers[4].status, 400);
  EXPECT_EQ(server.stats().accepted.load(), 0u);
}

TEST(TlsTransport, StaleMissingOrForeignTokensGetExactlyTheVisitorAnswer) {
  EchoServer server(tls_server());
  auto endpoint = server.endpoint();
  auto key = tls::derive_token_key(endpoint.psk);
  auto heads =
      run<std::vector<HttpAnswer>>([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<HttpAnswer>> {
        std::vector<HttpAnswer> out;
        // 1: no token at all.
        auto plain = co_await open_tls(ex, endpoint);
        out.push_back(co_await http_exchange(*plain, upgrade_request("")));
        // 2: a token for this session but ten minutes old.
        auto stale = co_await open_tls(ex, endpoint);
        auto exporter = stale->export_keying_material(tls::kExporterLabel, tls::kExporterSize);
        auto old_token = tls::make_token(key, *exporter, unix_millis() / 1000 - 600);
        out.push_back(co_await http_exchange(*stale, upgrade_request("sid=" + old_token)));
        // 3: a fresh token from another TLS session, replayed on a new one.
        auto first = co_await open_tls(ex, endpoint);
        auto first_exporter = first->export_keying_material(tls::kExporterLabel, tls::kExporterSize);
        auto token = tls::make_token(key, *first_exporter, unix_millis() / 1000);
        auto second = co_await open_tls(ex, endpoint);
        out.push_back(co_await http_exchange(*second, upgrade_request("sid=" + token)));
        // 4: garbage in the cookie.
        auto junk = co_await open_tls(ex, endpoint);
        out.push_back(co_await http_exchange(*junk, upgrade_request("sid=" + std::string(43, 'A'))));
        co_return out;
      });
  ASSERT_EQ(heads.size(), 4u);
  EXPECT_EQ(heads[0].status, 200);
  for (std::size_t i = 1; i < heads.size(); ++i) {
    EXPECT_EQ(without_date(heads[i].head), without_date(heads[0].head)) << i;
    EXPECT_EQ(heads[i].body, heads[0].body) << i;
  }
  EXPECT_EQ(server.stats().accepted.load(), 0u);
}

TEST(TlsTransport, NonTlsJunkIsClosedWithoutAnHttpAnswer) {
  EchoServer server(tls_server());
  auto endpoint = server.endpoint();
  for (std::size_t size : {1u, 7u, 50u, 221u, 3000u}) {
    Bytes junk = crypto::random_bytes(size);
    junk[0] = 0x07;  // neither a TLS handshake record nor an HTTP method
    auto received = exchange_raw(endpoint, junk);
    // Nothing, or a TLS alert record: never HTTP, never a handshake.
    if (!received.empty()) EXPECT_EQ(received[0], 0x15) << size;
  }
  EXPECT_EQ(server.stats().accepted.load(), 0u);
}

TEST(TlsTransport, PlainHttpOnTheTlsPortGetsNginxsAnswer) {
  EchoServer server(tls_server());
  auto endpoint = server.endpoint();
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address(endpoint.host), endpoint.port});
  std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  asio::write(socket, asio::buffer(request));
  std::string received;
  std::array<char, 4096> buffer{};
  for (;;) {
    std::error_code ec;
    auto n = socket.read_some(asio::buffer(buffer), ec);
    received.append(buffer.data(), n);
    if (ec) break;
  }
  EXPECT_EQ(received.rfind("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n", 0), 0u) << received;
  EXPECT_NE(received.find("<center>The plain HTTP request was sent to HTTPS port</center>"),
            std::string::npos);
  EXPECT_EQ(server.stats().accepted.load(), 0u);
}

TEST(TlsTransport, CurlSeesAnOrdinaryWebsite) {
  if (std::system("command -v curl > /dev/null 2>&1") != 0) GTEST_SKIP() << "curl is not installed";
  EchoServer server(tls_server());
  auto base = "https://127.0.0.1:" + std::to_string(server.endpoint().port);
  auto capture = [](const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return out;
    char buffer[4096];
    while (auto n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    ::pclose(pipe);
    return out;
  };
  auto index = capture("curl -sk --max-time 10 " + base + "/");
  EXPECT_EQ(index, read_file(fs::path(SAMIZDAT_SOURCE_DIR) / "share" / "cover-site" / "index.html"));
  auto status =
      capture("curl -sk --max-time 10 -o /dev/null -w '%{http_code} %{http_version}' " + base + "/missing");
  EXPECT_EQ(status, "404 1.1");
}

TEST(TlsToken, ValidOnlyForItsKeySessionAndTimeWindow) {
  crypto::ensure_initialized();
  Psk psk{};
  crypto::fill_random(psk);
  auto key = tls::derive_token_key(psk);
  Bytes exporter = crypto::random_bytes(32);
  std::int64_t now = 1'800'000'000;
  auto token = tls::make_token(key, exporter, now);
  EXPECT_EQ(token.size(), 43u);
  EXPECT_TRUE(tls::check_token(key, token, exporter, now).ok());
  EXPECT_TRUE(tls::check_token(key, token, exporter, now + 90).ok());
  EXPECT_EQ(tls::check_token(key, token, exporter, now + 600).error().code, Errc::auth_failed);
  Bytes other_session = crypto::random_bytes(32);
  EXPECT_EQ(tls::check_token(key, token, other_session, now).error().code, Errc::auth_failed);
  Psk other_psk = psk;
  other_psk[5] ^= 0x20;
  EXPECT_EQ(tls::check_token(tls::derive_token_key(other_psk), token, exporter, now).error().code,
            Errc::auth_failed);
  EXPECT_EQ(tls::check_token(key, token.substr(1), exporter, now).error().code, Errc::malformed);
  EXPECT_EQ(tls::check_token(key, std::string(43, '!'), exporter, now).error().code, Errc::malformed);
  EXPECT_EQ(tls::find_cookie("a=1; sid=xyz; b=2", "sid"), "xyz");
  EXPECT_EQ(tls::find_cookie("sidx=1;sid=", "sid"), "");
  EXPECT_FALSE(tls::find_cookie("a=1", "sid").has_value());
}

}  // namespace
}  // namespace samizdat::transport

namespace samizdat::transport {
namespace {

// The parts of a ClientHello that JA3 (and a DPI box) looks at.
struct ClientHelloSummary {
  int version = 0;
  std::vector<int> ciphers, extensions, groups, point_formats, sigalgs;
  std::vector<std::string> alpn;
  std::string sni;
  std::string ja3;
  std::size_t record_size = 0;
};

int u16(ByteView b, std::size_t at) { return (b[at] << 8) | b[at + 1]; }

std::string join(const std::vector<int>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "-" : "") + std::to_string(values[i]);
  return out;
}

// Parses one ClientHello record (bounds-checked by .at(): a malformed hello throws).
ClientHelloSummary summarize(const Bytes& record) {
  ClientHelloSummary s;
  s.record_size = record.size();
  ByteView b = record;
  auto at = [&](std::size_t i) { return static_cast<int>(record.at(i)); };
  std::size_t p = 5 + 4;  // record header, handshake header
  s.version = (at(p) << 8) | at(p + 1);
  p += 2 + 32;
  p += 1 + static_cast<std::size_t>(at(p));  // session id
  std::size_t cipher_bytes = static_cast<std::size_t>((at(p) << 8) | at(p + 1));
  p += 2;
  for (std::size_t i = 0; i < cipher_bytes; i += 2) s.ciphers.push_back(u16(b, p + i));
  p += cipher_bytes;
  p += 1 + static_cast<std::size_t>(at(p));  // compression methods
  std::size_t end = p + 2 + static_cast<std::size_t>((at(p) << 8) | at(p + 1));
  p += 2;
  while (p + 4 <= end) {
    int type = (at(p) << 8) | at(p + 1);
    std::size_t length = static_cast<std::size_t>((at(p + 2) << 8) | at(p + 3));
    std::size_t body = p + 4;
    s.extensions.push_back(type);
    if (type == 10) {
      for (std::size_t i = 2; i < length; i += 2) s.groups.push_back(u16(b, body + i));
    } else if (type == 11) {
      for (std::size_t i = 1; i < length; ++i) s.point_formats.push_back(at(body + i));
    } else if (type == 13) {
      for (std::size_t i = 2; i < length; i += 2) s.sigalgs.push_back(u16(b, body + i));
    } else if (type == 16) {
      for (std::size_t i = 2; i < length;) {
        std::size_t n = static_cast<std::size_t>(at(body + i));
        s.alpn.emplace_back(record.begin() + static_cast<std::ptrdiff_t>(body + i + 1),
                            record.begin() + static_cast<std::ptrdiff_t>(body + i + 1 + n));
        i += 1 + n;
      }
    } else if (type == 0) {
      std::size_t n = static_cast<std::size_t>((at(body + 3) << 8) | at(body + 4));
      s.sni.assign(record.begin() + static_cast<std::ptrdiff_t>(body + 5),
                   record.begin() + static_cast<std::ptrdiff_t>(body + 5 + n));
    }
    p = body + length;
  }
  s.ja3 = std::to_string(s.version) + "," + join(s.ciphers) + "," + join(s.extensions) + "," +
          join(s.groups) + "," + join(s.point_formats);
  return s;
}

// Dials `server_name` at a plain TCP acceptor and returns the first TLS record it sent.
Bytes capture_client_hello(const std::string& host, const std::string& sni) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Endpoint endpoint;
  endpoint.scheme = "tls";
  endpoint.host = host;
  endpoint.sni = sni;
  endpoint.port = acceptor.local_endpoint().port();
  Bytes record;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        record.resize(5);
        co_await asio::async_read(socket, asio::buffer(record), asio::use_awaitable);
        record.resize(5 + static_cast<std::size_t>((record[3] << 8) | record[4]));
        co_await asio::async_read(socket, asio::buffer(record.data() + 5, record.size() - 5),
                                  asio::use_awaitable);
        socket.close();
      },
      samizdat::log_escape("tls_transport_test: a spawned coroutine"));
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        DialOptions options;
        options.timeout = 3s;
        auto stream = co_await make_tls_transport()->dial(io.get_executor(), endpoint, options);
        (void)stream;
      },
      samizdat::log_escape("tls_transport_test: a spawned coroutine"));
  io.run_for(10s);
  return record;
}

TEST(TlsClientHello, OffersChromiumsCipherGroupAndAlpnOrderAndNamesTheSni) {
  crypto::ensure_initialized();
  auto hello = summarize(capture_client_hello("127.0.0.1", "www.example.org"));
  EXPECT_EQ(hello.sni, "www.example.org");
  const std::vector<int> chromium_ciphers = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                                             0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  // OpenSSL appends the renegotiation SCSV (0x00ff) where Chromium sends the extension.
  std::vector<int> ciphers = hello.ciphers;
  std::erase(ciphers, 0x00ff);
  EXPECT_EQ(ciphers, chromium_ciphers);
  EXPECT_EQ(hello.groups, (std::vector<int>{29, 23, 24}));
  EXPECT_EQ(hello.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(hello.sigalgs,
            (std::vector<int>{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}));
  for (int extension : {0, 5, 10, 11, 13, 16, 18, 23, 35, 43, 45, 51}) {
    EXPECT_NE(std::find(hello.extensions.begin(), hello.extensions.end(), extension), hello.extensions.end())
        << "extension " << extension;
  }
  for (int extension : {21, 22}) {
    EXPECT_EQ(std::find(hello.extensions.begin(), hello.extensions.end(), extension), hello.extensions.end())
        << "extension " << extension << " (padding, encrypt_then_mac) is not something Chromium sends";
  }
  unsigned char digest[16];
  unsigned int length = 0;
  EVP_Digest(hello.ja3.data(), hello.ja3.size(), digest, &length, EVP_md5(), nullptr);
  // Recorded in docs/PROTOCOL.md ("tls": ClientHello).
  std::printf("JA3 %s\nJA3 md5 %s\nClientHello record bytes %zu\n", hello.ja3.c_str(),
              hex_encode(ByteView(digest, length)).c_str(), hello.record_size);
}

TEST(TlsClientHello, SendsNoSniForAnIpAddressLikeBrowsers) {
  crypto::ensure_initialized();
  auto hello = summarize(capture_client_hello("127.0.0.1", ""));
  EXPECT_TRUE(hello.sni.empty());
  EXPECT_EQ(std::find(hello.extensions.begin(), hello.extensions.end(), 0), hello.extensions.end());
}

}  // namespace
}  // namespace samizdat::transport

namespace samizdat::transport {
namespace {

// The probe suite against a tls listener: nothing authenticates; plain HTTP gets
// nginx's 400 page, TLS ClientHellos get OpenSSL's answer (a replayed or byte-changed
// Samizdat ClientHello a fresh handshake), and other junk is closed with at most an alert.
TEST(TlsProbes, EveryProbeGetsWhatAnNginxTlsPortGives) {
  EchoServer server(tls_server());
  auto probes = testing::standard_probes();
  probes.push_back({"replay-client-hello", capture_client_hello("127.0.0.1", "www.example.org"), {}});
  probes.push_back({"changed-client-hello", testing::change_one_byte(probes.back().first, 60), {}});
  auto seen = testing::observe_probes(server.endpoint().port, probes, 8s);
  ASSERT_EQ(seen.size(), probes.size());
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const auto& probe = probes[i];
    const auto& observed = seen[i];
    std::uint8_t first = probe.first.empty() ? 0 : probe.first[0];
    SCOPED_TRACE(probe.kind + ": received " + std::to_string(observed.received) + " bytes, " +
                 testing::to_string(observed.end) + " after " + std::to_string(observed.seconds) + " s");
    EXPECT_NE(observed.end, testing::ProbeEnd::refused);
    if (first >= 'A' && first <= 'Z') {
      // Plain HTTP (or random bytes that start like it): nginx's 400 page, then a close.
      EXPECT_GT(observed.received, 300u);
      EXPECT_NE(observed.end, testing::ProbeEnd::open);
    } else if (probe.kind == "replay-client-hello" || probe.kind == "changed-client-hello") {
      // A recorded Samizdat ClientHello (byte 60 is inside its random/session id) starts a
      // fresh TLS handshake like any browser's: ServerHello, certificate, ...
      EXPECT_GT(observed.received, 100u);
    } else if (probe.kind == "tls") {
      // The suite's synthetic hello offers nothing OpenSSL can use: a handshake_failure
      // alert, as nginx sends.
      EXPECT_GE(observed.received, 7u);
    } else if (first == 0x16) {
      // Starts like a handshake record: OpenSSL waits for the rest, then gives up.
      EXPECT_LE(observed.received, 7u);
    } else {
      EXPECT_LE(observed.received, 7u);  // nothing, or one TLS alert record
      EXPECT_NE(observed.end, testing::ProbeEnd::open);
    }
  }
  EXPECT_EQ(server.stats().accepted.load(), 0u);
}

}  // namespace
}  // namespace samizdat::transport
