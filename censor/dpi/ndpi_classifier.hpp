// nDPI (Debian libndpi 4.2) behind a small interface: one detection module per
// thread, one state machine per flow, fed layer-3 packets in both directions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "util/bytes.hpp"

struct ndpi_detection_module_struct;
struct ndpi_flow_struct;

namespace samizdat::censor {

struct NdpiVerdict {
  std::string protocol = "Unknown";  // e.g. "TLS", "HTTP", "TLS.Google", "Unknown"
  std::string master;                // e.g. "TLS" (empty when none)
  std::string app;                   // e.g. "Google" or the protocol itself
  std::string category;
  std::vector<std::string> risks;  // nDPI flow risks, e.g. "Known Protocol on Non Standard Port"
  bool guessed = false;            // decided by giving up (port-based guess) rather than dissection
};

class NdpiClassifier {
 public:
  NdpiClassifier();
  ~NdpiClassifier();
  NdpiClassifier(const NdpiClassifier&) = delete;
  NdpiClassifier& operator=(const NdpiClassifier&) = delete;

  class Flow {
   public:
    explicit Flow(NdpiClassifier& owner);
    ~Flow();
    Flow(const Flow&) = delete;
    Flow& operator=(const Flow&) = delete;
    // Feeds one IPv4 packet (starting at the IP header); true once nDPI has decided.
    bool feed(ByteView ip_packet, std::uint64_t time_ms);
    // The verdict so far; gives up (with port-based guessing) when not yet decided.
    NdpiVerdict finish();
    [[nodiscard]] bool decided() const { return decided_; }
    [[nodiscard]] int packets() const { return packets_; }

   private:
    NdpiClassifier& owner_;
    ndpi_flow_struct* flow_ = nullptr;
    std::uint16_t master_ = 0, app_ = 0;
    int category_ = 0;
    bool decided_ = false;
    bool finished_ = false;
    int packets_ = 0;
    NdpiVerdict verdict_;
  };

 private:
  NdpiVerdict describe(ndpi_flow_struct* flow, std::uint16_t master, std::uint16_t app, int category);
  ndpi_detection_module_struct* module_ = nullptr;
};

}  // namespace samizdat::censor
