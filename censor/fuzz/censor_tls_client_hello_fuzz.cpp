// The DPI reads SNI from whatever a client sends first: arbitrary bytes must never crash it.
#include <cstddef>
#include <cstdint>

#include "censor/dpi/fully_encrypted_rule.hpp"
#include "censor/dpi/tls_client_hello.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  samizdat::ByteView bytes(data, size);
  auto sni = samizdat::censor::parse_client_hello_sni(bytes);
  if (sni.ok() && (sni->empty() || sni->size() > 255)) __builtin_trap();
  (void)samizdat::censor::judge_first_packet(bytes);
  return 0;
}
