// The real samizdatd binary on a temp directory, driven over 127.0.0.1 by a client built
// from the transport and the session protocol.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <asio/write.hpp>
#include <regex>

#include "crypto/e2e/sender_certificate.hpp"
#include "crypto/secret.hpp"
#include "server_test_support.hpp"
#include "util/clock.hpp"

namespace samizdat::testing {
namespace {

class Samizdatd : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::ensure_initialized();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    server_dir = ServerDir::create(info->name());
    process = run_server(server_dir.dir);
  }
  void TearDown() override {
    if (process) {
      int code = process->stop();
      EXPECT_EQ(code, 0) << process->log();
    }
    // Keep the directory (database, server logs) of a failed test for inspection.
    if (!HasFailure()) fs::remove_all(server_dir.dir.parent_path());
  }
  std::unique_ptr<Client> anonymous() { return Client::connect(server_dir.endpoint); }
  std::unique_ptr<Client> as(const Device& device) {
    return Client::connect(server_dir.endpoint, device.noise);
  }
  // Registers over an anonymous connection and uploads prekeys over an authenticated one.
  void enroll(const Device& device, std::size_t one_time_prekeys = 5) {
    auto reply = anonymous()->register_device(device);
    ASSERT_TRUE(reply.has_device_registered()) << reply.DebugString();
    EXPECT_EQ(reply.device_registered().mailbox(), str(device.mailbox()));
    auto uploaded = as(device)->upload_prekeys(device, 100, one_time_prekeys);
    ASSERT_TRUE(uploaded.has_prekeys_stored()) << uploaded.error().message();
    EXPECT_EQ(uploaded.prekeys_stored().one_time_prekeys_remaining(), one_time_prekeys);
  }

  ServerDir server_dir;
  std::unique_ptr<ServerProcess> process;
};

wire::ClientMessage bundle_request(const Device& device) {
  wire::ClientMessage m;
  m.mutable_fetch_prekey_bundle()->mutable_device()->set_identity_key(str(device.identity.public_key));
  m.mutable_fetch_prekey_bundle()->mutable_device()->set_device_id(device.device_id);
  return m;
}

TEST_F(Samizdatd, HandsOutEachOneTimePrekeyOnceThenBundlesWithoutOne) {
  Device bob;
  enroll(bob, 3);
  auto alice = anonymous();
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 3; ++i) {
    auto reply = alice->request(bundle_request(bob));
    ASSERT_TRUE(reply.has_prekey_bundle()) << reply.error().message();
    const auto& bundle = reply.prekey_bundle();
    EXPECT_EQ(bundle.identity_key(), str(bob.identity.public_key));
    ASSERT_TRUE(bundle.has_one_time_prekey());
    EXPECT_TRUE(seen.insert(bundle.one_time_prekey().id()).second) << "handed out twice";
    crypto::e2e::SignedPreKeyPublic spk;
    spk.id = bundle.signed_prekey().id();
    std::copy_n(bundle.signed_prekey().public_key().begin(), 32, spk.public_key.begin());
    std::copy_n(bundle.signed_prekey().signature().begin(), 64, spk.signature.begin());
    EXPECT_TRUE(crypto::e2e::verify_signed_prekey(bob.identity.public_key, spk).ok());
  }
  auto exhausted = alice->request(bundle_request(bob));
  ASSERT_TRUE(exhausted.has_prekey_bundle());
  EXPECT_FALSE(exhausted.prekey_bundle().has_one_time_prekey());
  // The owner is told how many are left so it tops up.
  auto top_up = as(bob)->upload_prekeys(bob, 200, 2);
  EXPECT_EQ(top_up.prekeys_stored().one_time_prekeys_remaining(), 2u);
  EXPECT_GT(top_up.prekeys_stored().low_watermark(), 0u);
}

