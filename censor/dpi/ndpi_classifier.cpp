#include "censor/dpi/ndpi_classifier.hpp"

#include <ndpi/ndpi_api.h>

#include <cstring>
#include <stdexcept>

namespace samizdat::censor {

NdpiClassifier::NdpiClassifier() {
  module_ = ndpi_init_detection_module(ndpi_no_prefs);
  if (module_ == nullptr) throw std::runtime_error("nDPI: ndpi_init_detection_module failed");
  NDPI_PROTOCOL_BITMASK all;
  NDPI_BITMASK_SET_ALL(all);
  ndpi_set_protocol_detection_bitmask2(module_, &all);
  ndpi_finalize_initialization(module_);
}

NdpiClassifier::~NdpiClassifier() {
  if (module_ != nullptr) ndpi_exit_detection_module(module_);
}

NdpiVerdict NdpiClassifier::describe(ndpi_flow_struct* flow, std::uint16_t master, std::uint16_t app,
                                     int category) {
  NdpiVerdict v;
  ndpi_protocol proto{};
  proto.master_protocol = master;
  proto.app_protocol = app;
  proto.category = static_cast<ndpi_protocol_category_t>(category);
  char buffer[128];
  v.protocol = ndpi_protocol2name(module_, proto, buffer, sizeof buffer);
  if (master != NDPI_PROTOCOL_UNKNOWN) v.master = ndpi_get_proto_name(module_, master);
  if (app != NDPI_PROTOCOL_UNKNOWN) v.app = ndpi_get_proto_name(module_, app);
  const char* category_name = ndpi_category_get_name(module_, proto.category);
  v.category = category_name != nullptr ? category_name : "";
  for (int bit = 0; bit < 64; ++bit) {
    if (flow->risk & (ndpi_risk{1} << bit)) {
      const char* name = ndpi_risk2str(static_cast<ndpi_risk_enum>(bit));
      if (name != nullptr) v.risks.emplace_back(name);
    }
  }
  return v;
}

NdpiClassifier::Flow::Flow(NdpiClassifier& owner) : owner_(owner) {
  flow_ = static_cast<ndpi_flow_struct*>(ndpi_flow_malloc(ndpi_detection_get_sizeof_ndpi_flow_struct()));
  if (flow_ == nullptr) throw std::bad_alloc();
  std::memset(flow_, 0, ndpi_detection_get_sizeof_ndpi_flow_struct());
}

NdpiClassifier::Flow::~Flow() {
  if (flow_ != nullptr) ndpi_free_flow(flow_);
}

bool NdpiClassifier::Flow::feed(ByteView ip_packet, std::uint64_t time_ms) {
  if (decided_ || finished_ || ip_packet.empty()) return decided_;
  ++packets_;
  const auto length = static_cast<unsigned short>(std::min<std::size_t>(ip_packet.size(), 65535));
  ndpi_protocol proto =
      ndpi_detection_process_packet(owner_.module_, flow_, ip_packet.data(), length, time_ms);
  if (proto.app_protocol != NDPI_PROTOCOL_UNKNOWN || proto.master_protocol != NDPI_PROTOCOL_UNKNOWN) {
    master_ = proto.master_protocol;
    app_ = proto.app_protocol;
    category_ = proto.category;
    // Keep feeding while nDPI wants more (e.g. the TLS certificate after the hello).
    if (!ndpi_extra_dissection_possible(owner_.module_, flow_)) decided_ = true;
  }
  return decided_;
}

NdpiVerdict NdpiClassifier::Flow::finish() {
  if (finished_) return verdict_;
  finished_ = true;
  if (master_ == NDPI_PROTOCOL_UNKNOWN && app_ == NDPI_PROTOCOL_UNKNOWN) {
    std::uint8_t guessed = 0;
    ndpi_protocol proto = ndpi_detection_giveup(owner_.module_, flow_, 1, &guessed);
    master_ = proto.master_protocol;
    app_ = proto.app_protocol;
    category_ = proto.category;
    verdict_ = owner_.describe(flow_, master_, app_, category_);
    verdict_.guessed = guessed != 0;
  } else {
    verdict_ = owner_.describe(flow_, master_, app_, category_);
  }
  return verdict_;
}

}  // namespace samizdat::censor
