// Crypto throughput of Samizdat, with the same Double Ratchet operation run through
// libsignal-protocol-c in the same binary for a side-by-side comparison (docs/BENCHMARKS.md).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#if SAMIZDAT_SIGNAL_BASELINE
#include "signal_baseline/signal_session_pair.hpp"
#endif

namespace {

constexpr size_t kMessageSize = 256;

#if SAMIZDAT_SIGNAL_BASELINE
namespace baseline = samizdat::bench::signal_baseline;

baseline::Party other(baseline::Party party) {
  return party == baseline::Party::alice ? baseline::Party::bob : baseline::Party::alice;
}

// One iteration = one 256-byte message encrypted by one side and decrypted by the other,
// wire bytes serialised and parsed. range(0) == 1 alternates the sender every message (each
// message then carries a new ratchet key: a DH ratchet step); 0 keeps Alice sending
// (symmetric chain steps only).
void BM_Libsignal_RatchetEncryptDecrypt256(benchmark::State& state) {
  const bool alternate = state.range(0) != 0;
  baseline::SignalSessionPair pair;
  const std::vector<uint8_t> message(kMessageSize, 0x5a);
  std::vector<uint8_t> received;
  baseline::Party sender = baseline::Party::alice;
  for (auto _ : state) {
    std::vector<uint8_t> wire = pair.encrypt(sender, message);
    if (!pair.decrypt(other(sender), wire, received) || received != message) {
      state.SkipWithError("libsignal-protocol-c failed to round-trip a message");
      break;
    }
    if (alternate) sender = other(sender);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kMessageSize));
}
BENCHMARK(BM_Libsignal_RatchetEncryptDecrypt256)->ArgName("alternate")->Arg(1)->Arg(0);
#endif

}  // namespace

BENCHMARK_MAIN();