TEST_F(Samizdatd, RefusesARegistrationWhoseSignatureDoesNotVerify) {
  Device mallory;
  wire::ClientMessage m;
  auto* r = m.mutable_register_device();
  r->set_identity_key(str(mallory.identity.public_key));
  r->set_device_id(1);
  r->set_noise_static_key(str(mallory.noise->public_key));
  auto signature = crypto::e2e::sign_device_registration(mallory.identity, 2,
                                                         mallory.noise->public_key);  // other device id
  r->set_signature(str(signature));
  auto reply = anonymous()->request(m);
  ASSERT_TRUE(reply.has_error());
  EXPECT_EQ(reply.error().code(), wire::ERROR_AUTH_FAILED);
  EXPECT_NE(reply.error().message().find("signature"), std::string::npos);
}

TEST_F(Samizdatd, MailboxRequestsNeedARegisteredDeviceKey) {
  auto reply = anonymous()->fetch();
  ASSERT_TRUE(reply.has_error());
  EXPECT_EQ(reply.error().code(), wire::ERROR_AUTH_FAILED);
  Device stranger;
  auto unregistered = as(stranger)->fetch();
  ASSERT_TRUE(unregistered.has_error());
  EXPECT_NE(unregistered.error().message().find("not registered"), std::string::npos);
}

TEST_F(Samizdatd, QueuesForAnOfflineMailboxUntilTheRecipientFetchesAndAcks) {
  Device bob;
  enroll(bob);
  auto alice = anonymous();  // sealed sender: the sender stays anonymous
  Bytes first = to_bytes("sealed-1"), second = to_bytes("sealed-2");
  auto accepted = alice->send({{bob.mailbox(), first}});
  ASSERT_TRUE(accepted.has_envelopes_accepted()) << accepted.error().message();
  ASSERT_TRUE(alice->send({{bob.mailbox(), second}}).has_envelopes_accepted());

  auto bob_client = as(bob);
  auto fetched = bob_client->fetch();
  ASSERT_TRUE(fetched.has_envelope_batch()) << fetched.error().message();
  ASSERT_EQ(fetched.envelope_batch().envelopes_size(), 2);
  EXPECT_EQ(fetched.envelope_batch().envelopes(0).sealed(), "sealed-1");
  EXPECT_EQ(fetched.envelope_batch().envelopes(1).sealed(), "sealed-2");
  EXPECT_EQ(fetched.envelope_batch().envelopes(0).id(), accepted.envelopes_accepted().envelope_ids(0));
  EXPECT_FALSE(fetched.envelope_batch().more());

  auto acked = bob_client->ack({fetched.envelope_batch().envelopes(0).id()});
  EXPECT_EQ(acked.envelopes_acked().count(), 1u);
  auto after_ack = bob_client->fetch();
  ASSERT_EQ(after_ack.envelope_batch().envelopes_size(), 1);
  EXPECT_EQ(after_ack.envelope_batch().envelopes(0).sealed(), "sealed-2");
}

TEST_F(Samizdatd, PushesNewEnvelopesToAnOnlineRecipient) {
  Device bob, carol;
  enroll(bob);
  enroll(carol);
  auto bob_client = as(bob);
  auto carol_client = as(carol);
  ASSERT_TRUE(bob_client->fetch().has_envelope_batch());  // online and idle
  auto accepted =
      anonymous()->send({{bob.mailbox(), to_bytes("to bob")}, {carol.mailbox(), to_bytes("to carol")}});
  ASSERT_TRUE(accepted.has_envelopes_accepted()) << accepted.error().message();
  ASSERT_EQ(accepted.envelopes_accepted().envelope_ids_size(), 2);
  for (auto [client, text] :
       {std::pair{bob_client.get(), "to bob"}, std::pair{carol_client.get(), "to carol"}}) {
    auto push = client->next_push(5s);
    ASSERT_TRUE(push.has_value()) << "no push arrived";
    EXPECT_EQ(push->request_id(), 0u);
    ASSERT_EQ(push->envelope_push().envelopes_size(), 1);
    EXPECT_EQ(push->envelope_push().envelopes(0).sealed(), text);
  }
}

