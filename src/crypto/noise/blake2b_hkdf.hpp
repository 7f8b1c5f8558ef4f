// HMAC-BLAKE2b (RFC 2104 with BLAKE2b-512 and its 128-byte block) and the Noise
// HKDF built on it (spec rev. 34, section 4.3).
#pragma once

#include "crypto/secret.hpp"
#include "util/bytes.hpp"

namespace samizdat::crypto::noise {

// HMAC-BLAKE2b-512; key up to 128 bytes is used as is, longer keys are hashed first.
Secret<64> hmac_blake2b(ByteView key, ByteView data);

struct HkdfOutputs {
  Secret<64> first;
  Secret<64> second;
  Secret<64> third;  // only filled when three outputs are requested
};

// HKDF(chaining_key, input_key_material, num_outputs) with num_outputs 2 or 3.
HkdfOutputs hkdf_blake2b(ByteView chaining_key, ByteView input_key_material, int num_outputs);

}  // namespace samizdat::crypto::noise
