// Relays: a client reaches the server only through `Relay` (in-process here; the real
// binaries are in tests/integration/relay_test.cpp) and the relay sees only ciphertext.
#include "server/relay/relay.hpp"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <mutex>

#include "reach/bootstrap.hpp"
#include "server/relay/relay_directory.hpp"
#include "server/server.hpp"
#include "server_test_support.hpp"
#include "transport/relay/relay_dial.hpp"
#include "transport/relay/relay_link.hpp"
#include "util/coro.hpp"

namespace samizdat::server {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

transport::Psk random_psk() {
  transport::Psk psk{};
  crypto::fill_random(psk);
  return psk;
}

// Every byte the relay forwarded, for "the relay never sees plaintext" checks.
struct Observed {
  std::mutex mutex;
  Bytes bytes;
  bool contains(ByteView needle) {
    std::lock_guard lock(mutex);
    return std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end()) != bytes.end();
  }
};

// A blocking session-protocol client whose stream comes from dial_via_relay.
class RelayedClient {
 public:
  static Result<std::unique_ptr<RelayedClient>> connect(const transport::Endpoint& relay,
                                                        const transport::Endpoint& upstream,
                                                        std::shared_ptr<const crypto::X25519KeyPair> key) {
    auto client = std::make_unique<RelayedClient>();
    transport::DialOptions options;
    options.client_static = std::move(key);
    options.timeout = 5s;
    auto stream =
        client->run(transport::dial_via_relay(client->io_.get_executor(), relay, upstream, options));
    if (!stream.ok()) return std::move(stream).error();
    client->stream_ = std::move(*stream);
    client->channel_ = std::make_unique<transport::MessageChannel>(*client->stream_, 4 << 20);
    return client;
  }

  wire::ServerMessage request(wire::ClientMessage message) {
    message.set_request_id(next_id_++);
    auto sent = run(channel_->write_message(wire::serialize_message(message)));
    if (!sent.ok()) throw std::runtime_error(sent.error().describe());
    for (;;) {
      auto bytes = run(channel_->read_message());
      if (!bytes.ok()) throw std::runtime_error(bytes.error().describe());
      auto reply = wire::parse_message<wire::ServerMessage>(*bytes, 8 << 20, "reply");
      if (!reply.ok()) throw std::runtime_error(reply.error().describe());
      if (reply->request_id() == message.request_id()) return *reply;
    }
  }

  template <class T>
  T run(asio::awaitable<T> awaitable) {
    std::optional<T> out;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(awaitable)); },
        samizdat::log_escape("relay_test: a spawned coroutine"));
    io_.restart();
    io_.run();
    return std::move(*out);
  }

 private:
  asio::io_context io_;
  std::unique_ptr<transport::FrameStream> stream_;
  std::unique_ptr<transport::MessageChannel> channel_;
  std::uint64_t next_id_ = 1;
};

class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("relay-unit");
    ServerOptions options;
    options.database = dir_ / "server.db";
    options.threads = 1;
    options.noise_static = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
    options.certificate_key = std::make_shared<crypto::Ed25519KeyPair>(crypto::Ed25519KeyPair::generate());
    transport::Endpoint listen;
    listen.host = "127.0.0.1";
    listen.psk = random_psk();
    options.listen.push_back(listen);
    auto server = Server::start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.error().describe();
    server_ = std::move(*server);
    upstream_ = server_->endpoints().at(0);
    start_relay({upstream_});
  }
  void TearDown() override {
    relay_.reset();
    server_.reset();
    fs::remove_all(dir_);
  }

  void start_relay(std::vector<transport::Endpoint> upstream, std::string scheme = "tcp") {
    relay_.reset();
    RelayOptions options;
    options.noise_static = std::make_shared<crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
    transport::Endpoint listen;
    listen.scheme = scheme;
    listen.host = "127.0.0.2";  // another loopback address than the server's
    listen.psk = random_psk();
    options.listen.push_back(listen);
    options.upstream = std::move(upstream);
    options.timeout = 3s;
    options.observe = [this](ByteView payload) {
      std::lock_guard lock(observed_.mutex);
      append(observed_.bytes, payload);
    };
    auto relay = Relay::start(std::move(options));
    ASSERT_TRUE(relay.ok()) << relay.error().describe();
    relay_ = std::move(*relay);
  }
  // As `samizdatd relay --dir DIR --upstream BOOTSTRAP --listen URI` does it: the relay
  // directory supplies the keys, the PSK and (for tls/wss) the certificate and cover site.
  void start_relay_from_directory(const std::string& listen) {
    relay_.reset();
    reach::Bootstrap bootstrap;
    bootstrap.endpoints.push_back(upstream_);
    auto text = reach::encode_bootstrap(bootstrap);
    ASSERT_TRUE(text.ok()) << text.error().describe();
    auto directory = open_relay_directory(dir_ / "relay", *text, {listen});
    ASSERT_TRUE(directory.ok()) << directory.error().describe();
    directory->options.timeout = 3s;
    auto relay = Relay::start(std::move(directory->options));
    ASSERT_TRUE(relay.ok()) << relay.error().describe();
    relay_ = std::move(*relay);
  }
  const transport::Endpoint& relay_endpoint() const { return relay_->endpoints().at(0); }

  fs::path dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Relay> relay_;
  transport::Endpoint upstream_;
  Observed observed_;
};

