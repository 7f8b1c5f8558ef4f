// The session protocol on a session with no network: arbitrary bytes as one
// ClientMessage, parsed and dispatched by SessionHandler against a real SQLite store
// (temp file) that holds one registered device with prekeys. The first input byte picks
// an anonymous or an authenticated (registered device) session. Must never crash, and
// every input gets exactly one reply.
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>

#include "crypto/e2e/mailbox_id.hpp"
#include "crypto/e2e/prekeys.hpp"
#include "server/session_handler.hpp"
#include "store/sqlite/sqlite_store.hpp"

using namespace samizdat;

namespace {

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<store::SqliteStore> store;
  server::Router router;
  crypto::Ed25519KeyPair certificate_key = crypto::Ed25519KeyPair::from_seed(Bytes(32, 7));
  crypto::Ed25519KeyPair identity = crypto::Ed25519KeyPair::from_seed(Bytes(32, 9));
  crypto::X25519KeyPair device_key = crypto::X25519KeyPair::from_secret(Bytes(32, 11));
  std::unique_ptr<server::ServiceContext> context;

  Fixture() {
    crypto::ensure_initialized();
    dir = std::filesystem::temp_directory_path() / ("samizdat-session-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto opened = store::SqliteStore::open(dir / "fuzz.db");
    if (!opened.ok()) std::abort();
    store = std::move(*opened);
    store::DeviceRecord device;
    device.mailbox = crypto::e2e::mailbox_id(identity.public_key, 1);
    device.identity_key = identity.public_key;
    device.device_id = 1;
    device.noise_static_key = device_key.public_key;
    std::promise<Status> registered;
    store->keys().register_device(device, [&](Status s) { registered.set_value(std::move(s)); });
    if (!registered.get_future().get().ok()) std::abort();
    auto spk = crypto::e2e::SignedPreKey::generate(identity, 1);
    std::promise<Status> stored;
    store->keys().store_signed_prekey(
        device.mailbox, store::SignedPrekey{1, to_bytes(spk.key_pair.public_key), to_bytes(spk.signature)},
        [&](Status s) { stored.set_value(std::move(s)); });
    if (!stored.get_future().get().ok()) std::abort();
    server::SessionLimits limits;
    limits.max_recipients_per_send = 8;
    context = std::make_unique<server::ServiceContext>(
        server::ServiceContext{store->mailboxes(), store->keys(), router, certificate_key, limits});
  }
  ~Fixture() {
    store->close();
    std::filesystem::remove_all(dir);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  if (size == 0) return 0;
  std::optional<crypto::X25519Public> peer;
  if (data[0] & 1) peer = fixture.device_key.public_key;
  asio::io_context io;
  int replies = 0;
  server::SessionHandler handler(*fixture.context, io.get_executor(), peer,
                                 [&](const wire::ServerMessage&) { ++replies; });
  auto guard = asio::make_work_guard(io);
  ByteView message(data + 1, size - 1);
  asio::co_spawn(io, handler.handle(message), [&](std::exception_ptr error, Status) {
    if (error) std::abort();  // handlers must return errors, not throw
    guard.reset();
  });
  io.run();
  if (replies != 1) std::abort();
  return 0;
}
