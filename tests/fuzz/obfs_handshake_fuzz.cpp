// The obfs listener's handshake parser (and the client's reply parser): arbitrary bytes
// fed the way the listener feeds them, wanted() bytes at a time. The first input byte
// picks the shaping mode (low 2 bits) and, with bit 7 set, fuzzes the client's reading of
// a server reply instead. The server key, PSK and clock are fixed, so the v2-server-*
// seeds in tests/fuzz/corpus/obfs_handshake (complete client handshakes of the current
// format, samizdat/obfs/2) authenticate and mutations reach every step; the older seeds
// (samizdat/obfs/1) stay as inputs. Must never crash, hang or accept without usable keys.
#include <cstdint>
#include <cstdlib>

#include "crypto/keys.hpp"
#include "crypto/secret.hpp"
#include "transport/obfs/obfs_handshake.hpp"

using namespace samizdat;
using namespace samizdat::transport;

namespace {
constexpr std::int64_t kFixedClock = 1'800'000'000'000;  // matches the seeds

const crypto::X25519KeyPair& server_key() {
  static const auto key = [] {
    crypto::ensure_initialized();
    Bytes secret(32, 0x42);
    return crypto::X25519KeyPair::from_secret(secret);
  }();
  return key;
}

const obfs::ObfsSecrets& secrets_for(unsigned mode) {
  static const auto all = [] {
    std::array<obfs::ObfsSecrets, 3> s;
    const char* names[] = {"none", "prefix", "popcount"};
    for (int i = 0; i < 3; ++i) {
      Endpoint endpoint;
      endpoint.scheme = "obfs";
      endpoint.server_static = server_key().public_key;
      endpoint.psk.fill(0x17);
      endpoint.shaping = names[i];
      s[i] = *obfs::derive_obfs_secrets(endpoint);
    }
    return s;
  }();
  return all[mode % 3];
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto& secrets = secrets_for(data[0] & 3);
  Psk psk;
  psk.fill(0x17);
  ByteView input(data + 1, size - 1);
  if (data[0] & 0x80) {
    auto client = obfs::ClientHandshake::start(secrets, server_key().public_key, psk, nullptr, kFixedClock);
    if (!client.ok()) std::abort();
    std::size_t at = 0;
    while (!client->done() && client->wanted() > 0 && at + client->wanted() <= input.size()) {
      auto want = client->wanted();
      if (!client->feed(input.subspan(at, want)).ok()) return 0;
      at += want;
    }
    if (client->done() && !client->take_keys().ok()) std::abort();
    return 0;
  }
  obfs::ServerHandshake server(secrets, server_key(), psk, kFixedClock);
  std::size_t at = 0;
  while (!server.done()) {
    auto want = server.wanted();
    if (want == 0 || at + want > input.size()) return 0;
    if (!server.feed(input.subspan(at, want)).ok()) return 0;
    at += want;
  }
  auto keys = server.take_keys();
  if (!keys.ok() || keys->handshake_hash.size() != 64 || server.reply().size() < obfs::kMinRecord)
    std::abort();
  if (!keys->send.encrypt_with_ad({}, as_bytes("ping")).ok()) std::abort();
  return 0;
}