TEST_F(Samizdatd, QueuedEnvelopesSurviveARestartWithNoneLostOrDuplicated) {
  Device bob;
  enroll(bob);
  {
    auto alice = anonymous();
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(
          alice->send({{bob.mailbox(), to_bytes("message " + std::to_string(i))}}).has_envelopes_accepted());
    }
  }
  ASSERT_EQ(process->stop(SIGINT), 0) << process->log();
  process->start();
  auto fetched = as(bob)->fetch();
  ASSERT_EQ(fetched.envelope_batch().envelopes_size(), 20);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(fetched.envelope_batch().envelopes(i).sealed(), "message " + std::to_string(i));
  }
}

TEST_F(Samizdatd, RefusesAnOversizedEnvelopeWithAClearError) {
  Device bob;
  enroll(bob);
  auto alice = anonymous();
  auto reply = alice->send({{bob.mailbox(), Bytes(64 * 1024 + 1, 'x')}});
  ASSERT_TRUE(reply.has_error());
  EXPECT_EQ(reply.error().code(), wire::ERROR_LIMIT_EXCEEDED);
  EXPECT_NE(reply.error().message().find("exceeds this server's limit"), std::string::npos)
      << reply.error().message();
  // The connection is still usable afterwards.
  EXPECT_TRUE(alice->send({{bob.mailbox(), Bytes(1000, 'y')}}).has_envelopes_accepted());
  auto unknown = alice->send({{Device().mailbox(), to_bytes("to nobody")}});
  EXPECT_EQ(unknown.error().code(), wire::ERROR_NOT_FOUND);
}

TEST_F(Samizdatd, GarbageFramesAndOversizedMessagesCloseOnlyThatConnection) {
  auto bystander = anonymous();
  {
    auto garbage = anonymous();  // authenticates, then sends a frame that is not a ClientMessage
    Bytes junk = {0x01, 0xff, 0xff, 0xff, 0xff, 0x0f};
    ASSERT_TRUE(garbage->run(garbage->stream().write_frame(junk)).ok());
    EXPECT_TRUE(garbage->closed_by_server(5s));
  }
  {
    auto flooder = anonymous();  // fragments that never end, past the message limit
    Bytes fragment(16 * 1024 - 1, 0x41);
    fragment[0] = 0;  // "more fragments follow"
    bool closed = false;
    for (int i = 0; i < 200 && !closed; ++i) {
      closed = !flooder->run(flooder->stream().write_frame(fragment)).ok();
    }
    EXPECT_TRUE(closed || flooder->closed_by_server(5s));
  }
  {
    // Bytes that are not a handshake at all, straight to the listener: reset, no answer.
    asio::io_context io;
    asio::ip::tcp::socket raw(io);
    raw.connect({asio::ip::make_address(server_dir.endpoint.host), server_dir.endpoint.port});
    Bytes junk = crypto::random_bytes(2000);
    std::error_code ec;
    asio::write(raw, asio::buffer(junk), ec);
    std::array<std::uint8_t, 64> buffer{};
    std::size_t received = 0;
    while (!ec) received += raw.read_some(asio::buffer(buffer), ec);
    EXPECT_EQ(received, 0u);
  }
  wire::ClientMessage ping;
  ping.mutable_ping()->set_nonce(42);
  auto pong = bystander->request(ping);
  EXPECT_EQ(pong.pong().nonce(), 42u);
  EXPECT_NE(process->log().find("closing connection from"), std::string::npos);
}

TEST_F(Samizdatd, IssuesSenderCertificatesThatVerifyUnderTheBootstrapOperatorKey) {
  Device alice;
  enroll(alice);
  wire::ClientMessage m;
  m.mutable_get_sender_certificate();
  auto reply = as(alice)->request(m);
  ASSERT_TRUE(reply.has_sender_certificate()) << reply.error().message();
  auto certificate =
      crypto::e2e::SenderCertificate::parse(as_bytes(reply.sender_certificate().certificate()));
  ASSERT_TRUE(certificate.ok());
  EXPECT_EQ(certificate->sender_identity, alice.identity.public_key);
  EXPECT_TRUE(certificate->verify(server_dir.bootstrap.operator_key, unix_millis()).ok());
}