TEST_F(RelayTest, DevicesRegisterAndExchangeEnvelopesThroughTheRelayWhichSeesNoPlaintext) {
  testing::Device alice, bob;
  // Registration (anonymous NKpsk2) through the relay.
  for (auto* device : {&alice, &bob}) {
    auto anonymous = RelayedClient::connect(relay_endpoint(), upstream_, nullptr);
    ASSERT_TRUE(anonymous.ok()) << anonymous.error().describe();
    wire::ClientMessage m;
    auto* r = m.mutable_register_device();
    r->set_identity_key(testing::str(device->identity.public_key));
    r->set_device_id(device->device_id);
    r->set_noise_static_key(testing::str(device->noise->public_key));
    r->set_signature(
        testing::str(sign_registration(device->identity, device->device_id, device->noise->public_key)));
    ASSERT_TRUE((*anonymous)->request(m).has_device_registered());
  }
  // Bob, as his registered device (IKpsk2 inside the tunnel), sends; Alice fetches.
  const std::string secret = "meet at the old bridge at nine";
  auto bob_client = RelayedClient::connect(relay_endpoint(), upstream_, bob.noise);
  ASSERT_TRUE(bob_client.ok()) << bob_client.error().describe();
  wire::ClientMessage send;
  auto* envelope = send.mutable_send_envelopes()->add_envelopes();
  envelope->set_mailbox(testing::str(alice.mailbox()));
  envelope->set_ciphertext(secret);
  ASSERT_TRUE((*bob_client)->request(send).has_envelopes_accepted());

  auto alice_client = RelayedClient::connect(relay_endpoint(), upstream_, alice.noise);
  ASSERT_TRUE(alice_client.ok()) << alice_client.error().describe();
  wire::ClientMessage fetch;
  fetch.mutable_fetch_envelopes();
  auto batch = (*alice_client)->request(fetch);
  ASSERT_TRUE(batch.has_envelope_batch());
  ASSERT_EQ(batch.envelope_batch().envelopes_size(), 1);
  EXPECT_EQ(batch.envelope_batch().envelopes(0).sealed(), secret);

  EXPECT_GE(relay_->stats().tunnels.load(), 4u);
  EXPECT_GT(observed_.bytes.size(), 1000u);
  EXPECT_FALSE(observed_.contains(as_bytes(secret)));
  // No account is visible either: not the identity keys, not the device keys.
  for (auto* device : {&alice, &bob}) {
    EXPECT_FALSE(observed_.contains(device->identity.public_key));
    EXPECT_FALSE(observed_.contains(device->noise->public_key));
    EXPECT_FALSE(observed_.contains(device->mailbox()));
  }
}

TEST_F(RelayTest, AWrongRelayPskIsRejectedLikeJunk) {
  auto relay = relay_endpoint();
  relay.psk[0] ^= 1;
  auto client = RelayedClient::connect(relay, upstream_, nullptr);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, Errc::network) << client.error().describe();
  EXPECT_EQ(relay_->stats().tunnels.load(), 0u);
}

TEST_F(RelayTest, AWrongUpstreamKeyFailsInsideTheTunnelAndTheServerAnswersNothing) {
  auto upstream = upstream_;
  upstream.psk[3] ^= 1;
  auto client = RelayedClient::connect(relay_endpoint(), upstream, nullptr);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, Errc::network) << client.error().describe();
  // And the right one still works afterwards.
  auto good = RelayedClient::connect(relay_endpoint(), upstream_, nullptr);
  EXPECT_TRUE(good.ok()) << good.error().describe();
}

TEST_F(RelayTest, ARelayWhoseNetworkIsDownSaysSo) {
  auto dead = upstream_;
  dead.port = 1;  // nothing listens there
  start_relay({dead});
  auto client = RelayedClient::connect(relay_endpoint(), upstream_, nullptr);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, Errc::unavailable) << client.error().describe();
  EXPECT_NE(client.error().message.find("cannot reach its network"), std::string::npos);
}

