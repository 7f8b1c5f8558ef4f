// A Noise responder (IKpsk2 and NKpsk2, fixed keys) reads arbitrary bytes as the first
// handshake message; when that happens to authenticate it answers, splits and decrypts.
// An IKpsk2 initiator also reads the same bytes as the server's reply. Nothing may crash.
#include <array>
#include <cstddef>
#include <cstdint>

#include "crypto/noise/handshake.hpp"

namespace {

using namespace samizdat;
using namespace samizdat::crypto;
using namespace samizdat::crypto::noise;

// Fixed test keys, so the seed corpus (valid first messages) stays valid.
Secret<32> fixed(std::uint8_t fill) {
  std::array<std::uint8_t, 32> bytes{};
  bytes.fill(fill);
  return Secret<32>(bytes);
}
X25519KeyPair server_static() { return X25519KeyPair::from_secret(fixed(0x11).view()); }
X25519KeyPair client_static() { return X25519KeyPair::from_secret(fixed(0x22).view()); }

HandshakeOptions responder_options(const char* protocol) {
  HandshakeOptions options;
  options.protocol_name = protocol;
  options.role = Role::responder;
  options.prologue = to_bytes("samizdat fuzz");
  options.local_static = server_static();
  options.local_ephemeral = X25519KeyPair::from_secret(fixed(0x44).view());
  options.psks.push_back(fixed(0x33));
  return options;
}

void respond(const char* protocol, samizdat::ByteView message) {
  auto responder = HandshakeState::create(responder_options(protocol));
  if (!responder.ok()) __builtin_trap();
  auto payload = responder->read_message(message);
  if (!payload.ok()) {
    // A failed read leaves a dead handshake behind.
    if (responder->write_message({}).ok() || responder->split().ok()) __builtin_trap();
    return;
  }
  auto reply = responder->write_message(*payload);
  if (!reply.ok() || !responder->is_complete()) __builtin_trap();
  auto keys = responder->split();
  if (!keys.ok()) __builtin_trap();
  (void)keys->receive.decrypt_with_ad({}, message);
  (void)keys->send.encrypt_with_ad({}, *payload);
}

void read_as_reply(samizdat::ByteView message) {
  HandshakeOptions options;
  options.protocol_name = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b";
  options.prologue = to_bytes("samizdat fuzz");
  options.local_static = client_static();
  options.remote_static = server_static().public_key;
  options.local_ephemeral = X25519KeyPair::from_secret(fixed(0x55).view());
  options.psks.push_back(fixed(0x33));
  auto initiator = HandshakeState::create(std::move(options));
  if (!initiator.ok() || !initiator->write_message({}).ok()) __builtin_trap();
  if (initiator->read_message(message).ok() && !initiator->split().ok()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  samizdat::ByteView message(data, size);
  respond("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b", message);
  respond("Noise_NKpsk2_25519_ChaChaPoly_BLAKE2b", message);
  read_as_reply(message);
  return 0;
}
