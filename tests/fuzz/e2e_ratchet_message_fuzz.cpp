// Ratchet Message / PreKeyMessage parsing and a decrypt attempt, as a receiver meets them.
// The receiving session is fixed (a serialized test state), so corpus seeds are real messages
// that decrypt, and the fuzzer explores the skip, ratchet-step and replay paths from there.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "crypto/e2e/ratchet_session.hpp"
#include "util/encoding.hpp"

using namespace samizdat;
using namespace samizdat::crypto;
using namespace samizdat::crypto::e2e;

namespace {

// Bob (identity seed 0x01..., SPK id 1 secret 0x04..., OPK id 2 secret 0x05...) after accepting
// Alice's (seed 0x03...) first message and replying; made by a one-off generator.
constexpr const char* kBobState =
    "535a5253010e8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5ced4928c628d1c2c6eae9"
    "0338905995612959273a5c63f93636c14614ac8737d13314083b45d0493d6df0f63fe0d56a32a464c6b1902451b4be31"
    "3765ad9b00215264fc59bdb57e791538669e1c3189d05b8d83359ec33512e0161ba508d6261fb4d9abcde96c1d451f4e"
    "8df82b9bea8bc937bdf8b1af7825c50939f7e30e546941c42f9621ccb07e3d732602c1bddcc7d12d5fddef7633b2ea0b"
    "a665f27a44606b3040de00aa2e826fa924de0bcc44b3b4f5e52a1a9993fd1fa0c13ab7896a4c896af49f8ec80e9c3b8d"
    "6f6411b46a571c176b4da7f8bd5f5f862d9945a25be80000000100000001000000000000000000000000";

struct Fixture {
  Ed25519KeyPair identity = Ed25519KeyPair::from_seed(Bytes(32, 1));
  SignedPreKey signed_prekey = SignedPreKey::from_parts(1, Bytes(32, 4), Ed25519Signature{});
  OneTimePreKey one_time_prekey = OneTimePreKey::from_parts(2, Bytes(32, 5));
  std::optional<RatchetSession> session;
  Fixture() {
    auto state = RatchetSession::deserialize(hex_decode(kBobState).value());
    if (!state.ok()) __builtin_trap();
    session.emplace(std::move(state).value());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  ByteView input(data, size);
  auto type = peek_message_type(input);
  if (!type.ok()) return 0;
  if (*type == MessageType::message) {
    auto parsed = RatchetMessage::parse(input);
    if (parsed.ok() && parsed->encode() != to_bytes(input)) __builtin_trap();  // one encoding only
  } else {
    auto parsed = PreKeyMessage::parse(input);
    if (!parsed.ok()) return 0;
    if (parsed->encode() != to_bytes(input)) __builtin_trap();
    const OneTimePreKey* opk =
        parsed->x3dh.one_time_prekey_id == fixture.one_time_prekey.id ? &fixture.one_time_prekey : nullptr;
    (void)RatchetSession::accept(fixture.identity, fixture.signed_prekey, opk, *parsed).ok();
  }
  RatchetSession session = fixture.session->clone();
  Bytes before = to_bytes(session.serialize().view());
  auto plaintext = session.decrypt(input);
  if (!plaintext.ok() && to_bytes(session.serialize().view()) != before)
    __builtin_trap();                                                   // no change on failure
  if (plaintext.ok() && session.decrypt(input).ok()) __builtin_trap();  // never twice
  return 0;
}