TEST_F(RelayTest, TriesTheNextUpstreamEndpointWhenTheFirstIsDead) {
  auto dead = upstream_;
  dead.port = 1;
  start_relay({dead, upstream_});
  auto client = RelayedClient::connect(relay_endpoint(), upstream_, nullptr);
  EXPECT_TRUE(client.ok()) << client.error().describe();
}

TEST_F(RelayTest, ARelayListeningOnObfsCarriesASession) {
  start_relay({upstream_}, "obfs");
  ASSERT_EQ(relay_endpoint().scheme, "obfs");
  auto client = RelayedClient::connect(relay_endpoint(), upstream_, nullptr);
  ASSERT_TRUE(client.ok()) << client.error().describe();
  wire::ClientMessage ping;
  ping.mutable_ping()->set_nonce(42);
  auto pong = (*client)->request(ping);
  ASSERT_TRUE(pong.has_pong());
  EXPECT_EQ(pong.pong().nonce(), 42u);
}

void expect_ping_through(const transport::Endpoint& relay, const transport::Endpoint& upstream) {
  auto client = RelayedClient::connect(relay, upstream, nullptr);
  ASSERT_TRUE(client.ok()) << client.error().describe();
  wire::ClientMessage ping;
  ping.mutable_ping()->set_nonce(7);
  auto pong = (*client)->request(ping);
  ASSERT_TRUE(pong.has_pong());
  EXPECT_EQ(pong.pong().nonce(), 7u);
}

TEST_F(RelayTest, ARelayDirectoryListeningOnTlsCarriesASessionAndKeepsItsCertificate) {
  start_relay_from_directory("tls://127.0.0.1:0");
  ASSERT_EQ(relay_endpoint().scheme, "tls");
  expect_ping_through(relay_endpoint(), upstream_);
  EXPECT_TRUE(fs::exists(dir_ / "relay" / "keys" / "tls_certificate.pem"));
  EXPECT_EQ(fs::status(dir_ / "relay" / "keys" / "tls_private_key.pem").permissions() & fs::perms::group_read,
            fs::perms::none);
  // A restart presents the same certificate (it is not made anew each start).
  auto before = fs::last_write_time(dir_ / "relay" / "keys" / "tls_certificate.pem");
  start_relay_from_directory("tls://127.0.0.1:0");
  EXPECT_EQ(fs::last_write_time(dir_ / "relay" / "keys" / "tls_certificate.pem"), before);
  expect_ping_through(relay_endpoint(), upstream_);
}

TEST_F(RelayTest, ARelayDirectoryListeningOnWssCarriesASession) {
  start_relay_from_directory("wss://127.0.0.1:0/chat");
  ASSERT_EQ(relay_endpoint().scheme, "wss");
  EXPECT_EQ(relay_endpoint().path, "/chat");
  expect_ping_through(relay_endpoint(), upstream_);
}

TEST(RelayLink, RoundTripsEndpointsAndRefusesDamagedOrForeignText) {
  transport::RelayLink link;
  auto a = transport::parse_endpoint_uri("tcp://127.0.0.2:4000");
  ASSERT_TRUE(a.ok());
  a->psk = random_psk();
  a->server_static = crypto::X25519KeyPair::generate().public_key;
  link.endpoints.push_back(*a);
  auto b = *a;
  b.scheme = "wss";
  b.path = "/secret";
  b.sni = "cdn.example";
  b.host_header = "hidden.example";
  link.endpoints.push_back(b);
  auto text = transport::encode_relay_link(link);
  ASSERT_TRUE(text.ok()) << text.error().describe();
  EXPECT_TRUE(text->starts_with("samizdat-relay1:"));
  auto parsed = transport::parse_relay_link("  " + *text + "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  ASSERT_EQ(parsed->endpoints.size(), 2u);
  EXPECT_EQ(parsed->endpoints[0].to_uri_with_keys(), a->to_uri_with_keys());
  EXPECT_EQ(parsed->endpoints[1].path, "/secret");
  EXPECT_EQ(parsed->endpoints[1].sni, "cdn.example");
  EXPECT_EQ(parsed->endpoints[1].host_header, "hidden.example");

  auto damaged = *text;
  damaged[damaged.size() / 2] = damaged[damaged.size() / 2] == 'A' ? 'B' : 'A';
  auto bad = transport::parse_relay_link(damaged);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("damaged"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(transport::parse_relay_link(text->substr(0, text->size() - 6)).ok());
  auto foreign = transport::parse_relay_link("samizdat1:AAAA");
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("relay link"), std::string::npos);
  EXPECT_FALSE(transport::encode_relay_link(transport::RelayLink{}).ok());
}

}  // namespace
}  // namespace samizdat::server
