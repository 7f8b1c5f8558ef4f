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
    "0338905995612959273a5c63f93636c14614ac8737d18386bab9f18af22d7444304f1042360c7e13ef4eba4ff8d7acad"
    "217749f78871a90e1b420fc2b83e2bfaa96eed1ef1b7c947f9bc914996f50f758cb620b17b4aff7293c16ba70a2d72c8"
    "b34452aa4f5ff5e25788ed7a15734212ed121258c96c3e342748a1ba46159590cabc5fb530cb52bd96d0fb7ec4e4f689"
    "085efc0da13320402e687cb032a752831757c76fa33b2942f9034cc065d233f937ccd53350272f3bb14349d7b6a92696"
    "d88a56645829c9ff08cc8716b6be5dc6cf4cd8084291124779729c835c2e7f635beaad50cd15c5ce51071e93d93ecbdd"
    "a0d0dca978600000000100000001000000000000000000000000";

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