TEST_F(Samizdatd, TheDatabaseKeepsNoSenderIdentityWithEnvelopes) {
  Device alice, bob;
  enroll(alice);
  enroll(bob);
  // Alice sends over her authenticated connection: the server knows who she is, but
  // must not write it down with the envelope.
  ASSERT_TRUE(as(alice)->send({{bob.mailbox(), to_bytes("opaque")}}).has_envelopes_accepted());
  ASSERT_EQ(process->stop(), 0);
  process.reset();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((server_dir.dir / "samizdat.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  // Find the table holding the ciphertext and check every column of every row.
  std::vector<std::string> tables;
  sqlite3_stmt* list = nullptr;
  sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table'", -1, &list, nullptr);
  while (sqlite3_step(list) == SQLITE_ROW)
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(list, 0)));
  sqlite3_finalize(list);
  std::vector<Bytes> alice_secrets = {to_bytes(alice.identity.public_key), to_bytes(alice.noise->public_key),
                                      to_bytes(alice.mailbox())};
  bool found_envelope = false;
  for (const auto& table : tables) {
    sqlite3_stmt* rows = nullptr;
    sqlite3_prepare_v2(db, ("SELECT * FROM \"" + table + "\"").c_str(), -1, &rows, nullptr);
    while (sqlite3_step(rows) == SQLITE_ROW) {
      bool is_envelope = false;
      std::vector<Bytes> cells;
      for (int c = 0; c < sqlite3_column_count(rows); ++c) {
        auto* blob = static_cast<const std::uint8_t*>(sqlite3_column_blob(rows, c));
        Bytes cell(blob, blob + sqlite3_column_bytes(rows, c));
        if (cell == to_bytes("opaque")) is_envelope = true;
        cells.push_back(std::move(cell));
      }
      if (!is_envelope) continue;
      found_envelope = true;
      for (const auto& cell : cells) {
        for (const auto& secret : alice_secrets) {
          EXPECT_EQ(std::search(cell.begin(), cell.end(), secret.begin(), secret.end()), cell.end())
              << "table " << table << " stores the sender next to the envelope";
        }
      }
    }
    sqlite3_finalize(rows);
  }
  sqlite3_close(db);
  EXPECT_TRUE(found_envelope);
}

TEST(SamizdatdLimits, ARequestFloodIsRefusedWithAClearErrorAndTheConnectionKeepsWorking) {
  crypto::ensure_initialized();
  auto server_dir = ServerDir::create("rate");
  auto config = read_text(server_dir.dir / "config.toml");
  config.replace(config.find("requests_per_second = "), std::string("requests_per_second = 50").size(),
                 "requests_per_second = 1");
  config.replace(config.find("request_burst = "), std::string("request_burst = 200").size(),
                 "request_burst = 3");
  std::ofstream(server_dir.dir / "config.toml") << config;
  auto process = run_server(server_dir.dir);
  auto client = Client::connect(server_dir.endpoint);
  int refused = 0;
  for (int i = 0; i < 8; ++i) {
    wire::ClientMessage ping;
    ping.mutable_ping()->set_nonce(static_cast<std::uint64_t>(i));
    auto reply = client->request(ping);
    if (reply.has_error()) {
      EXPECT_EQ(reply.error().code(), wire::ERROR_LIMIT_EXCEEDED);
      EXPECT_NE(reply.error().message().find("too many requests"), std::string::npos);
      ++refused;
    }
  }
  EXPECT_GE(refused, 4);
  std::this_thread::sleep_for(1100ms);  // one token comes back
  wire::ClientMessage ping;
  ping.mutable_ping()->set_nonce(99);
  EXPECT_EQ(client->request(ping).pong().nonce(), 99u);
  EXPECT_EQ(process->stop(), 0);
  if (!HasFailure()) fs::remove_all(server_dir.dir.parent_path());
}

