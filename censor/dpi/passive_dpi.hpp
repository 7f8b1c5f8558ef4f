// The censor's passive DPI: an AF_PACKET socket in the censor namespace sees every
// forwarded packet once (at ingress), tracks TCP flows from their SYN, and judges
// each flow's first client payload (fully-encrypted rules, TLS SNI) and its nDPI
// classification. Verdicts become nftables set elements; since nothing here sits in
// the packet path (no NFQUEUE on this kernel), a block lands a few milliseconds after
// the packet that triggered it, like the GFW's and TSPU's own on-path boxes.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "censor/block/firewall.hpp"
#include "censor/dpi/fully_encrypted_rule.hpp"
#include "censor/dpi/ndpi_classifier.hpp"
#include "util/result.hpp"

namespace samizdat::censor {

struct DpiPolicy {
  // Wu et al. 2023: suspects blocked by (server, port, tcp) for block_seconds with this probability.
  bool fully_encrypted = false;
  double block_probability = 0.26;
  int block_seconds = 180;
  BlockAction action = BlockAction::drop;
  // TLS server names (a name or any subdomain of it) whose flows are reset or throttled.
  std::vector<std::string> sni_reset;
  std::vector<std::string> sni_throttle;
  int sni_flow_seconds = 600;
  // nDPI policy: block by protocol name ("Telegram", "Tor", "Unknown"...) or by flow risk name.
  std::vector<std::string> block_protocols;
  std::vector<std::string> block_risks;
  int protocol_block_seconds = 180;
  int ndpi_max_packets = 24;
  // The firewall holds each flow's first data packets until judged (FirewallOptions::
  // hold_until_judged); the DPI must then mark every judged flow.
  bool inline_hold = false;  // give up and take nDPI's guess after this many packets
  std::uint64_t seed = 0;    // 0: random; otherwise a reproducible coin for the probability
};

// One TCP flow as the DPI saw it (for the report).
struct FlowRecord {
  double t_s = 0;  // since the DPI started
  std::string client, server;
  std::uint16_t client_port = 0, server_port = 0;
  std::size_t first_payload_length = 0;
  std::string first_payload_hex;  // first 32 bytes
  FullyEncryptedVerdict fully_encrypted;
  bool fully_encrypted_judged = false;
  bool coin_blocked = false;  // suspect AND the probability coin said block
  std::string sni;
  NdpiVerdict ndpi;
  bool ndpi_done = false;
  std::vector<std::string> actions;  // what the censor did about this flow
};

struct ProbeRequest {
  std::string server;
  std::uint16_t port = 0;
  Bytes first_payload;
};

struct DpiCallbacks {
  // A client opened a TCP connection (SYN seen): escalation learns addresses from this.
  std::function<void(const std::string& client, const std::string& server, std::uint16_t port)> on_connection;
  // A flow was judged "fully encrypted": the prober may follow up.
  std::function<void(const ProbeRequest&)> on_suspect;
  // The DPI added something to the firewall.
  std::function<void(Mechanism, BlockAction, const std::string& target)> on_block;
};

class PassiveDpi {
 public:
  // Starts the capture thread in the censor namespace. `ignore` lists addresses whose flows
  // are not judged (the censor's own service address).
  static Result<std::unique_ptr<PassiveDpi>> start(const std::string& censor_ns, DpiPolicy policy,
                                                   Firewall* firewall, DpiCallbacks callbacks,
                                                   std::vector<std::string> ignore = {});
  ~PassiveDpi();
  void stop();
  // Snapshot of every flow seen so far (finished or not), nDPI verdicts included.
  std::vector<FlowRecord> flows();

 private:
  struct Flow;
  PassiveDpi() = default;
  void capture_loop(int fd);
  void handle(ByteView packet, double now_s);
  void on_first_payload(Flow& flow, ByteView payload);
  void on_ndpi_verdict(Flow& flow);
  void finish_flow(Flow& flow);

  std::string censor_ns_;
  DpiPolicy policy_;
  Firewall* firewall_ = nullptr;
  DpiCallbacks callbacks_;
  std::vector<std::uint32_t> ignore_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::unique_ptr<NdpiClassifier> ndpi_;
  std::mt19937_64 rng_;
  std::mutex mutex_;  // guards records_
  std::vector<FlowRecord> records_;
  std::map<std::string, std::unique_ptr<Flow>> flows_;  // capture thread only
};

// Whether `name` equals `listed` or is a subdomain of it.
bool domain_matches(const std::string& name, const std::string& listed);

}  // namespace samizdat::censor