// ---------------------------------------------------------------------------------
// The command line: clear errors, exit codes.

TEST(SamizdatdCommandLine, InitWritesPrivateKeysACommentedConfigAndABootstrapString) {
  auto base = make_temp_dir("cli-init");
  std::string output;
  ASSERT_EQ(run_program({samizdatd_path(), "init", "--dir", (base / "s").string()}, output, base / "out.log"),
            0)
      << output;
  EXPECT_NE(output.find("samizdat1:"), std::string::npos);
  for (const char* key : {"noise_static.key", "operator.key", "endpoint.psk"}) {
    auto perms = fs::status(base / "s" / "keys" / key).permissions();
    EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none) << key;
  }
  auto config = read_text(base / "s" / "config.toml");
  EXPECT_NE(config.find("# Queued envelopes are deleted unread"), std::string::npos);
  EXPECT_NE(config.find("listen = ['tcp://127.0.0.1:"), std::string::npos) << config;
  EXPECT_EQ(config.find("127.0.0.1:0'"), std::string::npos) << "port 0 must be replaced by the chosen port";
  // A second init on the same directory is refused.
  EXPECT_EQ(run_program({samizdatd_path(), "init", "--dir", (base / "s").string()}, output, base / "out.log"),
            1);
  EXPECT_NE(output.find("not empty"), std::string::npos) << output;
  if (!HasFailure()) fs::remove_all(base);
}

TEST(SamizdatdCommandLine, RunExplainsAMissingDirectoryABadConfigAndAPortInUse) {
  auto base = make_temp_dir("cli-errors");
  std::string output;
  EXPECT_EQ(run_program({samizdatd_path(), "run", "--dir", (base / "nope").string()}, output, base / "1.log"),
            1);
  EXPECT_NE(output.find("samizdatd init"), std::string::npos) << output;

  ASSERT_EQ(run_program({samizdatd_path(), "init", "--dir", (base / "s").string()}, output, base / "2.log"),
            0);
  auto good_config = read_text(base / "s" / "config.toml");
  // The option's value replaced (appending a second one would be a TOML syntax error instead).
  auto with_retention = [&good_config](const std::string& value) {
    return std::regex_replace(good_config, std::regex("retention_days = [0-9]+"),
                              "retention_days = " + value);
  };
  ASSERT_NE(with_retention("X"), good_config);
  std::ofstream(base / "s" / "config.toml") << with_retention("\"forever\"");
  EXPECT_EQ(run_program({samizdatd_path(), "run", "--dir", (base / "s").string()}, output, base / "3.log"),
            1);
  EXPECT_NE(output.find("retention_days"), std::string::npos) << output;
  // A float where an integer belongs is refused, not cast (8e88 has no int64 value).
  std::ofstream(base / "s" / "config.toml") << with_retention("8e88");
  EXPECT_EQ(run_program({samizdatd_path(), "run", "--dir", (base / "s").string()}, output, base / "3b.log"),
            1);
  EXPECT_NE(output.find("'retention_days' must be an integer"), std::string::npos) << output;

  std::ofstream(base / "s" / "config.toml") << good_config;
  asio::io_context io;
  auto endpoint = *reach::parse_bootstrap(read_text(base / "s" / "bootstrap.txt"));
  asio::ip::tcp::acceptor squatter(io, {asio::ip::make_address("127.0.0.1"), endpoint.endpoints[0].port});
  EXPECT_EQ(run_program({samizdatd_path(), "run", "--dir", (base / "s").string()}, output, base / "4.log"),
            1);
  EXPECT_NE(output.find("in use"), std::string::npos) << output;
  if (!HasFailure()) fs::remove_all(base);
}

}  // namespace
}  // namespace samizdat::testing
